"""The follow-up of directives (§7.2) and questions (§9.9), run by the beat task
directives.follow_up: a reminder before the deadline, a proposed case after it.

- Reminder: once per assignment / question, when its deadline (an assignment's own due_at)
  is within one working day (reminded_at records it; a reopening clears it); an email to
  whoever must act, sent once the transaction commits.
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

from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.actors import Actor, require_actor
from directives.models import DirectiveAssignment, Question
from members.models import Employee
from violations.models import Case, Rule
from violations.services import case_propose
from workdays.selectors import working_days_after

DIRECTIVE_RULE = "7.2"
QUESTION_RULE = "9.9"
REMINDER_SUBJECT = "【微信群管理】{kind}即将到期（{deadline:%-m月%-d日 %H:%M}）"


@dataclass(frozen=True)
class FollowUpResult:
    directives_reminded: int = 0
    directives_proposed: int = 0
    questions_reminded: int = 0
    questions_proposed: int = 0


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def _mail(subject: str, body: str, user) -> tuple[str, str, None, list[str]] | None:
    if user is None or not user.email:
        return None
    return (subject, body, None, [user.email])


def _remind_assignments(now: dt.datetime, horizon: dt.datetime) -> tuple[int, list]:
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
    mails = []
    for a in due:
        deadline = _local(a.due_at)
        mails.append(
            _mail(
                REMINDER_SUBJECT.format(kind="群内指令", deadline=deadline),
                f"您在“{a.directive.group}”收到的指令将于 {deadline:%Y年%-m月%-d日 %H:%M} 到期：\n"
                f"{a.directive.text}\n完成后请在“我的指令”中报告完成情况（§7.2）。",
                a.employee.user,
            )
        )
    DirectiveAssignment.objects.filter(pk__in=[a.pk for a in due]).update(reminded_at=now)
    return len(due), mails


def _remind_questions(now: dt.datetime, horizon: dt.datetime) -> tuple[int, list]:
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
    mails = []
    for q in due:
        deadline = _local(q.deadline)
        head = q.head
        mails.append(
            _mail(
                REMINDER_SUBJECT.format(kind="群内问题", deadline=deadline),
                f"“{q.group}”中反映给{q.department}的问题请于 {deadline:%Y年%-m月%-d日 %H:%M} 前回复"
                f"（§9.9）：\n{q.text}",
                head.user if head else None,
            )
        )
    Question.objects.filter(pk__in=[q.pk for q in due]).update(reminded_at=now)
    return len(due), mails


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
                f"{directive.issuer} 于 {_local(directive.given_at):%Y年%-m月%-d日 %H:%M} 在"
                f"“{directive.group}”下达的指令 #{directive.pk}，期限 "
                f"{_local(a.due_at):%Y年%-m月%-d日 %H:%M}，到期仍未完成"
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
                f"{q.asker} 于 {_local(q.raised_at):%Y年%-m月%-d日 %H:%M} 在“{q.group}”反映的问题 "
                f"#{q.pk}，{q.department}负责人未在 {_local(q.deadline):%Y年%-m月%-d日 %H:%M} "
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
    d_reminded, d_mails = _remind_assignments(now, horizon)
    q_reminded, q_mails = _remind_questions(now, horizon)
    messages = [m for m in (*d_mails, *q_mails) if m is not None]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
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
