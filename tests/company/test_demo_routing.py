"""The demo, days later (issue 12, 3): nobody is charged for what they could not do. Once the
daily task has run past every grace period, each §5.1 case names the creator of its group,
for that creator's own add/remove to-dos; each §5.3.b case from a rename names the member;
HR's identity questions make no case. And the demo shows a house rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.actors import SystemActor
from groups.models import ChatGroup, Finding, RosterAction
from groups.selectors import HOUSE_RULE_LABEL, house_rules
from tests.demo_company import demo_company_rolled_back
from violations.models import Case
from violations.services.roster_cases import roster_actions_handle_overdue

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("task:groups.handle_overdue_roster_actions")


@pytest.fixture(scope="module")
def demo_escalated(django_db_setup, django_db_blocker):
    """The demo company, then the daily task a month later: every open to-do overdue."""
    with (
        django_db_blocker.unblock(),
        demo_company_rolled_back(employees=120, password="routing-demo-pass"),
    ):
        before = set(Case.objects.values_list("pk", flat=True))
        result = roster_actions_handle_overdue(
            today=timezone.localdate() + dt.timedelta(days=30), actor=SYSTEM
        )
        yield {"result": result, "new": Case.objects.exclude(pk__in=before)}


def test_the_demos_to_dos_go_to_each_kind_of_owner(demo_escalated):
    owners = set(RosterAction.objects.values_list("owner", flat=True))
    assert owners == {RosterAction.Owner.CREATOR, RosterAction.Owner.MEMBER, RosterAction.Owner.HR}


def test_every_5_1_case_names_the_creator_who_had_creator_to_dos(demo_escalated):
    cases = list(Case.objects.filter(rule__code="5.1").select_related("group", "employee"))
    assert cases, "the demo's add/remove to-dos, a month overdue, make §5.1 proposals"
    for case in cases:
        assert case.employee_id == case.group.creator_id, case
        _, group_id, assignee_id, due_on = case.source_key.split(":")
        batch = RosterAction.objects.filter(
            group_id=int(group_id), assignee_id=int(assignee_id), due_on=due_on
        )
        assert batch.exists()
        # Only what the creator could have done: adding and removing (§5.1).
        assert set(batch.values_list("owner", flat=True)) == {RosterAction.Owner.CREATOR}
        assert set(batch.values_list("kind", flat=True)) <= {"add", "remove"}


def test_no_case_names_someone_for_hrs_questions(demo_escalated):
    hr_findings = Finding.objects.filter(action__owner=RosterAction.Owner.HR)
    assert hr_findings.exists()
    for finding in hr_findings.select_related("action"):
        assert finding.action.escalated_at is None
        assert not Case.objects.filter(source_key=f"roster-action:{finding.action.pk}").exists()
    # And nothing the HR head could not do lands on them: their cases are their groups' §5.1.
    hr_head = ChatGroup.objects.get(code="management").creator
    for case in Case.objects.filter(employee=hr_head, source=Case.Source.RECONCILIATION):
        assert case.rule.code == "5.1"
        assert case.group.creator_id == hr_head.pk


def test_every_rename_case_names_the_member_who_was_told(demo_escalated):
    """One §5.3.b case per member and due date (renames:<member>:<due>), against a member
    with an active login; a member nobody could tell is counted, and their to-do stays open."""
    for case in Case.objects.filter(source_key__startswith="renames:").select_related(
        "employee__user"
    ):
        _, employee_id, due_on = case.source_key.split(":")
        assert case.rule.code == "5.3.b"
        assert case.employee_id == int(employee_id)
        assert case.employee.user is not None
        assert case.employee.user.is_active
        batch = RosterAction.objects.filter(
            owner=RosterAction.Owner.MEMBER, finding__employee_id=employee_id, due_on=due_on
        )
        assert batch.exists()
        assert not batch.filter(escalated_at__isnull=True).exists()
    untold = RosterAction.objects.filter(
        owner=RosterAction.Owner.MEMBER,
        status=RosterAction.Status.OPEN,
        escalated_at__isnull=True,
        assignee__user__isnull=True,
    )
    assert untold.count() >= demo_escalated["result"].untold_renames > 0
    for action in untold:
        key = f"renames:{action.assignee_id}:{action.due_on.isoformat()}"
        assert not Case.objects.filter(source_key=key).exists()


def test_a_rename_the_demo_proposed_already_is_not_proposed_twice(demo_escalated):
    for employee_id in Case.objects.filter(rule__code="5.3.b").values_list(
        "employee_id", flat=True
    ):
        assert Case.objects.filter(rule__code="5.3.b", employee_id=employee_id).count() == 1


def test_a_house_rule_finding_makes_no_case(demo_escalated):
    group = ChatGroup.objects.get(code="production_sales")
    assert any("部门-姓名" in rule for rule in house_rules(group))
    marked = Finding.objects.filter(
        kind=Finding.Kind.NOT_REAL_NAME, detail__contains=HOUSE_RULE_LABEL
    )
    assert marked.exists()
    for finding in marked.select_related("action"):
        assert not Case.objects.filter(source_key=f"roster-action:{finding.action.pk}").exists()


def test_the_groups_on_the_policy_have_no_house_rule(demo_escalated):
    for code in ("management", "work", "leisure"):
        assert house_rules(ChatGroup.objects.get(code=code)) == [], code
