"""The demo's cases: every state of §7.1, escalation, joint liability, four eyes, run once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from company import roles
from company.demo.case_people import DEMO_HR_USERNAMES
from groups.models import Finding, RosterAction
from groups.selectors import HOUSE_RULE_LABEL
from violations.models import Case, CaseTransition, sanction_one_up

pytestmark = pytest.mark.django_db
State = Case.State
CENT = Decimal("0.01")
PASSWORD = "demo-pass-123"


def run_demo(seed: int = 3) -> str:
    out = StringIO()
    call_command("demo", "--employees", "300", "--seed", str(seed), stdout=out)
    return out.getvalue()


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)


@pytest.fixture
def demo(no_password) -> str:
    return run_demo()


def test_a_rename_case_is_made_only_past_the_to_dos_due_date_and_grace(demo):
    """§5.3.b "提醒后仍未改正": the demo's rename case lies after its to-do's due date and the
    grace period (as violations.services.roster_cases would propose it), for a member who
    could be told (a login), and the to-do is marked escalated (never proposed twice)."""
    grace = dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS)
    today = timezone.localdate()
    cases = Case.objects.filter(rule__code="5.3.b", source_key__startswith="demo:finding:")
    assert cases.exists()
    for case in cases.select_related("employee__user"):
        finding = Finding.objects.get(pk=int(case.source_key.rsplit(":", 1)[1]))
        action = RosterAction.objects.get(finding=finding, owner=RosterAction.Owner.MEMBER)
        assert action.due_on + grace < today, (action.due_on, today)
        assert action.created_at.date() <= action.due_on
        assert action.escalated_at is not None
        assert action.reminder_count >= 1
        assert case.employee.user is not None
        assert case.employee.user.is_active
        assert HOUSE_RULE_LABEL not in finding.detail


def test_every_state_is_present(demo):
    assert set(Case.objects.values_list("state", flat=True)) == set(State.values)


def test_proposals_come_from_reconciliation_and_from_a_group_admin(demo):
    proposed = Case.objects.filter(state=State.PROPOSED)
    assert proposed.filter(source=Case.Source.RECONCILIATION).exists()
    filed = proposed.filter(source=Case.Source.MANUAL).select_related("reported_by__employee")
    assert filed.exists()
    for case in filed:
        assert case.group.admins.filter(pk=case.reported_by.employee.pk).exists()  # §5.2


def test_a_joint_case_makes_the_offenders_department_head_answer(demo):
    joint = Case.objects.filter(joint_of__isnull=False).select_related(
        "joint_of__employee__department", "rule"
    )
    assert joint.filter(state=State.CONFIRMED).exists()
    for case in joint:
        assert case.source == Case.Source.JOINT
        assert case.employee_id == case.joint_of.employee.department.head_id
        assert case.employee_id != case.joint_of.employee_id
        assert case.points == (case.joint_of.points * case.rule.head_share).quantize(CENT)


def test_an_overturned_case_overturns_its_joint_case(demo):
    overturned = Case.objects.filter(state=State.OVERTURNED, joint_of__isnull=True)
    assert overturned.exists()
    for case in overturned:
        assert {j.state for j in case.joint_cases.all()} <= {State.OVERTURNED}


def test_a_repeat_offence_counts_times_the_factor_and_escalates(demo):
    repeats = Case.objects.filter(offence_number__gte=2).select_related("rule")
    assert repeats.exists()
    for case in repeats:
        rule = case.rule
        expected = (rule.default_points * rule.repeat_points_factor).quantize(CENT, ROUND_HALF_UP)
        assert case.points == expected
    escalated = [c for c in repeats if c.offence_number >= c.rule.repeat_escalate_at]
    assert escalated
    assert all(c.sanction == sanction_one_up(c.rule.sanction) for c in escalated)


def test_four_eyes_hold_for_every_decision(demo):
    for case in Case.objects.filter(confirmed_by__isnull=False):
        assert case.confirmed_by_id != case.reported_by_id
    for case in Case.objects.filter(reported_by__isnull=False, state=State.DISMISSED):
        dismissal = case.transitions.get(to_state=State.DISMISSED)
        assert dismissal.actor_id != case.reported_by_id
    decided = CaseTransition.objects.filter(
        to_state__in=[State.UPHELD, State.OVERTURNED], case__joint_of__isnull=True
    ).select_related("case")
    assert decided.count() == 2
    for decision in decided:
        appeal = decision.case.transitions.get(to_state=State.APPEALED)
        assert decision.actor_id not in (
            decision.case.confirmed_by_id,
            decision.case.reported_by_id,
            decision.case.employee.user_id,
            appeal.actor_id,  # nobody decides an appeal they filed
        )


def test_every_case_has_its_transitions_and_every_decision_its_reason(demo):
    for case in Case.objects.prefetch_related("transitions"):
        moves = [(t.from_state, t.to_state) for t in case.transitions.all()]
        assert moves[0][0] == ""
        assert moves[-1][1] == case.state
    reasons = CaseTransition.objects.filter(
        to_state__in=[State.DISMISSED, State.APPEALED, State.UPHELD]
    )
    assert all(t.comment for t in reasons)


def test_the_demo_hr_logins_are_hr_clerks_nobody_can_log_in_as(demo):
    for username in DEMO_HR_USERNAMES:
        user = get_user_model().objects.get(username=username)
        assert not user.has_usable_password()
        assert list(user.groups.values_list("name", flat=True)) == [roles.HR]
        assert user.employee.department.path == "人力资源部"
        assert not user.employee.headed_departments.exists()


def test_the_command_prints_the_cases_by_state(demo):
    line = next(line for line in demo.splitlines() if line.startswith("违规案件"))
    counts = dict(re.findall(r"(待审核|已确认|已驳回|申诉中) (\d+)", line))
    assert set(counts) == {"待审核", "已确认", "已驳回", "申诉中"}
    assert f"违规案件 {Case.objects.count()} 件" in line
    assert int(counts["待审核"]) == Case.objects.filter(state=State.PROPOSED).count()


def test_running_demo_again_adds_no_case_or_transition(demo):
    before = (Case.objects.count(), CaseTransition.objects.count(), Case.history.count())

    out = run_demo()

    assert (Case.objects.count(), CaseTransition.objects.count(), Case.history.count()) == before
    assert "本次新建 0 件" in out


def test_the_same_seed_gives_the_same_cases(no_password):
    def cases() -> list[tuple]:
        return list(
            Case.objects.order_by("pk").values_list(
                "rule__code", "employee__employee_no", "state", "points", "sanction"
            )
        )

    with transaction.atomic():
        run_demo()
        first = cases()
        transaction.set_rollback(True)
    run_demo()

    assert cases() == first


def test_the_head_persona_sees_their_own_case_and_may_appeal(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    run_demo()
    assert client.login(username="head", password=PASSWORD)

    response = client.get("/me/cases/")

    cases = list(response.context["cases"])
    assert {c.employee.user.username for c in cases} == {"head"}
    case = next(c for c in cases if c.rule.code == "9.9")  # §9.9, the director's own
    assert "提交申诉" in client.get(f"/me/cases/{case.pk}/").content.decode()


def test_persona_logins_keep_their_employees(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    run_demo()
    users = get_user_model().objects

    clerks = {users.get(username=name).employee.pk for name in DEMO_HR_USERNAMES}
    personas = {users.get(username=name).employee.pk for name in ("hr", "groupadmin")}
    assert len(clerks) == 2
    assert not clerks & personas


def test_the_employee_persona_sees_cases_in_several_states_and_may_appeal_one(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    run_demo()
    assert client.login(username="employee", password=PASSWORD)

    response = client.get("/me/cases/")

    cases = list(response.context["cases"])
    assert {c.employee.user.username for c in cases} == {"employee"}
    assert {c.state for c in cases} >= {State.PROPOSED, State.CONFIRMED, State.UPHELD}
    confirmed = next(c for c in cases if c.state == State.CONFIRMED)
    assert "提交申诉" in client.get(f"/me/cases/{confirmed.pk}/").content.decode()
    assert client.get("/admin/").status_code == 302  # not staff: sent to the login page
