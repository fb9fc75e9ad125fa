"""A small company for directives and questions: 销售部 (head 郭杰华, the department_head
persona) with two staff, a company leader with an employee record, and the National Day
week of 2026 in the holiday table (Oct 1–7 off, Saturday Oct 10 a 调休 working day)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.actors import SystemActor
from members.services import department_get_or_create_by_path
from tests.factories import EmployeeFactory, UserFactory
from workdays.models import CalendarDay

SYSTEM = SystemActor("test")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware moment of 2026 in the company's zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))  # noqa: DTZ001


@pytest.fixture
def national_day(seeded):
    for day in range(1, 8):
        CalendarDay.objects.update_or_create(
            date=dt.date(2026, 10, day), defaults={"kind": CalendarDay.Kind.HOLIDAY}
        )
    CalendarDay.objects.update_or_create(
        date=dt.date(2026, 10, 10), defaults={"kind": CalendarDay.Kind.WORKDAY}
    )
    CalendarDay.objects.filter(date=dt.date(2026, 9, 30)).delete()  # a plain Wednesday


@pytest.fixture
def sales(department_head):
    return department_get_or_create_by_path(path="销售部")


@pytest.fixture
def staff(sales):
    """Two salespeople with logins (not staff: their own pages only)."""
    return [
        EmployeeFactory(
            name=name, department=sales, user=UserFactory(username=username, is_staff=False)
        )
        for name, username in (("张伟", "zhangwei"), ("刘洋", "liuyang"))
    ]


@pytest.fixture
def boss(leader):
    """The leader persona's employee record: a company leader issues directives (§7.2)."""
    return EmployeeFactory(name="陈总", user=leader)
