"""Late approval steps (§4 routes have time limits): a beat task reminds and escalates.

- A step is late once its ``due_at`` has passed (working days counted by the holiday table,
  workdays.selectors, or hours): whoever may decide it now (approval_notices.step_approvers:
  its approver or the role's holders, and their delegates of the day; never the author nor
  one who decided a step of this version) gets a reminder in their inbox, at most once a day
  (ApprovalReminder, unique per step and date — the task run twice reminds once; and the
  notice's subject key per step and date). notices.notice_post keeps it: in-app at once,
  mailed in the person's evening digest unless they turned email off, a failed mail retried.
- A second period later (the same time limit again, from the due time) the step moves one
  level up, and its clock starts again: a person's step goes to the head above them (the
  head of their department, or of the department above the one they head: routes.head_above),
  and from the top of the tree — or from 人力资源部, or when the one above is the author or
  already decided a step of this version — to 任一公司领导. A step already with the company
  leaders has no level above: it is reminded daily. Each escalation is a pending → pending
  row of the item's timeline, by the system, and its new approvers are told it waits for
  them (approval_notices.approval_waiting_tell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse

from announcements.models import Announcement, AnnouncementStep, ApprovalReminder, ApproverKind
from announcements.selectors import company_date
from announcements.services.approval_notices import (
    REMINDER_KEY,
    approval_waiting_tell,
    step_approvers,
    steps_notices_settle,
)
from announcements.services.machine import move
from announcements.services.routes import head_above
from announcements.services.workflow import approver_label, step_due
from common.actors import Actor, require_actor
from common.dates import moment_text
from members.models import Employee
from notices.models import Notice
from notices.services import notice_post

REMINDER_TITLE = "公告“{title}”等待你审批，已超过时限"
REMINDER_BODY = (
    "第 {position} 个审批环节（{who}）的截止时间 {due} 已过，"
    "请尽快在后台“公告”中选择“待我审批”处理。"
)


@dataclass(frozen=True)
class EscalationResult:
    """Steps reminded and escalated by this run, and the people told (in their inbox) of
    either: the reminded approvers and the approvers an escalation moved the step to."""

    reminded: int = 0
    escalated: int = 0
    told: int = 0


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
    before = {user.pk for user in step_approvers(step, today=company_date(now))}
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
    # Who may no longer decide it is asked no more (their 待审批 and reminders settle).
    after = {user.pk for user in step_approvers(step, today=company_date(now))}
    steps_notices_settle([step.pk], recipient_ids=before - after)
    return step


def _name(user) -> str:
    employee = getattr(user, "employee", None)  # step_approvers loads it
    return employee.name if employee is not None else user.get_username()


def _remind(step: AnnouncementStep, approvers: list, today: dt.date) -> int:
    """Tell each of ``approvers`` the step is late; returns how many were told."""
    announcement = step.announcement
    title = REMINDER_TITLE.format(title=announcement.title)
    body = REMINDER_BODY.format(
        position=step.position,
        who=approver_label(step),
        due=moment_text(step.due_at) if step.due_at is not None else "—",
    )
    url = reverse("admin:announcements_announcement_change", args=[announcement.pk])
    told = 0
    for user in approvers:
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.APPROVAL_WAITING,
            title=title,
            body=body,
            url=url,
            subject_key=REMINDER_KEY.format(step=step.pk, day=today.isoformat()),
        )
        told += int(notice is not None)
    return told


@transaction.atomic
def approvals_escalate(*, now: dt.datetime, actor: Actor) -> EscalationResult:
    """Remind whoever may decide a late step (once a day, in their inbox) and move a step a
    second period late one level up, telling its new approvers (module docstring).
    Idempotent: run twice, it reminds, escalates and tells once."""
    require_actor(actor)
    today = company_date(now)  # the reminder's day is the company's, whatever zone is active
    reminded = escalated = told = 0
    for step in late_steps(now).select_for_update(of=("self",)):
        can_go_up = not (
            step.approver_id is None and step.approver_kind == ApproverKind.COMPANY_LEADER
        )
        if can_go_up and step.due_at is not None and step_due(step, step.due_at) <= now:
            _escalate(step, now, actor)
            escalated += 1
            told += approval_waiting_tell(step, now=now)  # the approvers it moved to
            continue
        approvers = step_approvers(step, today=today)
        try:
            with transaction.atomic():
                ApprovalReminder.objects.create(
                    step=step,
                    sent_on=today,
                    recipients="、".join(_name(user) for user in approvers),
                )
        except IntegrityError:
            continue  # reminded today already
        reminded += 1
        told += _remind(step, approvers, today)
    return EscalationResult(reminded=reminded, escalated=escalated, told=told)
