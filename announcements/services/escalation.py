"""Late approval steps (§4 routes have time limits): a beat task reminds and escalates.

- A step is late once its ``due_at`` has passed (working days counted by the holiday table,
  workdays.selectors, or hours): its approver gets a reminder email, at most once a day
  (ApprovalReminder, unique per step and date — the task run twice reminds once).
- A second period later (the same time limit again, from the due time) the step moves one
  level up, and its clock starts again: a person's step goes to the head above them (the
  head of their department, or of the department above the one they head: routes.head_above),
  and from the top of the tree — or from 人力资源部, or when the one above is the author or
  already decided a step of this version — to 任一公司领导. A step already with the company
  leaders has no level above: it is reminded daily. Each escalation is a pending → pending
  row of the item's timeline, by the system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from announcements.models import Announcement, AnnouncementStep, ApprovalReminder, ApproverKind
from announcements.selectors import company_date, role_holders
from announcements.services.approval_notices import approval_waiting_tell
from announcements.services.machine import move
from announcements.services.routes import head_above
from announcements.services.workflow import approver_label, step_due
from common.actors import Actor, require_actor
from members.models import Employee

REMINDER_SUBJECT = "【公告审批】“{title}”等待您审批，已超过时限"
ESCALATED_SUBJECT = "【公告审批】“{title}”已逾期，升级由您审批"


@dataclass(frozen=True)
class EscalationResult:
    reminded: int = 0
    escalated: int = 0
    emails: int = 0


def late_steps(now: dt.datetime):
    """The waiting steps (the current step of a pending item's current version) due before
    ``now``."""
    return (
        AnnouncementStep.objects.filter(
            announcement__state=Announcement.State.PENDING,
            version=F("announcement__version"),
            position=F("announcement__current_step"),
            outcome="",
            due_at__lte=now,
        )
        .select_related("announcement", "approver")
        .order_by("due_at", "pk")
    )


def _recipients(step: AnnouncementStep) -> list[str]:
    if step.approver is not None:
        people = [step.approver]
    else:
        people = list(role_holders(step.approver_kind))
    return sorted({user.email for user in people if user.email})


def _may_take_over(user, step: AnnouncementStep) -> bool:
    announcement = step.announcement
    if user.pk == announcement.author_id:
        return False
    return not AnnouncementStep.objects.filter(
        Q(decided_by=user) | Q(decided_for=user),
        announcement=announcement,
        version=announcement.version,
    ).exists()


def _level_up(step: AnnouncementStep):
    """The login one level above the step's approver, or None for the company leaders."""
    if step.approver_id is None:
        return None
    employee = (
        Employee.objects.filter(user_id=step.approver_id).select_related("department").first()
    )
    if employee is None:
        return None
    headed = employee.headed_departments.select_related("parent").first()
    start = headed.parent if headed is not None else employee.department
    if start is None:
        return None
    above = head_above(employee, start=start)
    return above if above is not None and _may_take_over(above, step) else None


def _escalate(step: AnnouncementStep, now: dt.datetime, actor: Actor) -> AnnouncementStep:
    previous = approver_label(step)
    above = _level_up(step)
    step.escalated_from = step.approver
    step.escalated_at = now
    if above is None:
        step.approver_kind, step.approver = ApproverKind.COMPANY_LEADER, None
    else:
        step.approver = above
    step.started_at = now
    step.due_at = step_due(step, now)
    step.save(
        update_fields=[
            "approver_kind",
            "approver",
            "escalated_from",
            "escalated_at",
            "started_at",
            "due_at",
        ]
    )
    move(
        step.announcement,
        Announcement.State.PENDING,
        actor=actor,
        comment=f"逾期未审批，由{previous}升级为{approver_label(step)}审批",
        step=step.position,
    )
    approval_waiting_tell(step, now=now)  # the approvers it moved to, in their inbox
    return step


def _message(subject: str, step: AnnouncementStep, to: list[str]) -> tuple:
    announcement = step.announcement
    due = timezone.localtime(step.due_at, timezone.get_default_timezone())
    body = (
        f"公告“{announcement.title}”第 {step.position} 个审批环节"
        f"（{approver_label(step)}）截止时间为 "
        f"{due:%Y年%-m月%-d日 %H:%M}。请登录系统在“待我审批”中处理。"
    )
    return (subject.format(title=announcement.title), body, None, to)


@transaction.atomic
def approvals_escalate(*, now: dt.datetime, actor: Actor) -> EscalationResult:
    """Remind the approvers of late steps (once a day) and move a step a second period late
    one level up (module docstring). Idempotent: run twice, it reminds and escalates once."""
    require_actor(actor)
    today = company_date(now)  # the reminder's day is the company's, whatever zone is active
    reminded = escalated = 0
    messages = []
    for step in late_steps(now).select_for_update(of=("self",)):
        can_go_up = not (
            step.approver_id is None and step.approver_kind == ApproverKind.COMPANY_LEADER
        )
        if can_go_up and step.due_at is not None and step_due(step, step.due_at) <= now:
            _escalate(step, now, actor)
            escalated += 1
            to = _recipients(step)
            if to:
                messages.append(_message(ESCALATED_SUBJECT, step, to))
            continue
        to = _recipients(step)
        try:
            with transaction.atomic():
                ApprovalReminder.objects.create(step=step, sent_on=today, recipients=", ".join(to))
        except IntegrityError:
            continue  # reminded today already
        reminded += 1
        if to:
            messages.append(_message(REMINDER_SUBJECT, step, to))
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return EscalationResult(reminded=reminded, escalated=escalated, emails=len(messages))
