"""A question raised in a group (§9.9): the responsible head replies by the group's SLA in
working days, the asker confirms or reopens — and every refusal."""

from __future__ import annotations

import pytest

from directives.models import Question, ReplySla
from directives.services import (
    QuestionError,
    question_confirm,
    question_raise,
    question_reopen,
    question_reply,
)
from directives.services.questions import (
    ERROR_COMMENT_REQUIRED,
    ERROR_NO_ASKER,
    ERROR_NOT_ASKER,
    ERROR_NOT_HEAD,
    ERROR_RECORD_FORBIDDEN,
    ERROR_REPLY_REQUIRED,
)
from tests.directives.conftest import at

State = Question.State


@pytest.fixture
def question(staff, sales, office, national_day) -> Question:
    asker = staff[0]
    return question_raise(
        text="客户投诉的退货流程由谁负责？",
        group=office,
        department=sales,
        raised_by=asker,
        raised_at=at(9, 30, 16),
        now=at(9, 30, 16),
        actor=asker.user,  # the employee records it themselves
    )


def test_default_sla_is_one_working_day_across_the_holiday(question):
    assert question.deadline == at(10, 8, 16)  # Sep 30 + 1 working day: Oct 1–7 off
    assert question.state == State.OPEN
    assert question.transitions.get().to_state == State.OPEN


def test_group_sla_counts_the_make_up_saturday(group_admin, office, sales, national_day):
    ReplySla.objects.create(group=office, working_days=2)
    question = question_raise(
        text="周六调休是否送货？", group=office, department=sales, raised_by_name="供应商老王",
        raised_at=at(10, 8, 9), now=at(10, 8, 9), actor=group_admin,
    )  # fmt: skip
    assert question.deadline == at(10, 10, 9)  # Fri 9, then Saturday 10 (调休 working day)
    assert question.asker == "供应商老王"


def test_asker_is_required(group_admin, office, sales):
    with pytest.raises(QuestionError, match=ERROR_NO_ASKER):
        question_raise(
            text="x",
            group=office,
            department=sales,
            raised_at=at(9, 1),
            now=at(9, 1),
            actor=group_admin,
        )


def test_only_hr_group_staff_or_the_asker_record(staff, outsider, office, sales):
    with pytest.raises(QuestionError, match=ERROR_RECORD_FORBIDDEN):
        question_raise(
            text="x", group=office, department=sales, raised_by=staff[0], raised_at=at(9, 1), now=at(9, 1),
            actor=staff[1].user,
        )  # fmt: skip
    with pytest.raises(QuestionError, match=ERROR_RECORD_FORBIDDEN):
        question_raise(
            text="x", group=office, department=sales, raised_by_name="某人", raised_at=at(9, 1), now=at(9, 1),
            actor=outsider,
        )  # fmt: skip
    assert not Question.objects.exists()


def test_head_replies_and_asker_confirms(question, department_head, staff):
    question = question_reply(
        question=question, reply="由销售内勤负责，已在群里说明", actor=department_head,
        now=at(10, 8, 10),
    )  # fmt: skip
    assert (question.state, question.replied_by, question.replied_at) == (
        State.REPLIED,
        department_head,
        at(10, 8, 10),
    )
    question = question_confirm(question=question, actor=staff[0].user)
    assert question.state == State.CONFIRMED
    assert list(question.transitions.values_list("to_state", flat=True)) == [
        State.OPEN,
        State.REPLIED,
        State.CONFIRMED,
    ]


def test_only_the_head_replies_and_not_with_nothing(question, department_head, hr, staff):
    for actor in (staff[1].user,):
        with pytest.raises(QuestionError, match=ERROR_NOT_HEAD):
            question_reply(question=question, reply="答复", actor=actor)
    with pytest.raises(QuestionError, match=ERROR_REPLY_REQUIRED):
        question_reply(question=question, reply=" ", actor=department_head)
    question.refresh_from_db()
    assert question.state == State.OPEN


def test_asker_reopens_with_a_reason_and_the_head_replies_again(question, department_head, staff):
    question_reply(question=question, reply="稍后答复", actor=department_head)
    with pytest.raises(QuestionError, match=ERROR_NOT_ASKER):
        question_confirm(question=question, actor=department_head)
    with pytest.raises(QuestionError, match=ERROR_COMMENT_REQUIRED):
        question_reopen(question=question, actor=staff[0].user, comment="")
    question = question_reopen(question=question, actor=staff[0].user, comment="没有说清楚")
    assert question.state == State.REOPENED
    with pytest.raises(QuestionError, match="不能改为“已确认解决"):
        question_confirm(question=question, actor=staff[0].user)
    question = question_reply(question=question, reply="由内勤张三负责", actor=department_head)
    assert question.state == State.REPLIED


def test_recorder_confirms_for_an_asker_without_a_login(
    group_admin, department_head, office, sales
):
    question = question_raise(
        text="x", group=office, department=sales, raised_by_name="访客", raised_at=at(9, 1), now=at(9, 1),
        actor=group_admin,
    )  # fmt: skip
    question_reply(question=question, reply="好", actor=department_head)
    assert question_confirm(question=question, actor=group_admin).state == State.CONFIRMED
