"""The announcements' cast: an author in 销售部 (whose head is the department_head persona),
a second company leader (two steps, two people), and fixed times in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from company.roles import COMPANY_LEADERS
from members.models import Employee
from members.services import department_get_or_create_by_path
from tests.factories import EmployeeFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware time in the company's zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def author(department_head):
    """张伟, 行管 staff of 销售部 (eligible for 俊马工作群), with a staff login."""
    return EmployeeFactory(
        name="张伟",
        department=department_get_or_create_by_path(path="销售部"),
        category=Employee.Category.ADMIN,
        user=UserFactory(username="zhangwei"),
    ).user


@pytest.fixture
def leader2(seeded):
    """A second company leader."""
    return UserFactory(username="leader2", roles=[COMPANY_LEADERS])
