"""§5.1/§5.2 default staffing (groups.services.staffing): a group without a creator gets the HR
head, one without admins the few GROUP_DEFAULT_ADMINS names — never all of HR (WeChat lets a
group owner name at most 3 admins, and every admin row weighs on the group list)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.checks import run_checks

from groups.checks import group_default_admins_check, group_default_admins_exist_check
from groups.services import chat_group_assign_default_staff
from groups.services.staffing import (
    ERROR_DEFAULT_ADMINS,
    WECHAT_MAX_ADMINS,
    default_admins_setting,
)
from members.models import Employee
from tests.factories import ChatGroupFactory, EmployeeFactory


@pytest.fixture
def hr_staff(company):
    """Six more HR employees (JM101…JM106), one of them departed: more than WeChat allows."""
    hr = company.hr_head.department
    staff = [
        EmployeeFactory(name=f"人事{i}", department=hr, employee_no=f"JM10{i}") for i in range(1, 7)
    ]
    staff[0].status, staff[0].left_on = Employee.Status.LEFT, dt.date(2026, 3, 1)
    staff[0].save()
    return staff


def _new_group():
    return ChatGroupFactory(code="new", name="新群", creator=None)


def test_a_new_group_gets_the_hr_head_and_the_first_two_active_hr_staff(company, hr_staff):
    group = chat_group_assign_default_staff(group=_new_group())
    assert group.creator == company.hr_head
    # By 工号: 王芳 (JM005), then JM102 — JM101 left; the head is the creator, not an admin.
    assert list(group.admins.order_by("employee_no")) == [company.wang_fang, hr_staff[1]]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_number_of_default_admins_follows_the_setting(settings, company, hr_staff, count):
    settings.GROUP_DEFAULT_ADMINS = str(count)  # as the environment gives it
    group = chat_group_assign_default_staff(group=_new_group())
    assert group.admins.count() == count
    assert company.hr_head not in group.admins.all()


def test_listed_employee_numbers_are_the_admins_in_any_department(settings, company, hr_staff):
    settings.GROUP_DEFAULT_ADMINS = "JM104, JM004"
    group = chat_group_assign_default_staff(group=_new_group())
    assert set(group.admins.all()) == {hr_staff[3], company.li_na}


def test_a_listed_leaver_or_unknown_number_is_skipped(settings, company, hr_staff):
    settings.GROUP_DEFAULT_ADMINS = ["JM101", "JM999", "JM005"]
    group = chat_group_assign_default_staff(group=_new_group())
    assert list(group.admins.all()) == [company.wang_fang]


def test_admins_and_creator_hr_chose_are_kept(company, hr_staff):
    group = ChatGroupFactory(code="kept", creator=company.li_na)
    group.admins.add(company.zhang_wei_sales)
    chat_group_assign_default_staff(group=group)
    group.refresh_from_db()
    assert group.creator == company.li_na
    assert list(group.admins.all()) == [company.zhang_wei_sales]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2), (0, 0), ("3", 3), ("JM1,JM2", ("JM1", "JM2")), (["JM9"], ("JM9",))],
)
def test_good_settings_read(value, expected):
    assert default_admins_setting(value) == expected


@pytest.mark.parametrize(
    "value",
    ["4", 4, -1, True, "", "JM1,JM2,JM3,JM4", "JM1,JM1", "JM1,,JM2", [], [1, 2], 2.5],
)
def test_more_than_wechat_allows_or_a_malformed_value_fails_the_check(settings, value):
    settings.GROUP_DEFAULT_ADMINS = value
    (error,) = [m for m in run_checks() if m.id == "groups.E002"]
    assert error.is_serious()
    assert ERROR_DEFAULT_ADMINS.format(most=WECHAT_MAX_ADMINS) in error.msg
    assert "至多 3 个工号" in error.msg


def test_the_default_setting_passes_the_check(settings):
    assert group_default_admins_check() == []


def test_the_database_check_warns_of_a_number_not_active(settings, company, hr_staff):
    settings.GROUP_DEFAULT_ADMINS = "JM005,JM101,JM999"
    (warning,) = group_default_admins_exist_check(databases=["default"])
    assert warning.id == "groups.W003"
    assert "JM101、JM999" in warning.msg
    assert group_default_admins_exist_check(databases=None) == []  # not at start-up
    settings.GROUP_DEFAULT_ADMINS = "JM005"
    assert group_default_admins_exist_check(databases=["default"]) == []
