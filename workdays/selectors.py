"""Working days: "Monday to Friday work, Saturday and Sunday rest", corrected by the holiday
table (CalendarDay: official holidays and 调休 make-up working days). Every deadline that
counts working days asks here, in the company's time zone (settings.TIME_ZONE, Asia/Shanghai).

The rule of working_days_after, for every clock that says "N working days":
- the deadline is at the same local wall time as the start, on the N-th working day after
  the start's local date (N ≥ 1): a question raised on Thursday 10:00 with one working day
  is due on Friday 10:00;
- a start on a day that is not a working day (a weekend, a holiday) counts from the next
  working day, as if it had been raised then: one working day from Saturday 10:00 is
  Tuesday 10:00 (Monday is the first day the clock runs, Tuesday its end), so whoever must
  answer always has N whole working days, even after a holiday.

The table is read one window at a time (one query covers the span the count is likely to
need; a longer span takes one more query per window), never one query per day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from workdays.models import CalendarDay

SATURDAY = 5  # date.weekday(): Monday is 0
# The longest run of days off a window should cover without a second query: the Spring
# Festival or Golden Week (7–9 days with the weekends around them), with room to spare.
WINDOW_MARGIN_DAYS = 21


def weekday_default(day: date) -> bool:
    """The rule without the table: Monday to Friday work, Saturday and Sunday rest."""
    return day.weekday() < SATURDAY


def working_day_overrides(first: date, last: date) -> dict[date, bool]:
    """The table's rows from ``first`` to ``last`` (inclusive) as {date: is a working day},
    in one query; a day not in the dict follows the weekday/weekend default."""
    rows = CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind")
    return {day: kind == CalendarDay.Kind.WORKDAY for day, kind in rows}


class _Calendar:
    """Answers "is this a working day" for consecutive days, loading the table a window at a
    time as the days move forward."""

    def __init__(self, first: date, span_days: int) -> None:
        self.span_days = max(span_days, 1)
        self.first = first
        self.last = first - timedelta(days=1)  # nothing loaded yet
        self.overrides: dict[date, bool] = {}

    def is_working(self, day: date) -> bool:
        if day < self.first:
            raise ValueError("the calendar only moves forward")
        if day > self.last:
            window_last = day + timedelta(days=self.span_days)
            self.overrides.update(working_day_overrides(self.last + timedelta(days=1), window_last))
            self.last = window_last
        override = self.overrides.get(day)
        return weekday_default(day) if override is None else override


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (one query)."""
    override = working_day_overrides(day, day).get(day)
    return weekday_default(day) if override is None else override


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("working-day clocks take timezone-aware datetimes")
    # The company's zone, whatever zone a request may have activated.
    return timezone.localtime(moment, timezone.get_default_timezone())


def working_days_after(start: datetime, days: int) -> datetime:
    """The same local wall time as ``start`` on the ``days``-th working day after its local
    date; a start on a day off counts from the next working day (module docstring). Aware,
    in the company's time zone; usually one query."""
    if days < 1:
        raise ValueError("days must be at least 1")
    local = _local(start)
    day = local.date()
    calendar = _Calendar(day, 2 * days + WINDOW_MARGIN_DAYS)
    while not calendar.is_working(day):  # a start on a day off: the clock starts later
        day += timedelta(days=1)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_working(day):
            counted += 1
    # zoneinfo resolves the wall time on that day (Asia/Shanghai has no summer time anyway).
    return datetime.combine(day, local.timetz())


def working_days_between(start: datetime, end: datetime) -> int:
    """How many working days lie after ``start``'s local date up to and including ``end``'s
    (0 when ``end`` is on the same day or earlier): "overdue by N working days". One query."""
    first = _local(start).date() + timedelta(days=1)
    last = _local(end).date()
    if last < first:
        return 0
    overrides = working_day_overrides(first, last)
    count = 0
    day = first
    while day <= last:
        override = overrides.get(day)
        count += weekday_default(day) if override is None else override
        day += timedelta(days=1)
    return count
