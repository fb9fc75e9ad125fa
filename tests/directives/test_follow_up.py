"""The follow-up (§7.2, §9.9): one reminder before the deadline, one proposed case after it,
run twice proposing nothing twice — and a directive's case, confirmed by HR, reaching the
department head (§9.8 joint liability)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from directives.models import DirectiveAssignment
from directives.services import (
    assignment_acknowledge,
    assignment_done,
    directive_create,
    directives_follow_up,
    question_raise,
    question_reply,
)
from directives.tasks import follow_up
from tests.directives.conftest import SYSTEM, at
from violations.models import Case
from violations.services import case_confirm


@pytest.fixture
def directive(hr, boss, office, staff, national_day):
    # Wednesday Sep 30 10:00 + 1 working day → Thursday Oct 8 10:00.
    return directive_create(
        text="提交九月销售报表", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        working_days=1, employees=staff, actor=hr,
    )  # fmt: skip


@pytest.fixture
def question(staff, sales, office, national_day):
    return question_raise(
        text="退货流程由谁负责？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip


def _run(now):
    return directives_follow_up(actor=SYSTEM, now=now)


def test_one_reminder_within_a_working_day_of_the_deadline(
    directive, question, staff, department_head, mailoutbox, django_capture_on_commit_callbacks
):
    for user in (staff[0].user, staff[1].user, department_head):
        user.email = f"{user.username}@example.com"
        user.save()
    # Wednesday Oct 7 (a holiday) 10:00: one working day on is Thursday Oct 8 10:00, the
    # deadline of both: everyone who must act hears of it, once.
    with django_capture_on_commit_callbacks(execute=True):
        result = _run(at(10, 7, 10))
    assert (result.directives_reminded, result.questions_reminded) == (2, 1)
    assert (result.directives_proposed, result.questions_proposed) == (0, 0)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "head@example.com",
        "liuyang@example.com",
        "zhangwei@example.com",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        again = _run(at(10, 7, 11))
    assert (again.directives_reminded, again.questions_reminded) == (0, 0)
    assert len(mailoutbox) == 3


def test_before_the_deadline_window_nobody_is_reminded(directive, question):
    # Sep 30 09:00: one working day on is Oct 8 09:00, before both deadlines (10:00).
    result = _run(at(9, 30, 9))
    assert (result.directives_reminded, result.questions_reminded) == (0, 0)


def test_past_the_deadline_proposes_once_per_assignee_not_done(directive, question, staff):
    done = directive.assignments.get(employee=staff[1])
    assignment_acknowledge(assignment=done, actor=staff[1].user)
    assignment_done(assignment=done, note="按时提交", actor=staff[1].user)

    first = _run(at(10, 8, 10, 1))
    second = _run(at(10, 8, 11))
    assert (first.directives_proposed, first.questions_proposed) == (1, 1)
    assert (second.directives_proposed, second.questions_proposed) == (0, 0)

    late = directive.assignments.get(employee=staff[0])
    case = Case.objects.get(source=Case.Source.DIRECTIVE)
    assert (case.employee, case.rule.code, case.state, case.source_key) == (
        staff[0],
        "7.2",
        Case.State.PROPOSED,
        f"directive-assignment:{late.pk}",
    )
    assert case.occurred_at == at(10, 8)
    assert case.group == directive.group
    q_case = Case.objects.get(source=Case.Source.QUESTION)
    assert (q_case.employee.name, q_case.rule.code, q_case.source_key) == (
        "郭杰华",
        "9.9",
        f"question:{question.pk}",
    )
    assert Case.objects.filter(state=Case.State.CONFIRMED).count() == 0  # nothing deducts itself


def test_proposals_are_deduplicated_even_if_the_record_was_lost(directive):
    _run(at(10, 9))
    DirectiveAssignment.objects.update(overdue_proposed_at=None)  # e.g. restored from backup
    assert _run(at(10, 9, 12)).directives_proposed == 0
    assert Case.objects.filter(source=Case.Source.DIRECTIVE).count() == 2


def test_a_question_replied_in_time_is_not_proposed(question, department_head):
    question_reply(question=question, reply="内勤负责", actor=department_head)
    assert _run(at(10, 9)).questions_proposed == 0


def test_the_beat_task_run_twice_proposes_nothing_twice(directive, question):
    # The task uses the clock: the fixtures' deadlines (2026-10-08) are long past.
    first = follow_up.delay().get()
    second = follow_up.delay().get()
    assert (first["directives_proposed"], first["questions_proposed"]) == (2, 1)
    assert (second["directives_proposed"], second["questions_proposed"]) == (0, 0)
    assert (
        Case.objects.filter(source__in=[Case.Source.DIRECTIVE, Case.Source.QUESTION]).count() == 3
    )


def test_the_follow_up_queries_stay_flat(
    hr, boss, office, staff, national_day, django_assert_max_num_queries
):
    for n in range(5):
        directive_create(
            text=f"指令{n}", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30), working_days=1,
            employees=staff, actor=hr,
        )  # fmt: skip
    with django_assert_max_num_queries(9):
        _run(at(10, 7, 12))  # 10 reminders in a handful of queries (one for the catalog)


def test_confirmed_directive_case_makes_the_heads_joint_case(directive, staff, hr, hr2):
    _run(at(10, 8, 12))
    case = Case.objects.get(source=Case.Source.DIRECTIVE, employee=staff[0])
    case = case_confirm(case=case, actor=hr2, comment="未按期提交报表")
    joint = Case.objects.get(joint_of=case)
    assert joint.employee.name == "郭杰华"  # 销售部's head (§9.8)
    assert joint.state == Case.State.CONFIRMED
    assert joint.points == case.points * Decimal("0.5")
    assert joint.confirmed_by == hr2
