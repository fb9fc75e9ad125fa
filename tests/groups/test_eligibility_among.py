"""Eligibility of a roster's employees (reconciliation's question): the company's answer,
restricted to them, asked so that it does not hang on fresh planner statistics."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.models import EligibilityRule, MembershipException
from groups.selectors import eligible_employee_ids
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
Kind = EligibilityRule.Kind


@pytest.fixture
def org():
    production = department_get_or_create_by_path(path="生产部")
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    finance = department_get_or_create_by_path(path="财务部")
    people = [
        EmployeeFactory(department=workshop, rank=5, category="admin"),
        EmployeeFactory(department=workshop, rank=1, category="production"),
        EmployeeFactory(department=finance, rank=3, category="admin"),
        EmployeeFactory(department=finance, rank=2, category="production"),
        EmployeeFactory(department=production, rank=6, category="admin", left=True),
        EmployeeFactory(department=production, rank=9, category="admin"),
    ]
    department_set_head(department=finance, head=people[2])
    department_set_head(department=production, head=people[4])  # left: never eligible
    return {"production": production, "people": people}


RULES = {
    "department head": [{"kind": Kind.DEPARTMENT_HEAD}],
    "rank": [{"kind": Kind.MIN_RANK, "min_rank": 5}],
    "department": [{"kind": Kind.DEPARTMENT, "department": "production"}],
    "category": [{"kind": Kind.CATEGORY, "category": "admin"}],
    "everyone": [{"kind": Kind.EVERYONE}],
    "no rule": [],
    "two rules": [{"kind": Kind.DEPARTMENT_HEAD}, {"kind": Kind.MIN_RANK, "min_rank": 6}],
}


def _group(org, rules):
    group = ChatGroupFactory()
    for rule in rules:
        params = dict(rule)
        if params.get("department"):
            params["department"] = org[params["department"]]
        EligibilityRuleFactory(group=group, **params)
    return group


def _except(group, employee, kind):
    MembershipException.objects.create(
        group=group, employee=employee, kind=kind, reason="测试", approved_by=employee
    )


@pytest.mark.parametrize("with_exceptions", [False, True], ids=["rules", "with exceptions"])
@pytest.mark.parametrize("rules", RULES.values(), ids=RULES.keys())
def test_a_rosters_eligibility_is_the_companys_restricted_to_it(org, rules, with_exceptions):
    group = _group(org, rules)
    people = org["people"]
    if with_exceptions:
        _except(group, people[1], MembershipException.Kind.INCLUDE)  # a production worker
        _except(group, people[4], MembershipException.Kind.INCLUDE)  # left: still never
        _except(group, people[5], MembershipException.Kind.EXCLUDE)
    among = [e.pk for e in people[1:]]
    assert eligible_employee_ids(group, among=among) == eligible_employee_ids(group) & set(among)


def test_no_roster_no_one_eligible(org):
    group = _group(org, RULES["everyone"])
    assert eligible_employee_ids(group, among=[]) == set()


def test_a_rosters_employees_are_looked_up_by_primary_key_only(org):
    # The rules are asked in the SELECT list: on a table just bulk-loaded and not analyzed
    # yet, a rule or the status in the WHERE clause made PostgreSQL walk that index over the
    # whole company instead of looking the roster's ids up (docs/performance.md).
    group = _group(org, RULES["two rules"] + RULES["department"])
    among = [e.pk for e in org["people"]]
    with CaptureQueriesContext(connection) as ctx:
        eligible_employee_ids(group, among=among)
    (sql,) = [q["sql"] for q in ctx.captured_queries if 'FROM "members_employee" WHERE' in q["sql"]]
    where = sql.split('FROM "members_employee" WHERE', 1)[1]
    # SQLite: IN (1, 2, …); PostgreSQL: the ids as one array (groups.lookups).
    by_ids = r'"members_employee"\."id" (IN \([\d, ]+\)|= ANY\(\'\{[\d,]+\}\'(::\w+\[\])+\))'
    assert re.fullmatch(rf"\s*{by_ids}\s*", where), where
