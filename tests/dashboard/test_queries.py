"""The 工作台's queries stay flat as the company grows (issue 14.1): the same count at N and
3N rows of everything it counts, for every role — an N+1 fails here, not for a user."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appraisal.models import Period
from appraisal.services.periods import period_get_or_create
from company.roles import COMPANY_LEADERS, FINANCE, HR
from groups.models import Finding, RosterAction, RosterSnapshot
from members.services import department_get_or_create_by_path
from tests.factories import CaseFactory, ChatGroupFactory, EmployeeFactory, UserFactory
from violations.models import Case, Rule

MAX_QUERIES = 45  # the most any role's page takes (measured: see the test's message)
_serial = itertools.count()


@pytest.fixture
def everyone(hr, leader, finance, department_head, group_creator, group_admin):
    """The personas, and one login holding HR's, the leaders' and finance's roles at once."""
    many = UserFactory(username="many", roles=[HR, COMPANY_LEADERS, FINANCE])
    return {
        "hr": hr,
        "leader": leader,
        "finance": finance,
        "head": department_head,
        "creator": group_creator,
        "groupadmin": group_admin,
        "many": many,
    }


def grow(n: int, *, office) -> None:
    """n more of everything the dashboard counts: people in two departments, groups with
    snapshots, open findings and overdue to-dos, cases over the months in every state,
    periods."""
    today = timezone.localdate()
    sales = department_get_or_create_by_path(path="销售部/华东")
    plant = department_get_or_create_by_path(path=f"生产部/车间{next(_serial)}")
    rules = list(Rule.objects.order_by("pk")[:5])
    states = [s for s, _ in Case.State.choices]
    groups = [office, *(ChatGroupFactory() for _ in range(2))]
    for i in range(n):
        k = next(_serial)
        person = EmployeeFactory(department=sales if i % 2 else plant)
        group = groups[i % len(groups)]
        state = states[i % len(states)]
        decided = state not in (Case.State.PROPOSED, Case.State.DISMISSED)
        CaseFactory(
            rule=rules[i % len(rules)],
            employee=person,
            group=group,
            state=state,
            points=1 if decided else None,
            confirmed_at=timezone.now() if decided else None,
            occurred_at=timezone.now() - dt.timedelta(days=31 * (i % 6)),
        )
        finding = Finding.objects.create(
            group=group,
            kind=[Finding.Kind.NOT_REAL_NAME, Finding.Kind.STRANGER][i % 2],
            subject=f"e:{person.pk}:{k}",
            clause="5.3.b",
            severity=Finding.Severity.values[0],
            employee=person,
            display_name=person.name,
        )
        RosterAction.objects.create(
            finding=finding,
            group=group,
            kind=RosterAction.Kind.RENAME,
            assignee=person,
            due_on=today - dt.timedelta(days=1 + i % 3),
        )
        RosterSnapshot.objects.create(
            group=group,
            taken_at=timezone.now() - dt.timedelta(hours=k),
            member_count=10 + i,
            members_with_findings=i % 5,
            reconciled_at=timezone.now(),
        )
    for months_ago in range(n):
        start = (today.replace(day=1) - dt.timedelta(days=31 * (months_ago + 1))).replace(day=1)
        period = period_get_or_create(code=f"{start:%Y-%m}")
        Period.objects.filter(pk=period.pk).update(state=Period.State.LOCKED)


def queries_of(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    assert b'id="dashboard"' in response.content
    return len(queries)


def test_each_roles_page_takes_as_many_queries_at_3n_rows_as_at_n(client, everyone, office):
    grow(3, office=office)
    for user in everyone.values():  # the process's caches (content types guardian asks for)
        queries_of(client, user)
    at_n = {name: queries_of(client, user) for name, user in everyone.items()}
    grow(6, office=office)
    at_3n = {name: queries_of(client, user) for name, user in everyone.items()}
    assert at_3n == at_n
    assert max(at_n.values()) <= MAX_QUERIES, at_n
