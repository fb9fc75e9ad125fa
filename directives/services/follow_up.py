"""The follow-up of directives (§7.2) and questions (§9.9), run by the beat task
directives.follow_up: a reminder before the deadline, a proposed case after it.

- Reminder: once per assignment / question, when its deadline (an assignment's own due_at)
  is within one working day (reminded_at records it; a reopening clears it): a notice in the
  inbox of whoever must act — the assignee (leading to their directive's page), the head
  stored on the question (leading to the questions they answer) — through
  notices.notice_post: in-app at once, mailed in the person's evening digest unless they
  turned email off, a failed mail retried. Its subject key (the assignment / question, and
  the deadline it reminds of) tells nobody twice of one deadline.
- Past the deadline: one proposed case through violations' case_propose — §7.2 against each
  assignee not done, §9.9 against the head stored on a question not answered —
  deduplicated by its source key and recorded in overdue_proposed_at. HR decides the case;
  §9.8 joint liability reaches the assignee's head when HR confirms it (the rule's head_share).
- Nobody is charged for what they could not do: never an assignee or a head who has left,
  never a head for a question they raised themselves. HR may switch §7.2 / §9.9 off in the
  catalog: then that kind is only reminded (checked once per run, like groups' overdue to-dos).

Idempotent: a second run at the same moment reminds and proposes nothing again; two runs at
once share the rows (locked, skipped by the other), and case_propose's unique source key
would stop a duplicate anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from common.actors import Actor, require_actor
from common.dates import moment_text
from directives.models import DirectiveAssignment, Question
from directives.services.directive_notices import _my_directive_url
from members.models import Employee
from notices.models import Notice
from notices.services import notice_post
from violations.models import Case, Rule
from violations.services import case_propose
from workdays.selectors import working_days_after

DIRECTIVE_RULE = "7.2"
QUESTION_RULE = "9.9"
DIRECTIVE_REMINDER_TITLE = "指令即将到期：请在 {deadline} 前完成"
DIRECTIVE_REMINDER_BODY = (
    "你在{group}收到的指令将于 {deadline} 到期：\n{text}\n"
    "完成后请在“我的指令”中报告完成情况（§7.2）。"
)
QUESTION_REMINDER_TITLE = "群内问题即将到期：请在 {deadline} 前回复"
QUESTION_REMINDER_BODY = "{group}中反映给{department}的问题请于 {deadline} 前回复（§9.9）：\n{text}"
# One notice per deadline: a rerun never tells twice; a reopening with a new deadline does.
DIRECTIVE_REMINDER_KEY = "directive-reminder:{pk}:{deadline}"
QUESTION_REMINDER_KEY = "question-reminder:{pk}:{deadline}"


@dataclass(frozen=True)
class FollowUpResult:
    """Assignments and questions reminded and proposed by this run; ``*_reminded`` counts
    the people told (an assignee or head without an active login is told nothing)."""

    directives_reminded: int = 0
    directives_proposed: int = 0
    questions_reminded: int = 0
    questions_proposed: int = 0


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def _key_moment(moment: dt.datetime) -> str:
    return f"{_local(moment):%Y%m%d%H%M}"


def _question_url(question: Question) -> str:
    try:  # the head replies on their questions page, at this question's form
        return reverse("me:question_list") + f"#reply-{question.pk}"
    except NoReverseMatch:  # the /me/ pages are not mounted
        return ""


def _remind_assignments(now: dt.datetime, horizon: dt.datetime) -> int:
    due = list(
        DirectiveAssignment.objects.filter(
            state__in=DirectiveAssignment.OPEN_STATES,
            reminded_at__isnull=True,
            employee__status=Employee.Status.ACTIVE,
            due_at__gt=now,
            due_at__lte=horizon,
        )
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("directive__group", "employee__user")
    )
    told = 0
    for a in due:
        deadline = moment_text(a.due_at)
        notice = notice_post(
            recipient=a.employee.user,
            kind=Notice.Kind.DEADLINE_REMINDER,
            title=DIRECTIVE_REMINDER_TITLE.format(deadline=deadline),
            body=DIRECTIVE_REMINDER_BODY.format(
                group=a.directive.group, deadline=deadline, text=a.directive.text
            ),
            url=_my_directive_url(a.pk),
            subject_key=DIRECTIVE_REMINDER_KEY.format(pk=a.pk, deadline=_key_moment(a.due_at)),
        )
        told += int(notice is not None)
    DirectiveAssignment.objects.filter(pk__in=[a.pk for a in due]).update(reminded_at=now)
    return told


def _remind_questions(now: dt.datetime, horizon: dt.datetime) -> int:
    due = list(
        Question.objects.filter(
            state__in=Question.WAITING_STATES,
            reminded_at__isnull=True,
            deadline__gt=now,
            deadline__lte=horizon,
        )
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("group", "department", "head__user")
    )
    told = 0
    for q in due:
        if q.head is None:  # nobody to answer for it: HR sees it in the list
            continue
        deadline = moment_text(q.deadline)
        notice = notice_post(
            recipient=q.head.user,
            kind=Notice.Kind.DEADLINE_REMINDER,
            title=QUESTION_REMINDER_TITLE.format(deadline=deadline),
            body=QUESTION_REMINDER_BODY.format(
                group=q.group, department=q.department, deadline=deadline, text=q.text
            ),
            url=_question_url(q),
            subject_key=QUESTION_REMINDER_KEY.format(pk=q.pk, deadline=_key_moment(q.deadline)),
        )
        told += int(notice is not None)
    Question.objects.filter(pk__in=[q.pk for q in due]).update(reminded_at=now)
    return told


def _propose_assignments(now: dt.datetime, actor: Actor) -> int:
    overdue = DirectiveAssignment.objects.filter(
        state__in=DirectiveAssignment.OPEN_STATES,
        overdue_proposed_at__isnull=True,
        due_at__lte=now,
        employee__status=Employee.Status.ACTIVE,  # a leaver is not charged (§3)
    ).select_for_update(of=("self",), skip_locked=True)
    overdue = overdue.select_related("directive__group", "directive__issuer", "employee")
    proposed = 0
    for a in overdue:
        directive = a.directive
        _case, created = case_propose(
            rule_code=DIRECTIVE_RULE,
            employee=a.employee,
            source=Case.Source.DIRECTIVE,
            source_key=f"directive-assignment:{a.pk}",
            description=(
                f"{directive.issuer} 于 {moment_text(directive.given_at)} 在"
                f"“{directive.group}”下达的指令 #{directive.pk}，期限 "
                f"{moment_text(a.due_at)}，到期仍未完成"
                f"（{a.get_state_display()}）：{directive.text}"
            ),
            occurred_at=a.due_at,
            actor=actor,
            group=directive.group,
        )
        proposed += created
        DirectiveAssignment.objects.filter(pk=a.pk).update(overdue_proposed_at=now)
    return proposed


def _propose_questions(now: dt.datetime, actor: Actor) -> int:
    overdue = Question.objects.filter(
        state__in=Question.WAITING_STATES,
        overdue_proposed_at__isnull=True,
        deadline__lte=now,
        head__isnull=False,  # nobody to answer for it: HR sees it in the list
        head__status=Employee.Status.ACTIVE,  # a head who has left is not charged
    ).exclude(raised_by=F("head"))  # a head is not charged for their own question
    overdue = overdue.select_for_update(of=("self",), skip_locked=True)
    overdue = overdue.select_related("group", "department", "head")
    proposed = 0
    for q in overdue:
        _case, created = case_propose(
            rule_code=QUESTION_RULE,
            employee=q.head,
            source=Case.Source.QUESTION,
            source_key=f"question:{q.pk}",
            description=(
                f"{q.asker} 于 {moment_text(q.raised_at)} 在“{q.group}”反映的问题 "
                f"#{q.pk}，{q.department}负责人未在 {moment_text(q.deadline)} "
                f"前回复（§9.9）：{q.text}"
            ),
            occurred_at=q.deadline,
            actor=actor,
            group=q.group,
        )
        proposed += created
        Question.objects.filter(pk=q.pk).update(overdue_proposed_at=now)
    return proposed


@transaction.atomic
def directives_follow_up(*, actor: Actor, now: dt.datetime | None = None) -> FollowUpResult:
    """Remind before the deadline and propose cases after it, for directives and questions
    alike (module docstring). Returns the counts of this run."""
    require_actor(actor)
    now = now or timezone.now()
    horizon = working_days_after(now, 1)  # "within one working day" of now
    d_reminded = _remind_assignments(now, horizon)
    q_reminded = _remind_questions(now, horizon)
    # HR may switch a rule off in the catalog: then that kind is only reminded, and the other
    # is still proposed (one switched-off rule does not fail the whole run).
    active = set(
        Rule.objects.filter(code__in=(DIRECTIVE_RULE, QUESTION_RULE), is_active=True).values_list(
            "code", flat=True
        )
    )
    return FollowUpResult(
        directives_reminded=d_reminded,
        directives_proposed=_propose_assignments(now, actor) if DIRECTIVE_RULE in active else 0,
        questions_reminded=q_reminded,
        questions_proposed=_propose_questions(now, actor) if QUESTION_RULE in active else 0,
    )
