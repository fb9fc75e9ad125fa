"""The holiday table and the working-day clocks (2026: National Day 10-01..10-07, Thursday to
Wednesday, with the make-up working days Sunday 09-20 and Saturday 10-10)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.actors import SystemActor
from workdays.models import CalendarDay
from workdays.selectors import is_working_day, working_days_after, working_days_between
from workdays.services import (
    ERROR_SEED_FORBIDDEN,
    WorkdaysError,
    calendar_seed,
    calendar_year_known,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = SystemActor("test")
NATIONAL_DAY = date(2026, 10, 1)  # a Thursday
MAKE_UP_SATURDAY = date(2026, 10, 10)
MAKE_UP_SUNDAY = date(2026, 9, 20)
ORDINARY_SATURDAY = date(2026, 11, 7)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def calendar_2026(seeded) -> None:
    """2026 from the package, whatever the session's seed wrote for the current year."""
    CalendarDay.objects.all().delete()
    calendar_seed(years=[2026], actor=SEED)


def test_national_day_on_a_weekday_is_a_holiday(calendar_2026):
    assert not is_working_day(NATIONAL_DAY)
    row = CalendarDay.objects.get(date=NATIONAL_DAY)
    assert (row.kind, row.name, row.source) == ("holiday", "国庆节", "seeded")


def test_make_up_saturday_and_sunday_are_working_days(calendar_2026):
    assert is_working_day(MAKE_UP_SATURDAY)
    assert is_working_day(MAKE_UP_SUNDAY)
    assert CalendarDay.objects.get(date=MAKE_UP_SATURDAY).get_kind_display() == "调休上班"


def test_an_ordinary_weekend_rests_and_a_weekday_works_without_any_row(calendar_2026):
    assert not CalendarDay.objects.filter(date=ORDINARY_SATURDAY).exists()
    assert not is_working_day(ORDINARY_SATURDAY)
    assert not is_working_day(ORDINARY_SATURDAY + timedelta(days=1))
    assert is_working_day(ORDINARY_SATURDAY + timedelta(days=2))


def test_only_the_days_that_differ_from_the_default_are_rows(calendar_2026):
    # 10-03 and 10-04 are a weekend inside Golden Week: resting anyway, no row needed.
    assert not CalendarDay.objects.filter(date__in=[date(2026, 10, 3), date(2026, 10, 4)]).exists()
    for row in CalendarDay.objects.all():
        assert (row.date.weekday() < 5) == (row.kind == CalendarDay.Kind.HOLIDAY)


def test_seed_is_idempotent(calendar_2026):
    count, history = CalendarDay.objects.count(), CalendarDay.history.count()
    assert count > 20
    assert calendar_seed(years=[2026], actor=SEED) == 0
    assert CalendarDay.objects.count() == count
    assert CalendarDay.history.count() == history  # nothing written, not even history


def test_seed_never_overwrites_what_hr_entered(seeded):
    CalendarDay.objects.all().delete()
    # The company decided to rest on the make-up Saturday after all.
    CalendarDay.objects.create(
        date=MAKE_UP_SATURDAY, kind="holiday", name="公司调整", source=CalendarDay.Source.HR
    )
    assert calendar_seed(years=[2026], actor=SEED) > 0
    row = CalendarDay.objects.get(date=MAKE_UP_SATURDAY)
    assert (row.kind, row.name, row.source) == ("holiday", "公司调整", "hr")
    assert not is_working_day(MAKE_UP_SATURDAY)


def test_seed_corrects_a_seeded_row_the_package_now_describes_differently(calendar_2026):
    CalendarDay.objects.filter(date=NATIONAL_DAY).update(kind="workday", name="旧数据")
    assert calendar_seed(years=[2026], actor=SEED) == 1
    assert CalendarDay.objects.get(date=NATIONAL_DAY).name == "国庆节"


def test_a_year_the_package_does_not_know_is_skipped_with_a_note(seeded, caplog):
    assert not calendar_year_known(2099)
    assert calendar_year_known(2026)
    before = CalendarDay.objects.count()
    with caplog.at_level(logging.WARNING, logger="workdays.services"):
        assert calendar_seed(years=[2099], actor=SEED) == 0
    assert CalendarDay.objects.count() == before
    assert "2099 年" in caplog.text
    assert "已跳过" in caplog.text


def test_seed_in_one_read_and_bulk_writes(seeded, django_assert_max_num_queries):
    CalendarDay.objects.all().delete()
    with django_assert_max_num_queries(6):  # savepoint, read, insert, history insert (+ release)
        assert calendar_seed(years=[2025, 2026], actor=SEED) > 40


def test_hr_may_seed_and_others_may_not(hr, employee, outsider):
    CalendarDay.objects.all().delete()
    for person in (employee, outsider):
        with pytest.raises(WorkdaysError, match=ERROR_SEED_FORBIDDEN):
            calendar_seed(years=[2026], actor=person)
    assert not CalendarDay.objects.exists()
    assert calendar_seed(years=[2026], actor=hr) > 0
    assert CalendarDay.history.filter(history_user=hr).exists()


# --- working_days_after: the same wall time on the N-th working day -----------------------


def test_one_working_day_on_an_ordinary_week():
    assert working_days_after(at(date(2026, 11, 5)), 1) == at(date(2026, 11, 6))  # Thu → Fri


def test_friday_plus_one_is_monday(seeded):
    assert working_days_after(at(date(2026, 11, 6), 17), 1) == at(date(2026, 11, 9), 17)


def test_golden_week_is_skipped(calendar_2026):
    eve = at(date(2026, 9, 30))  # Wednesday before the holiday
    assert working_days_after(eve, 1) == at(date(2026, 10, 8))
    assert working_days_after(eve, 2) == at(date(2026, 10, 9))
    # The make-up Saturday counts.
    assert working_days_after(eve, 3) == at(MAKE_UP_SATURDAY)
    assert working_days_after(eve, 4) == at(date(2026, 10, 12))


def test_friday_before_a_make_up_saturday_is_due_on_that_saturday(calendar_2026):
    assert working_days_after(at(date(2026, 10, 9), 16), 1) == at(MAKE_UP_SATURDAY, 16)


def test_a_start_on_a_day_off_counts_from_the_next_working_day(calendar_2026):
    # Raised on a holiday: the clock runs from Thursday 10-08, so one working day ends Friday.
    assert working_days_after(at(date(2026, 10, 3)), 1) == at(date(2026, 10, 9))
    # Raised on an ordinary Saturday: Monday is the first day, Tuesday its end.
    assert working_days_after(at(ORDINARY_SATURDAY), 1) == at(date(2026, 11, 10))


def test_the_wall_time_is_shanghai_whatever_zone_the_start_is_in(calendar_2026):
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    due = working_days_after(start, 1)
    assert due == at(date(2026, 10, 8))
    assert due.utcoffset() == timedelta(hours=8)


def test_late_evening_utc_start_counts_from_the_shanghai_date(calendar_2026):
    # 2026-10-08 18:00 UTC is already Friday 10-09 02:00 in Shanghai.
    start = datetime(2026, 10, 8, 18, 0, tzinfo=UTC)
    assert working_days_after(start, 1) == at(MAKE_UP_SATURDAY, 2)


def test_clocks_refuse_naive_datetimes_and_zero_days():
    with pytest.raises(ValueError, match="timezone-aware"):
        working_days_after(datetime(2026, 10, 1, 10), 1)  # noqa: DTZ001 — the refused input
    with pytest.raises(ValueError, match="at least 1"):
        working_days_after(at(date(2026, 10, 1)), 0)


def test_working_days_between_across_golden_week(calendar_2026):
    eve = at(date(2026, 9, 30))
    assert working_days_between(eve, at(date(2026, 10, 7))) == 0
    assert working_days_between(eve, at(date(2026, 10, 10))) == 3
    assert working_days_between(eve, eve) == 0
    assert working_days_between(at(date(2026, 10, 12)), eve) == 0
    for days in (1, 3, 5):
        assert working_days_between(eve, working_days_after(eve, days)) == days


def test_clocks_read_the_table_in_one_query(calendar_2026, django_assert_num_queries):
    eve = at(date(2026, 9, 30))
    with django_assert_num_queries(1):
        working_days_after(eve, 1)
    with django_assert_num_queries(1):
        working_days_after(eve, 30)
    with django_assert_num_queries(1):
        working_days_between(eve, at(date(2026, 12, 31)))


def test_a_very_long_run_of_days_off_takes_one_more_query_per_window(
    seeded, django_assert_max_num_queries
):
    CalendarDay.objects.all().delete()
    CalendarDay.objects.bulk_create(
        CalendarDay(date=date(2026, 1, 1) + timedelta(days=n), kind="holiday") for n in range(60)
    )
    with django_assert_max_num_queries(3):
        assert working_days_after(at(date(2026, 1, 1)), 1) == at(date(2026, 3, 3))
