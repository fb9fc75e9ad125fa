"""Telling approvers an item waits for them (§4; issue 14, point 3: 待审批): when a step
starts (submitted, the step before approved) or moves up a level (escalation), its
approvers get a notice in their inbox, which the evening digest mails.

Who is told: whoever may decide the step now, as workflow.decide_authority decides it — the
step's person, or every holder of the role's right (任一公司领导, 人力资源部; superusers
left out, role_holders), and the delegates of those approvers for today — never the item's
author, nor anyone who decided (or was decided for) a step of this version. Once per person
and step (the subject key): an escalation tells only who was not told yet.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from announcements.models import AnnouncementStep, Delegation
from announcements.selectors import company_date, role_holders
from common.dates import moment_text
from notices.models import Notice
from notices.services import notice_post
from notices.services.settling import notices_settle

TITLE_WAITING = "公告“{title}”等待你审批"
BODY_WAITING = (
    "第 {position} 个审批环节（{who}），截止时间 {due}。请在后台“公告”中选择“待我审批”处理。"
)
STEP_NOTICE_KEY = "announcement-step:{step}"
# escalation's daily reminder of a late step: once per step and company day, so that a rerun
# the same day tells nobody twice
REMINDER_KEY = "approval-reminder:{step}:{day}"


def step_approvers(step: AnnouncementStep, *, today: dt.date) -> list:
    """The active logins that may decide ``step`` today (see the module docstring), by pk.
    Queries: the role's holders (for a role step), the delegations, the step's version."""
    announcement = step.announcement
    if step.approver_id is not None:
        approver_ids = {step.approver_id}
    else:
        approver_ids = set(role_holders(step.approver_kind).values_list("pk", flat=True))
    delegate_ids = set(
        Delegation.objects.filter(
            approver_id__in=approver_ids, starts_on__lte=today, ends_on__gte=today
        ).values_list("delegate_id", flat=True)
    )
    decided: set[int | None] = {announcement.author_id}
    for by, for_ in AnnouncementStep.objects.filter(
        announcement_id=announcement.pk, version=step.version
    ).values_list("decided_by_id", "decided_for_id"):
        decided |= {by, for_}
    wanted = (approver_ids | delegate_ids) - decided
    return list(
        get_user_model()
        .objects.filter(Q(pk__in=wanted), is_active=True)
        .select_related("employee")
        .order_by("pk")
    )


def approval_waiting_tell(step: AnnouncementStep, *, now: dt.datetime) -> int:
    """Tell whoever may decide ``step`` (just started or escalated) that it waits for them;
    returns how many were told."""
    announcement = step.announcement
    due = moment_text(step.due_at) if step.due_at is not None else ""
    from announcements.services.workflow import approver_label  # workflow imports this module

    body = BODY_WAITING.format(position=step.position, who=approver_label(step), due=due or "—")
    url = reverse("admin:announcements_announcement_change", args=[announcement.pk])
    told = 0
    for user in step_approvers(step, today=company_date(now)):
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.APPROVAL_WAITING,
            title=TITLE_WAITING.format(title=announcement.title),
            body=body,
            url=url,
            subject_key=STEP_NOTICE_KEY.format(step=step.pk),
        )
        told += int(notice is not None)
    return told


def steps_notices_settle(step_ids, *, recipient_ids=None) -> int:
    """The steps are decided or their item withdrawn (or, with ``recipient_ids``, escalated
    past those approvers): their 待审批 notices and late reminders no longer ask anything
    (notices.services.settling)."""
    ids = list(step_ids)
    return notices_settle(
        keys=[STEP_NOTICE_KEY.format(step=pk) for pk in ids],
        key_prefixes=[REMINDER_KEY.format(step=pk, day="") for pk in ids],
        recipient_ids=recipient_ids,
    )
