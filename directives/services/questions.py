"""A question raised in a group (§9.9: 对于在群内反映的问题，相关部门负责人应及时予以回复确认):
open → replied (the responsible head records the reply) → confirmed (the asker says it
answered), or reopened (not answered: the head replies again). One transitions table, one
move function, an audit row per move; a forbidden move raises QuestionError, nothing changes.

The reply deadline is the group's SLA (ReplySla, default one working day) counted in working
days from when it was raised, or from when it was recorded if later (a backdated record leaves
the head the window they were never told about); when the asker reopens it the clock starts
again from then. The head is stored when it is raised: they answer for it (§9.9). A head does
not raise a question to their own department: it goes to the head above (the parent
department's), which the recorder picks. HR may record a head's reply on their behalf
(代为登记). What happens past it (a proposed §9.9 case against
the head) is follow_up.py's; HR decides it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_user, require_actor
from common.exceptions import ServiceError
from directives import selectors
from directives.models import Question, QuestionTransition, ReplySla
from directives.services.directives import ON_BEHALF  # one wording for 代为登记
from groups.models import ChatGroup
from members.models import Department, Employee
from workdays.selectors import working_days_after

State = Question.State
ALLOWED = {
    (State.OPEN, State.REPLIED),
    (State.REPLIED, State.CONFIRMED),
    (State.REPLIED, State.REOPENED),
    (State.REOPENED, State.REPLIED),
}

ERROR_FORBIDDEN = "问题当前为“{current}”，不能改为“{target}”。"
ERROR_RECORD_FORBIDDEN = "只有人力资源部、该群的群主或管理员，或提问人本人可以登记这个问题。"
ERROR_NO_ASKER = "请选择提问的员工，或填写提问人的姓名。"
ERROR_TEXT_REQUIRED = "请填写问题内容。"
ERROR_NOT_HEAD = "只有负责部门的负责人（或人力资源部代为登记）可以回复这个问题（§9.9）。"
ERROR_OWN_DEPARTMENT = "提问人是{department}的负责人，不能向自己负责的部门提问：请改为上级部门（§9.9，由上级负责人回复）。"
ERROR_REPLY_REQUIRED = "请填写回复内容。"
ERROR_NOT_ASKER = "只有提问人（提问人没有账号时为登记人）可以确认问题是否已解决。"
ERROR_COMMENT_REQUIRED = "请写明还有什么没有解决。"


class QuestionError(ServiceError):
    """A refused question or move; the message says why, in Chinese."""


def reply_working_days(group: ChatGroup) -> int:
    sla = ReplySla.objects.filter(group=group).values_list("working_days", flat=True).first()
    return sla or ReplySla.DEFAULT_WORKING_DAYS


def _record(question: Question, from_state: str, actor: Actor, comment: str) -> None:
    QuestionTransition.objects.create(
        question=question,
        from_state=from_state,
        to_state=question.state,
        actor=actor_user(actor),
        comment=comment,
    )


def _check_move(question: Question, target: str) -> None:
    if (question.state, target) not in ALLOWED:
        raise QuestionError(
            ERROR_FORBIDDEN.format(current=question.get_state_display(), target=State(target).label)
        )


def _move(
    question: Question, target: str, *, actor: Actor, comment: str, fields: tuple[str, ...] = ()
) -> Question:
    """The one place a question changes state: checks the move, saves, writes the row."""
    _check_move(question, target)
    previous = question.state
    question.state = target
    question.save(update_fields=["state", *fields])
    _record(question, previous, actor, comment)
    return question


def _locked(question: Question) -> Question:
    return (
        Question.objects.select_for_update(of=("self",))
        .select_related("department__head", "head", "raised_by", "group")
        .get(pk=question.pk)
    )


@transaction.atomic
def question_raise(
    *,
    text: str,
    group: ChatGroup,
    department: Department,
    raised_at: dt.datetime,
    actor: Actor,
    raised_by: Employee | None = None,
    raised_by_name: str = "",
    now: dt.datetime | None = None,
) -> Question:
    """Record a question raised in ``group`` for ``department`` to answer, due the group's
    SLA in working days after ``raised_at`` or the recording, whichever is later."""
    require_actor(actor)
    text = (text or "").strip()
    raised_by_name = (raised_by_name or "").strip()
    if not text:
        raise QuestionError(ERROR_TEXT_REQUIRED)
    if raised_by is None and not raised_by_name:
        raise QuestionError(ERROR_NO_ASKER)
    if not selectors.may_record_question(actor, group, raised_by):
        raise QuestionError(ERROR_RECORD_FORBIDDEN)
    if raised_by is not None and department.head_id == raised_by.pk:
        raise QuestionError(ERROR_OWN_DEPARTMENT.format(department=department))
    start = max(raised_at, now or timezone.now())
    question = Question(
        text=text,
        group=group,
        department=department,
        raised_by=raised_by,
        raised_by_name="" if raised_by else raised_by_name,
        recorded_by=actor_user(actor),
        raised_at=raised_at,
        head_id=department.head_id,
        deadline=working_days_after(start, reply_working_days(group)),
    )
    question.full_clean()
    question.save()
    _record(question, "", actor, "登记")
    return question


@transaction.atomic
def question_reply(
    *, question: Question, reply: str, actor: Actor, now: dt.datetime | None = None
) -> Question:
    """The responsible head records the reply (given in the group or here); HR may record it
    for them (the row says 代为登记)."""
    require_actor(actor)
    question = _locked(question)
    if not selectors.may_reply(actor, question):
        raise QuestionError(ERROR_NOT_HEAD)
    reply = (reply or "").strip()
    if not reply:
        raise QuestionError(ERROR_REPLY_REQUIRED)
    _check_move(question, State.REPLIED)
    question.reply = reply
    question.replied_by = actor_user(actor)
    question.replied_at = now or timezone.now()
    return _move(
        question,
        State.REPLIED,
        actor=actor,
        comment=reply
        if selectors.is_answering_head(actor, question)
        else ON_BEHALF.format(comment=reply),
        fields=("reply", "replied_by", "replied_at"),
    )


@transaction.atomic
def question_confirm(*, question: Question, actor: Actor) -> Question:
    """The asker confirms the reply answered the question."""
    require_actor(actor)
    question = _locked(question)
    if not selectors.may_confirm(actor, question):
        raise QuestionError(ERROR_NOT_ASKER)
    return _move(question, State.CONFIRMED, actor=actor, comment="已解决")


@transaction.atomic
def question_reopen(
    *, question: Question, actor: Actor, comment: str, now: dt.datetime | None = None
) -> Question:
    """The asker says the reply did not answer it; the head replies again, with the group's
    SLA counted from now (and a fresh reminder)."""
    require_actor(actor)
    question = _locked(question)
    if not selectors.may_confirm(actor, question):
        raise QuestionError(ERROR_NOT_ASKER)
    comment = (comment or "").strip()
    if not comment:
        raise QuestionError(ERROR_COMMENT_REQUIRED)
    _check_move(question, State.REOPENED)
    question.deadline = working_days_after(
        now or timezone.now(), reply_working_days(question.group)
    )
    question.reminded_at = None
    return _move(
        question,
        State.REOPENED,
        actor=actor,
        comment=comment,
        fields=("deadline", "reminded_at"),
    )
