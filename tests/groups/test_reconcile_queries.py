"""The number of queries of one group's reconciliation does not grow with its members."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.matching import match_members
from groups.models import AccountReport, ChatGroup, EligibilityRule, RosterMember
from groups.services.accounts import account_reports_open_at
from groups.services.runs import run_execute
from members.models import Employee
from members.services import department_get_or_create_by_path
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory
from tests.groups.conftest import SYSTEM, capture
from violations.models import Rule
from violations.services.roster_cases import roster_actions_handle_overdue

pytestmark = pytest.mark.django_db


def _group_with_members(n: int):
    """n members: mostly compliant, with every kind of anomaly in proportion."""
    dept = department_get_or_create_by_path(path=f"生产部/车间{n}")
    creator = EmployeeFactory(department=dept)
    # 部门-姓名 (a house rule): the compliant rows below are named so.
    group = ChatGroupFactory(
        creator=creator, naming_convention=ChatGroup.NamingConvention.DEPARTMENT_NAME
    )
    EligibilityRuleFactory(group=group, kind=EligibilityRule.Kind.CATEGORY, category="admin")
    rows = []
    for i in range(n):
        kind = i % 10
        name = f"员{n:03d}{i:03d}"
        if kind == 0:  # departed
            e = EmployeeFactory(name=name, department=dept, category="admin", left=True)
        elif kind == 1:  # ineligible
            e = EmployeeFactory(name=name, department=dept, category="production")
        else:
            e = EmployeeFactory(
                name=name, department=dept, category="admin", wechat_id=f"wx{n}-{i}"
            )
        if kind == 2:
            rows.append("路人甲" + str(i))  # stranger
        elif kind == 3:
            rows.append((f"{e.name}的昵称", e.wechat_id))  # nickname (NOT_REAL_NAME)
        elif kind == 4:
            continue  # missing
        else:
            rows.append(f"{dept.name}-{e.name}")
    EmployeeFactory(name=f"员{n:03d}000", department=dept, category="admin")  # same name
    return group, rows


def _queries(fn) -> int:
    """The queries ``fn`` runs, without PostgreSQL's ANALYZE of a findings table that doubled
    (common.db.analyze_when_outgrown): a handful while the table fills up, then none."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return sum(not q["sql"].startswith("ANALYZE") for q in ctx.captured_queries)


def _reconcile_twice(n: int) -> tuple[int, int]:
    group, rows = _group_with_members(n)
    first = capture(group, *rows)
    q1 = _queries(lambda: run_execute(snapshot=first))
    second = capture(group, *rows[: len(rows) // 2])  # half fixed, half still there
    q2 = _queries(lambda: run_execute(snapshot=second))
    return q1, q2


def test_reconcile_query_count_does_not_grow_with_members():
    small = _reconcile_twice(50)
    large = _reconcile_twice(500)
    assert large == small, f"50 members: {small} queries, 500 members: {large}"
    # A bound, so that a new query per phase is noticed. Name matching takes up to six of
    # them (identities; WeChat ids; name counts; departments; namesakes there; every namesake
    # of an ambiguous name) so that the rows it reads stay flat as the company grows. One more
    # on PostgreSQL after findings were opened: whether the table outgrew its statistics.
    assert max(small) <= 35 + (connection.vendor == "postgresql"), small


def test_overdue_handling_query_count_does_not_grow_with_actions(seeded):
    # The creators' to-dos: one §5.1 proposal per batch. A §5.3.b case is one proposal per
    # member's rename to-do, a fixed cost each (tests/groups/test_routing.py bounds it).
    Rule.objects.filter(code="5.3.b").update(is_active=False)

    def setup(n):
        group, rows = _group_with_members(n)
        run_execute(snapshot=capture(group, *rows))

    setup(50)
    later = timezone.localdate() + dt.timedelta(days=30)
    few = _queries(lambda: roster_actions_handle_overdue(today=later, actor=SYSTEM))
    setup(500)
    later2 = later + dt.timedelta(days=1)
    many = _queries(lambda: roster_actions_handle_overdue(today=later2, actor=SYSTEM))
    # One case proposal per (group, creator, due date) batch, not per action.
    assert many <= few + 8, (few, many)


def _matched(group, snapshot):
    """The matcher's answer for ``snapshot``, the employees it read, and its queries."""
    members = list(snapshot.members.all())
    with CaptureQueriesContext(connection) as ctx:
        matches, employees, _ = match_members(group, members)
    answer = {pk: (m.employee_id, m.method, m.candidates) for pk, m in matches.items()}
    return answer, set(employees), len(ctx.captured_queries)


def test_namesakes_elsewhere_do_not_grow_the_employees_read_for_a_group():
    # 50,000 employees bring namesakes for most names; a member whose display name says their
    # department ("车间50-员050005") is matched reading that department's namesake only, so
    # the rows read per member stay flat as the company grows (bench/reconcile.py).
    group, rows = _group_with_members(50)
    snapshot = capture(group, *rows)
    answer, read, queries = _matched(group, snapshot)

    elsewhere = department_get_or_create_by_path(path="销售部/华东")
    matched_by_name = Employee.objects.filter(
        pk__in={e for e, method, _ in answer.values() if method == RosterMember.Match.NAME}
    )
    for employee in matched_by_name:
        EmployeeFactory.create_batch(3, name=employee.name, department=elsewhere)
    assert matched_by_name.count() >= 30

    assert _matched(group, snapshot) == (answer, read, queries)


def test_an_ambiguous_member_still_names_every_namesake():
    # Two 员099000 in the department the display name mentions, one elsewhere: nobody can
    # tell, and the finding lists all three, the one elsewhere too (§5.3.b: never a guess).
    group, rows = _group_with_members(99)
    elsewhere = EmployeeFactory(
        name="员099000", department=department_get_or_create_by_path(path="销售部/华北")
    )
    snapshot = capture(group, *rows)
    answer, read, _ = _matched(group, snapshot)
    member = snapshot.members.get(display_name="车间99-员099000")
    employee_id, method, candidates = answer[member.pk]
    assert (employee_id, method) == (None, RosterMember.Match.AMBIGUOUS)
    namesakes = set(Employee.objects.filter(name="员099000").values_list("pk", flat=True))
    assert set(candidates) == namesakes
    assert elsewhere.pk in read


def test_any_of_answers_as_in_with_one_parameter():
    # groups.lookups: the matcher's and eligibility's long lists bound as one array on
    # PostgreSQL; the same rows as ``__in`` for ids and text, empty lists, None and NOT.
    people = EmployeeFactory.create_batch(4)[:3]
    ids = [e.pk for e in people]
    names = [e.name for e in people]
    for values in (ids, set(ids), [], [None], [ids[0], None]):
        assert set(Employee.objects.filter(pk__any_of=values)) == set(
            Employee.objects.filter(pk__in=values)
        )
        assert set(Employee.objects.exclude(pk__any_of=values)) == set(
            Employee.objects.exclude(pk__in=values)
        )
    assert set(Employee.objects.filter(name__any_of=names)) == set(
        Employee.objects.filter(name__in=names)
    )
    # Never truncated to the column's length: a longer text equals no stored one.
    assert not Employee.objects.filter(name__any_of=[names[0] + "x" * 300]).exists()
    with CaptureQueriesContext(connection) as ctx:
        list(Employee.objects.filter(pk__any_of=ids * 100))
    if connection.vendor == "postgresql":
        assert "= ANY(" in ctx.captured_queries[0]["sql"]


def test_account_reports_open_at_binds_a_roster_of_ids_as_one_array():
    # §6.3: a whole roster's WeChat ids are asked about in one query; on PostgreSQL they go
    # as one array (groups.lookups), not a parameter each. Same answers: open reports made
    # by ``at`` of the ids asked, nothing else.
    lina, bo = EmployeeFactory.create_batch(2)
    lost = AccountReport.objects.create(
        employee=lina, wechat_id="lina88", kind=AccountReport.Kind.LOST
    )
    AccountReport.objects.create(
        employee=bo,
        wechat_id="bo66",
        kind=AccountReport.Kind.STOLEN,
        status=AccountReport.Status.CLOSED,
    )
    AccountReport.objects.create(employee=bo, wechat_id="not-asked", kind=AccountReport.Kind.LOST)
    asked = {f"wx{i:04d}" for i in range(500)} | {"lina88", "bo66"}
    later = lost.reported_at + dt.timedelta(minutes=1)
    with CaptureQueriesContext(connection) as ctx:
        assert account_reports_open_at(asked, later) == {"lina88": lost}
    assert len(ctx.captured_queries) == 1
    if connection.vendor == "postgresql":
        assert "= ANY(" in ctx.captured_queries[0]["sql"]
    # Made after the snapshot was taken: not open at that time.
    assert account_reports_open_at(asked, lost.reported_at - dt.timedelta(minutes=1)) == {}
    with CaptureQueriesContext(connection) as ctx:
        assert account_reports_open_at(set(), later) == {}
    assert not ctx.captured_queries
