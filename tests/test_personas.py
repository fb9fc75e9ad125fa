"""The shared test setup (tests/conftest.py): the personas are who their names say, and every
test starts from the seeded policy."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from company.roles import COMPANY_LEADERS, DEPARTMENT_HEADS, FINANCE, GROUP_ADMINS, HR
from groups.models import ChatGroup
from members.models import Department
from violations.models import Rule


@pytest.mark.parametrize(
    ("persona", "roles"),
    [
        ("hr", [HR]),
        ("hr2", [HR]),
        ("finance", [FINANCE]),
        ("leader", [COMPANY_LEADERS]),
        ("department_head", [DEPARTMENT_HEADS]),
        ("group_admin", [GROUP_ADMINS]),
        ("group_creator", []),
        ("employee", []),
        ("outsider", []),
    ],
)
def test_each_persona_holds_its_role_and_no_other(request, persona, roles):
    user = request.getfixturevalue(persona)
    assert list(user.groups.values_list("name", flat=True)) == roles


def test_the_department_head_heads_sales(department_head):
    assert [d.path for d in department_head.employee.headed_departments.all()] == ["销售部"]


def test_the_group_creator_and_admin_run_the_office_group_alone(group_creator, group_admin, office):
    office.refresh_from_db()
    assert office.creator.user == group_creator
    assert [admin.user for admin in office.admins.all()] == [group_admin]
    for user in (group_creator, group_admin):
        assert user.has_perm("groups.view_chatgroup", office)
        assert not user.has_perm("groups.view_chatgroup", ChatGroup.objects.get(code="work"))


def test_only_the_employee_cannot_open_the_admin(employee, outsider):
    assert not employee.is_staff
    assert employee.employee.name == "李娜"
    assert outsider.is_staff


def test_every_test_starts_from_the_seeded_policy(db):
    assert set(Group.objects.values_list("name", flat=True)) == {
        HR,
        FINANCE,
        COMPANY_LEADERS,
        DEPARTMENT_HEADS,
        GROUP_ADMINS,
    }
    assert ChatGroup.objects.filter(code__in=["management", "work", "leisure"]).count() == 3
    assert Rule.objects.filter(code="9.4").exists()


def test_unseeded_is_the_database_as_the_migrations_leave_it(unseeded):
    assert not Group.objects.exists()
    assert not ChatGroup.objects.exists()
    assert not Department.objects.exists()
    assert not Rule.objects.exists()
