"""The demo's directives and questions: every state, and the "指令逾期" / "问题逾期未回复"
cases from the real path (the follow-up), with §9.8's joint case; a second run adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from directives.models import Directive, DirectiveAssignment, Question
from violations.models import Case

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("demo", "--employees", "300", "--seed", "3", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(monkeypatch) -> str:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    return run_demo()


def test_directives_and_questions_in_every_state(demo):
    states = set(DirectiveAssignment.objects.values_list("state", flat=True))
    assert {"accepted", "acknowledged", "assigned"} <= states
    assert set(Question.objects.values_list("state", flat=True)) == {
        "confirmed",
        "replied",
        "open",
    }
    assert "群内指令" in demo


def test_overdue_cases_come_from_the_follow_up(demo):
    cases = Case.objects.filter(source__in=[Case.Source.DIRECTIVE, Case.Source.QUESTION])
    keys = set(cases.values_list("source_key", flat=True))
    assert all(k.startswith(("directive-assignment:", "question:")) for k in keys)
    assert not Case.objects.filter(
        source_key__in=["demo:directive:stocktake", "demo:question:overtime"]
    )
    directive_cases = cases.filter(source=Case.Source.DIRECTIVE, state=Case.State.CONFIRMED)
    assert Case.objects.filter(joint_of__in=directive_cases, state=Case.State.CONFIRMED).exists()
    overturned = cases.get(state=Case.State.OVERTURNED)
    assert {j.state for j in overturned.joint_cases.all()} == {Case.State.OVERTURNED}
    question_case = cases.get(source=Case.Source.QUESTION)
    assert question_case.employee.user is None or question_case.rule.code == "9.9"


def test_a_second_run_adds_nothing(demo):
    before = (Directive.objects.count(), Question.objects.count(), Case.objects.count())
    out = run_demo()
    assert (Directive.objects.count(), Question.objects.count(), Case.objects.count()) == before
    assert "本次逾期提交审核 0 件" in out
