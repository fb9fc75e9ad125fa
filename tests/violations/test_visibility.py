"""Who sees which case (§5.2, §7.1, §9.12) — the selector every page and export uses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from company.roles import COMPANY_LEADERS, FINANCE, HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, login
from violations.models import Case, Rule
from violations.selectors import can_file_case, can_view_evidence, cases_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(seeded):
    production = department_get_or_create_by_path(path="生产部")
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(department=production, user=login("head"))
    department_set_head(department=production, head=head)
    worker = EmployeeFactory(department=workshop, user=login("worker"))
    seller = EmployeeFactory(department=sales, user=login("seller"))
    creator = EmployeeFactory(department=sales, user=login("creator"))
    admin = EmployeeFactory(department=sales, user=login("groupadmin"))
    mine = ChatGroupFactory(creator=creator)
    mine.admins.add(admin)
    other = ChatGroupFactory()
    rule = Rule.objects.get(code="9.3")

    def case(employee, group):
        return Case.objects.create(
            rule=rule, employee=employee, group=group, occurred_at=timezone.now(), description="x"
        )

    cases = {
        "worker_in_other": case(worker, other),  # production subtree, other group
        "seller_in_mine": case(seller, mine),
        "seller_in_other": case(seller, other),
    }
    users = {
        "hr": login("hr", HR),
        "finance": login("finance", FINANCE),
        "leader": login("leader", COMPANY_LEADERS),
        "head": head.user,
        "worker": worker.user,
        "seller": seller.user,
        "creator": creator.user,
        "groupadmin": admin.user,
        "outsider": login("outsider"),
    }
    return {"cases": cases, "users": users, "mine": mine, "other": other}


EXPECTED = {
    "hr": {"worker_in_other", "seller_in_mine", "seller_in_other"},
    "finance": {"worker_in_other", "seller_in_mine", "seller_in_other"},
    "leader": {"worker_in_other", "seller_in_mine", "seller_in_other"},
    "head": {"worker_in_other"},  # §9.12 their department, sub-departments included
    "worker": {"worker_in_other"},  # their own
    "seller": {"seller_in_mine", "seller_in_other"},  # their own
    "creator": {"seller_in_mine"},  # their group's
    "groupadmin": {"seller_in_mine"},  # their group's
    "outsider": set(),
}


@pytest.mark.parametrize(("who", "expected"), EXPECTED.items())
def test_who_sees_which_case(world, who, expected):
    names = {case.pk: name for name, case in world["cases"].items()}
    visible = {names[c.pk] for c in cases_visible_to(world["users"][who])}
    assert visible == expected


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("hr", True),
        ("finance", False),  # appraisal only, never the evidence
        ("leader", False),
        ("groupadmin", True),
        ("seller", True),
        ("head", False),  # not their department's case
        ("outsider", False),
    ],
)
def test_who_sees_the_evidence_of_a_case(world, who, allowed):
    case = world["cases"]["seller_in_mine"]
    assert can_view_evidence(world["users"][who], case) is allowed


@pytest.mark.parametrize(
    ("who", "group", "allowed"),
    [
        ("hr", "other", True),
        ("creator", "mine", True),
        ("groupadmin", "mine", True),
        ("groupadmin", "other", False),
        ("finance", "mine", False),
        ("seller", "mine", False),
    ],
)
def test_who_files_cases_for_which_group(world, who, group, allowed):
    assert can_file_case(world["users"][who], world[group]) is allowed


def test_visibility_costs_a_few_queries_whatever_the_number_of_cases(
    world, django_assert_max_num_queries
):
    user = world["users"]["head"]
    user = type(user).objects.get(pk=user.pk)
    with django_assert_max_num_queries(8):
        list(cases_visible_to(user))


def test_finance_sees_the_evidence_of_their_own_case(world):
    """Seeing every case for the appraisal does not take away what a role on this case gives."""
    seller = world["users"]["seller"]
    seller.groups.add(Group.objects.get(name=FINANCE))
    seller = type(seller).objects.get(pk=seller.pk)
    assert can_view_evidence(seller, world["cases"]["seller_in_mine"]) is True
    assert can_view_evidence(seller, world["cases"]["worker_in_other"]) is False
