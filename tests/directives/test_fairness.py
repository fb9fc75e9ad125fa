"""Fair before clever (§7.2, §9.9): a deduction is someone's pay — nobody is charged for what
they could not do, decides about themselves, or loses a window they were never told about.

The National Day week of 2026 (conftest): Oct 1–7 off, Saturday Oct 10 a 调休 working day."""

from __future__ import annotations

import datetime as dt

import pytest

from directives.models import DirectiveAssignment, Question
from directives.services import (
    DirectiveError,
    QuestionError,
    assignment_accept,
    assignment_acknowledge,
    assignment_done,
    assignment_reopen,
    directive_create,
    directives_follow_up,
    question_raise,
    question_reopen,
    question_reply,
)
from directives.services.directives import (
    ERROR_DEADLINE_DAY_OFF,
    ERROR_DEADLINE_PAST,
    ERROR_NOT_ASSIGNEE,
)
from directives.services.questions import ERROR_NOT_HEAD, ERROR_OWN_DEPARTMENT
from directives.tasks import follow_up
from members.models import Department, Employee
from members.services import department_set_head
from tests.directives.conftest import SYSTEM, at
from tests.factories import EmployeeFactory, UserFactory
from violations.models import Case, Rule

State = DirectiveAssignment.State


def _run(now):
    return directives_follow_up(actor=SYSTEM, now=now)


@pytest.fixture
def directive(hr, boss, office, staff, national_day):
    # Wednesday Sep 30 10:00 + 1 working day → Thursday Oct 8 10:00.
    return directive_create(
        text="提交九月销售报表", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        working_days=1, employees=staff, actor=hr,
    )  # fmt: skip


def _finish(assignment, user, when):
    assignment_acknowledge(assignment=assignment, actor=user)
    return assignment_done(assignment=assignment, note="已提交", actor=user, now=when)


# -- 1. a reopening gives a fresh window -----------------------------------------------------


def test_each_assignment_is_due_at_the_directives_deadline(directive):
    assert {a.due_at for a in directive.assignments.all()} == {at(10, 8)}


def test_reopened_after_the_deadline_gets_one_working_day_from_then(directive, staff, hr):
    for person in staff:
        _finish(directive.assignments.get(employee=person), person.user, at(10, 8, 9))
    first = directive.assignments.get(employee=staff[0])
    # Friday Oct 9 9:00, past the deadline: the next working day is the 调休 Saturday.
    first = assignment_reopen(assignment=first, actor=hr, comment="数据不全", now=at(10, 9, 9))
    assert first.due_at == at(10, 10, 9)
    assert first.reminded_at is None
    assert _run(at(10, 9, 10)).directives_proposed == 0  # done on time: not late
    result = _run(at(10, 10, 9, 30))
    assert result.directives_proposed == 1
    case = Case.objects.get(source=Case.Source.DIRECTIVE)
    assert case.employee == staff[0]
    assert case.occurred_at == at(10, 10, 9)


def test_a_reopened_question_gets_the_groups_sla_from_then(
    staff, sales, office, national_day, department_head
):
    question = question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip
    question_reply(question=question, reply="找内勤", actor=department_head, now=at(10, 8, 9))
    question = question_reopen(
        question=question, actor=staff[0].user, comment="内勤是谁？", now=at(10, 9, 9)
    )
    assert question.deadline == at(10, 10, 9)
    assert question.reminded_at is None
    assert _run(at(10, 9, 10)).questions_proposed == 0
    assert _run(at(10, 10, 10)).questions_proposed == 1


# -- 2. leavers are not charged --------------------------------------------------------------


def test_an_assignee_who_has_left_is_neither_reminded_nor_charged(directive, staff):
    Employee.objects.filter(pk=staff[0].pk).update(
        status=Employee.Status.LEFT, left_on=dt.date(2026, 10, 2)
    )
    assert _run(at(10, 7, 12)).directives_reminded == 1
    assert _run(at(10, 8, 11)).directives_proposed == 1
    assert list(Case.objects.values_list("employee", flat=True)) == [staff[1].pk]


def test_a_head_who_has_left_is_not_charged(staff, sales, office, national_day, department_head):
    question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip
    Employee.objects.filter(user=department_head).update(
        status=Employee.Status.LEFT, left_on=dt.date(2026, 10, 2)
    )
    assert _run(at(10, 9, 10)).questions_proposed == 0
    assert not Case.objects.exists()


# -- 3. on behalf of an assignee or a head without a login -----------------------------------


def test_hr_or_the_issuer_records_for_an_assignee_without_a_login(
    hr, leader, boss, office, sales, national_day
):
    worker = EmployeeFactory(name="无账号", department=sales, user=None)
    directive = directive_create(
        text="清点库存", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        working_days=1, employees=[worker], actor=hr,
    )  # fmt: skip
    assignment = directive.assignments.get()
    assignment_acknowledge(assignment=assignment, actor=hr)
    with pytest.raises(DirectiveError, match="报告完成时请写明完成情况"):
        assignment_done(assignment=assignment, note=" ", actor=leader)
    assignment = assignment_done(assignment=assignment, note="口头报告已清点", actor=leader)
    assert assignment.state == State.DONE
    rows = list(assignment.transitions.values_list("actor__username", "comment"))
    assert rows[1:] == [
        ("hr1", "代为登记：确认收到"),
        ("leader", "代为登记：口头报告已清点"),
    ]
    assert _run(at(10, 9, 10)).directives_proposed == 0


def test_nobody_else_records_for_an_assignee(directive, staff, outsider, department_head):
    assignment = directive.assignments.get(employee=staff[0])
    for actor in (staff[1].user, outsider, department_head):
        with pytest.raises(DirectiveError, match=ERROR_NOT_ASSIGNEE):
            assignment_acknowledge(assignment=assignment, actor=actor)
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    row = assignment.transitions.last()
    assert row.comment == "确认收到"  # their own: no 代为登记


def test_hr_records_a_heads_reply_not_for_their_own_question(
    hr, staff, sales, office, national_day, department_head
):
    question = question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip
    question = question_reply(question=question, reply="找内勤", actor=hr)
    assert question.state == Question.State.REPLIED
    assert question.transitions.last().comment == "代为登记：找内勤"
    assert question.transitions.last().actor == hr
    clerk = EmployeeFactory(name="人事专员", user=hr)
    own = question_raise(
        text="工牌多久办好？", group=office, department=sales, raised_by=clerk,
        raised_at=at(9, 30), now=at(9, 30), actor=hr,
    )  # fmt: skip
    with pytest.raises(QuestionError, match=ERROR_NOT_HEAD):
        question_reply(question=own, reply="三天", actor=hr)


# -- 4. backdating leaves a window -----------------------------------------------------------


def test_an_explicit_deadline_already_past_is_refused(hr, boss, office, staff, national_day):
    with pytest.raises(DirectiveError, match="完成期限 2026年9月30日 10:00 在登记时已经过去"):
        directive_create(
            text="x", issuer=boss, group=office, given_at=at(9, 29), now=at(9, 30, 11),
            deadline=at(9, 30), employees=staff, actor=hr,
        )  # fmt: skip
    assert ERROR_DEADLINE_PAST.startswith("完成期限")
    assert not DirectiveAssignment.objects.exists()


def test_working_days_count_from_the_recording_when_it_is_later(
    hr, boss, office, staff, national_day
):
    directive = directive_create(
        text="x", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 30, 15),
        working_days=1, employees=staff, actor=hr,
    )  # fmt: skip
    assert directive.deadline == at(10, 8, 15)


def test_a_backdated_question_counts_from_its_recording(staff, sales, office, national_day):
    question = question_raise(
        text="q", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 1), now=at(9, 30, 16), actor=staff[0].user,
    )  # fmt: skip
    assert question.deadline == at(10, 8, 16)
    assert _run(at(9, 30, 17)).questions_proposed == 0


# -- 5. a head does not ask themselves -------------------------------------------------------


def test_a_head_raising_a_question_to_their_own_department_is_refused(
    sales, office, national_day, department_head
):
    head = Employee.objects.get(user=department_head)
    with pytest.raises(QuestionError, match="提问人是销售部的负责人"):
        question_raise(
            text="q", group=office, department=sales, raised_by=head,
            raised_at=at(9, 30), now=at(9, 30), actor=department_head,
        )  # fmt: skip
    assert "{department}" in ERROR_OWN_DEPARTMENT
    assert not Question.objects.exists()


def test_the_follow_up_never_charges_a_head_for_their_own_question(
    hr, staff, sales, office, national_day, department_head
):
    question = question_raise(
        text="q", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=hr,
    )  # fmt: skip
    # The asker became the head meanwhile (a row as old data may hold it).
    Question.objects.filter(pk=question.pk).update(head=staff[0])
    assert _run(at(10, 9, 10)).questions_proposed == 0


# -- 6. a deadline on a day off --------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        (at(10, 3, 18), "截止时间 2026年10月3日 是法定假日，请改为工作日。"),
        (at(9, 27, 18), "截止时间 2026年9月27日 是周末，请改为工作日。"),
    ],
)
def test_an_explicit_deadline_on_a_day_off_is_refused(
    hr, boss, office, staff, national_day, deadline, message
):
    assert message == ERROR_DEADLINE_DAY_OFF.format(
        day=deadline.date(), kind=message.split("是")[1].split("，")[0]
    )
    with pytest.raises(DirectiveError, match=message):
        directive_create(
            text="x", issuer=boss, group=office, given_at=at(9, 21), now=at(9, 21),
            deadline=deadline, employees=staff, actor=hr,
        )  # fmt: skip


def test_a_deadline_on_the_make_up_saturday_is_accepted(hr, boss, office, staff, national_day):
    directive = directive_create(
        text="x", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        deadline=at(10, 10, 18), employees=staff, actor=hr,
    )  # fmt: skip
    assert directive.deadline == at(10, 10, 18)


# -- 7. the head of the day, rules switched off, the task's clock ----------------------------


def test_the_head_when_it_was_raised_answers_for_it(
    staff, sales, office, national_day, department_head
):
    question = question_raise(
        text="q", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip
    old_head = Employee.objects.get(user=department_head)
    assert question.head == old_head
    department_set_head(
        department=Department.objects.get(pk=sales.pk),
        head=EmployeeFactory(name="新主管", department=sales, user=UserFactory(username="new")),
    )
    _run(at(10, 9, 10))
    assert Case.objects.get(source=Case.Source.QUESTION).employee == old_head


def test_a_rule_switched_off_only_stops_its_own_proposals(
    directive, staff, sales, office, department_head
):
    question_raise(
        text="q", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip
    Rule.objects.filter(code="7.2").update(is_active=False)
    assert _run(at(10, 7, 12)).directives_reminded == 2  # still reminded
    result = _run(at(10, 9, 10))
    assert (result.directives_proposed, result.questions_proposed) == (0, 1)


def test_the_task_takes_a_moment(directive, staff):
    assert follow_up(now=at(10, 9, 10).isoformat())["directives_proposed"] == 2
    assert follow_up(now=at(10, 9, 10).isoformat())["directives_proposed"] == 0


def test_a_reopened_assignment_is_redone_and_accepted(directive, staff, hr, leader):
    assignment = directive.assignments.get(employee=staff[0])
    _finish(assignment, staff[0].user, at(10, 8, 9))
    assignment_reopen(assignment=assignment, actor=hr, comment="补数据", now=at(10, 8, 9, 30))
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    assignment_done(assignment=assignment, note="已补", actor=staff[0].user)
    assert assignment_accept(assignment=assignment, actor=leader).state == State.ACCEPTED
