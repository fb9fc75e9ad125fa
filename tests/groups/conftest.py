"""A small company and helpers to capture rosters, for the reconciliation tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from common.actors import SystemActor
from company.roles import GROUP_ADMINS, HR
from groups.models import ChatGroup, EligibilityRule
from groups.services.roster import RosterRow, roster_snapshot_create
from members.models import Employee
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory

# Snapshots captured by the tests are stored as the system's, as a command stores them.
SYSTEM = SystemActor("test")


@dataclass
class Company:
    hr_head: Employee
    zhang_wei_production: Employee
    zhang_wei_sales: Employee
    li_na: Employee
    wang_fang: Employee
    departed: Employee
    production_worker: Employee
    office: ChatGroup  # eligible: category 行管; named 部门-姓名 (a house rule)


@pytest.fixture
def company(db) -> Company:
    hr = department_get_or_create_by_path(path="人力资源部")
    production = department_get_or_create_by_path(path="生产部/一车间")
    sales = department_get_or_create_by_path(path="销售部")
    admin = Employee.Category.ADMIN
    people = {
        "hr_head": EmployeeFactory(name="赵敏", department=hr, category=admin, employee_no="JM001"),
        # Same-name colleagues, as every company of this size has.
        "zhang_wei_production": EmployeeFactory(
            name="张伟", department=production, category=admin, employee_no="JM002"
        ),
        "zhang_wei_sales": EmployeeFactory(
            name="张伟", department=sales, category=admin, employee_no="JM003"
        ),
        "li_na": EmployeeFactory(
            name="李娜", department=sales, category=admin, employee_no="JM004", wechat_id="lina88"
        ),
        "wang_fang": EmployeeFactory(
            name="王芳", department=hr, category=admin, employee_no="JM005"
        ),
        "departed": EmployeeFactory(
            name="陈静",
            department=sales,
            category=admin,
            employee_no="JM006",
            wechat_id="chenjing",
            status=Employee.Status.LEFT,
            left_on=dt.date(2026, 3, 1),
        ),
        "production_worker": EmployeeFactory(
            name="刘洋",
            department=production,
            category=Employee.Category.PRODUCTION,
            employee_no="JM007",
        ),
    }
    department_set_head(department=hr, head=people["hr_head"])
    # 部门-姓名, a house rule stricter than §5.3.b (the policy's default is 姓名): it tells
    # the two 张伟 apart, which the tests below rely on.
    office = ChatGroupFactory(
        code="office",
        name="办公群",
        creator=people["hr_head"],
        naming_convention=ChatGroup.NamingConvention.DEPARTMENT_NAME,
    )
    EligibilityRuleFactory(group=office, kind=EligibilityRule.Kind.CATEGORY, category=admin)
    return Company(office=office, **people)


# -- personas (docs/architecture.md): who looks at a group's pages -----------------


@pytest.fixture
def hr_user(seeded):
    """人力资源部: the HR role, every groups.* permission."""
    return UserFactory(username="hr", roles=[HR])


@pytest.fixture
def creator(company):
    """The office group's creator (赵敏) with a login and no role: object permissions only."""
    user = UserFactory(username="zhaomin")
    company.hr_head.user = user
    company.hr_head.save()
    return user


@pytest.fixture
def group_admin(company, seeded):
    """An admin of the office group (§5.2) with the Group admins role (may view employees,
    not departments)."""
    admin = EmployeeFactory(
        name="孙丽",
        department=company.hr_head.department,
        user=UserFactory(username="groupadmin", roles=[GROUP_ADMINS]),
    )
    company.office.admins.add(admin)
    return admin.user


_clock = {"t": timezone.now() - dt.timedelta(days=30)}


def capture(group: ChatGroup, *rows, taken_at: dt.datetime | None = None):
    """Store a snapshot of ``rows``: display names, or (display name, wechat id) pairs."""
    if taken_at is None:
        _clock["t"] += dt.timedelta(hours=1)
        taken_at = _clock["t"]
    parsed = [
        RosterRow(row_number=i + 2, display_name=r, wechat_id="")
        if isinstance(r, str)
        else RosterRow(row_number=i + 2, display_name=r[0], wechat_id=r[1])
        for i, r in enumerate(rows)
    ]
    return roster_snapshot_create(group=group, rows=parsed, taken_at=taken_at, actor=SYSTEM)


# The office group's full, correct roster: every 行管 employee, named 部门-姓名.
def compliant_rows() -> list[str]:
    return ["人力资源部-赵敏", "一车间-张伟", "销售部-张伟", "销售部-李娜", "人力资源部-王芳"]
