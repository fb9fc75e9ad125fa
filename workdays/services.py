"""Writes to the holiday table: its seed from the maintained ``chinesecalendar`` package.

The State Council publishes each year's holidays and 调休 make-up working days late in the
year before; the package's maintainers add them in a release (upgrade the pin, run
seed_policy again). Typing them by hand is what this avoids. HR's own rows always win.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from importlib.metadata import version

import chinese_calendar
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from common.actors import Actor, actor_may, actor_user
from common.exceptions import ServiceError
from workdays.models import CalendarDay
from workdays.selectors import weekday_default

logger = logging.getLogger(__name__)

ERROR_SEED_FORBIDDEN = "只有人力资源部可以导入节假日与调休安排。"
NOTE_YEAR_UNKNOWN = (
    "chinesecalendar {version} 还没有 {year} 年的节假日安排（国务院通常在上一年年底公布）："
    "已跳过，该年按周一至周五上班计算；升级 chinesecalendar 后重新运行 seed_policy，"
    "或由人力资源部在后台录入。"
)
# The package names holidays in English; HR reads Chinese (its own Holiday enum has both).
HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


class WorkdaysError(ServiceError):
    """A refused change to the holiday table."""


def calendar_year_known(year: int) -> bool:
    """Whether the installed chinesecalendar has the official arrangement for ``year`` (it
    raises NotImplementedError for any date of a year it does not know)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _package_exceptions(year: int) -> dict[date, tuple[str, str]]:
    """{date: (kind, name)} for the days of ``year`` the package says differ from the
    weekday/weekend default: holidays on weekdays, make-up working days on weekends."""
    days: dict[date, tuple[str, str]] = {}
    for day, name in chinese_calendar.holidays.items():
        if day.year == year and weekday_default(day):
            days[day] = (CalendarDay.Kind.HOLIDAY, HOLIDAY_NAMES.get(name, name or ""))
    for day, name in chinese_calendar.workdays.items():
        if day.year == year and not weekday_default(day):
            days[day] = (CalendarDay.Kind.WORKDAY, HOLIDAY_NAMES.get(name, name or ""))
    return days


@transaction.atomic
def calendar_seed(*, years: Iterable[int], actor: Actor) -> int:
    """Write the official holidays and 调休 working days of ``years`` into the table and
    return how many rows were created or corrected.

    Guarantees: idempotent (a second run writes nothing); a row HR entered (source HR) is
    never overwritten; a seeded row the package now describes differently is corrected (a
    newer package release); a year the package does not know is skipped and logged
    (NOTE_YEAR_UNKNOWN), its days following the weekday/weekend default. One read of the
    table, then one bulk insert and one bulk update, each with its history rows.
    """
    if not actor_may(actor, "workdays.add_calendarday"):
        raise WorkdaysError(ERROR_SEED_FORBIDDEN)
    wanted: dict[date, tuple[str, str]] = {}
    for year in sorted(set(years)):
        if calendar_year_known(year):
            wanted.update(_package_exceptions(year))
        else:
            logger.warning(NOTE_YEAR_UNKNOWN.format(version=version("chinesecalendar"), year=year))
    if not wanted:
        return 0
    existing = {row.date: row for row in CalendarDay.objects.filter(date__in=list(wanted))}
    created: list[CalendarDay] = []
    changed: list[CalendarDay] = []
    for day, (kind, name) in sorted(wanted.items()):
        row = existing.get(day)
        if row is None:
            created.append(
                CalendarDay(date=day, kind=kind, name=name, source=CalendarDay.Source.SEEDED)
            )
        elif row.source == CalendarDay.Source.SEEDED and (row.kind, row.name) != (kind, name):
            row.kind, row.name = kind, name
            changed.append(row)
    user = actor_user(actor)
    if created:
        bulk_create_with_history(created, CalendarDay, default_user=user)
    if changed:
        bulk_update_with_history(changed, CalendarDay, ["kind", "name"], default_user=user)
    return len(created) + len(changed)
