"""Approving an announcement (§4): submit, approve, reject, withdraw, the 应急 review.

Rules enforced here, whoever calls:
- the author submits, revises (content.announcement_revise) and withdraws, and only before
  the last approval;
- each step is decided by its approver: the person named on the item's step (the author's
  department head, a named person, whoever it escalated to), or for a role step
  (任一公司领导, 人力资源部) anyone holding its right (announcements.approve_as_leader /
  approve_as_hr) — or by that approver's delegate, within the delegation's dates (Asia/
  Shanghai), recorded as acting for them (decided_for, on_behalf_of);
- nobody approves their own item (nor as someone's delegate for it), nobody decides two
  steps of the same version (directly or for someone), and the system decides nothing;
- a rejection needs a comment; the author revises (a new version) and submits again, and
  the steps start over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from announcements.models import Announcement, AnnouncementStep, ApproverKind, Delegation, TimeUnit
from announcements.selectors import ROLE_PERMISSIONS, company_date
from announcements.services.approval_notices import approval_waiting_tell, steps_notices_settle
from announcements.services.content import announcement_check_targets
from announcements.services.errors import (
    ERROR_COMMENT_REQUIRED,
    ERROR_FORBIDDEN_MOVE,
    ERROR_MAY_NOT_REVIEW,
    ERROR_NO_REVIEW,
    ERROR_NOT_AUTHOR,
    ERROR_NOT_PENDING,
    ERROR_NOT_YOUR_STEP,
    ERROR_OWN_ITEM,
    ERROR_SYSTEM_DECIDES,
    ERROR_TWICE,
    ERROR_WITHDRAW_APPROVED,
    AnnouncementError,
)
from announcements.services.machine import locked, move, record_decision
from announcements.services.routes import resolve_steps, route_plan
from common.actors import Actor, actor_user, is_system, require_actor
from workdays.selectors import working_days_after

if TYPE_CHECKING:
    from django.contrib.auth.models import User

State = Announcement.State


def step_due(step: AnnouncementStep, start: dt.datetime) -> dt.datetime:
    """When ``step`` started at ``start`` is late: working days by the holiday table
    (workdays.selectors), hours by the clock."""
    if step.time_unit == TimeUnit.HOURS:
        return start + dt.timedelta(hours=step.time_limit)
    return working_days_after(start, step.time_limit)


def step_start(step: AnnouncementStep, now: dt.datetime) -> None:
    step.started_at = now
    step.due_at = step_due(step, now)
    step.save(update_fields=["started_at", "due_at"])
    approval_waiting_tell(step, now=now)  # its approvers' inbox (待审批)


def current_step(announcement: Announcement) -> AnnouncementStep | None:
    if announcement.state != State.PENDING or not announcement.current_step:
        return None
    return (
        AnnouncementStep.objects.select_related("approver")
        .filter(
            announcement=announcement,
            version=announcement.version,
            position=announcement.current_step,
        )
        .first()
    )


def person_label(user: User) -> str:
    """A login as people know it: the employee's name, else the login's name."""
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else (user.get_full_name() or user.username)


def approver_label(step: AnnouncementStep) -> str:
    if step.approver is not None:
        return f"{step.get_approver_kind_display()}（{person_label(step.approver)}）"
    return step.get_approver_kind_display()


def _may_decide_directly(user, step: AnnouncementStep) -> bool:
    if step.approver_id is not None:
        return step.approver_id == user.pk
    return user.is_active and user.has_perm(ROLE_PERMISSIONS[ApproverKind(step.approver_kind)])


@dataclass(frozen=True)
class Authority:
    """Whether a person may decide a step, for whom when as a delegate, and else why not."""

    allowed: bool
    on_behalf_of: User | None = None  # the approver's login
    refusal: str = ""  # the Chinese message when not allowed


def _decided_on_version(step: AnnouncementStep) -> set[int]:
    """Who decided a step of ``step``'s version, or was decided for (one query)."""
    ids: set[int] = set()
    for by, for_ in AnnouncementStep.objects.filter(
        announcement_id=step.announcement_id, version=step.version
    ).values_list("decided_by_id", "decided_for_id"):
        ids |= {pk for pk in (by, for_) if pk is not None}
    return ids


def decide_authority(user, step: AnnouncementStep, *, today: dt.date) -> Authority:
    """May ``user`` decide ``step`` (the current step of a pending item) on ``today``?

    Not on their own item, nor after deciding (or being decided for) a step of this version.
    Then directly (the step's person, or a holder of the role's right); else as the delegate
    of any one approver who could, with a delegation covering ``today``, whose item it is
    not and who has not decided a step of this version either — every delegation is tried,
    so announcements.selectors.announcements_waiting_for (the inbox, the same rules) agrees.
    """
    author_id = Announcement.objects.values_list("author_id", flat=True).get(
        pk=step.announcement_id
    )
    if user.pk == author_id:
        return Authority(False, refusal=ERROR_OWN_ITEM)
    decided = _decided_on_version(step)
    if user.pk in decided:
        return Authority(False, refusal=ERROR_TWICE)
    if _may_decide_directly(user, step):
        return Authority(True)
    delegations = (
        Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today)
        .select_related("approver")
        .order_by("pk")
    )
    refusals = []
    for delegation in delegations:
        approver = delegation.approver
        if not _may_decide_directly(approver, step):
            continue
        if approver.pk == author_id:  # nobody approves their own item, nor through a delegate
            refusals.append(ERROR_OWN_ITEM)
        elif approver.pk in decided:  # the approver decided (or was decided for) already
            refusals.append(ERROR_TWICE)
        else:
            return Authority(True, approver)
    if refusals:
        return Authority(False, refusal=refusals[0])
    return Authority(False, refusal=ERROR_NOT_YOUR_STEP.format(approver=approver_label(step)))


@transaction.atomic
def announcement_submit(
    *, announcement: Announcement, actor: Actor, now: dt.datetime | None = None
) -> Announcement:
    """Draft → pending at step 1 of its route (the steps copied onto the item, the approvers
    found now), or → approved at once when the route has no steps. The targets are checked
    again (the groups' kinds may have changed since the draft)."""
    require_actor(actor)
    now = now or timezone.now()
    announcement = locked(announcement)
    if not is_system(actor) and actor != announcement.author:
        raise AnnouncementError(ERROR_NOT_AUTHOR)
    if announcement.state != State.DRAFT:  # pending → pending is a step's approval, not this
        raise AnnouncementError(
            ERROR_FORBIDDEN_MOVE.format(
                title=announcement.title,
                current=announcement.get_state_display(),
                target=State.PENDING.label,
            )
        )
    groups = list(announcement.target_groups.select_related("family"))
    announcement_check_targets(
        category=announcement.category,
        groups=groups,
        classification=announcement.classification,
    )
    plan = route_plan(category=announcement.category, groups=groups)
    announcement.review_after = plan.review_after
    if not plan.steps:
        announcement.current_step = 0
        return move(
            announcement,
            State.APPROVED,
            actor=actor,
            comment="提交：审批流程没有审批环节，无需审批",
            fields=("review_after", "current_step"),
        )
    resolved = resolve_steps(plan.steps, announcement.author)
    steps = []
    for position, spec in enumerate(resolved.steps, start=1):
        steps.append(
            AnnouncementStep(
                announcement=announcement,
                version=announcement.version,
                position=position,
                approver_kind=spec.approver_kind,
                approver_id=spec.approver_id,
                time_limit=spec.time_limit,
                time_unit=spec.time_unit,
            )
        )
    AnnouncementStep.objects.bulk_create(steps)
    first = AnnouncementStep.objects.get(
        announcement=announcement, version=announcement.version, position=1
    )
    step_start(first, now)
    announcement.current_step = 1
    return move(
        announcement,
        State.PENDING,
        actor=actor,
        comment=f"提交审批（共 {len(steps)} 个环节）"
        + (f"：{resolved.note}" if resolved.note else ""),
        step=1,
        fields=("review_after", "current_step"),
    )


def _decision_context(
    announcement: Announcement, actor: Actor, now: dt.datetime
) -> tuple[AnnouncementStep, Authority]:
    """The waiting step and the actor's authority on it, or the refusal: not pending, the
    system, the author (also as someone's delegate), twice, not the approver."""
    require_actor(actor)
    if announcement.state != State.PENDING:
        raise AnnouncementError(
            ERROR_NOT_PENDING.format(
                title=announcement.title, current=announcement.get_state_display()
            )
        )
    if is_system(actor):
        raise AnnouncementError(ERROR_SYSTEM_DECIDES)
    step = current_step(announcement)
    if step is None:  # raised, not asserted: holds under python -O
        raise AssertionError("a pending announcement has a current step")
    # The delegation's dates are the company's (Asia/Shanghai), whatever zone is active.
    authority = decide_authority(actor, step, today=company_date(now))
    if not authority.allowed:
        raise AnnouncementError(authority.refusal)
    return step, authority


def _record_step(
    step: AnnouncementStep, outcome: str, actor, authority: Authority, comment: str, now
) -> None:
    step.outcome = outcome
    step.decided_by = actor
    step.decided_for = authority.on_behalf_of
    step.decided_at = now
    step.comment = comment
    step.save(update_fields=["outcome", "decided_by", "decided_for", "decided_at", "comment"])
    steps_notices_settle([step.pk])  # decided: no approver of it is asked any more


@transaction.atomic
def announcement_approve(
    *, announcement: Announcement, actor: Actor, comment: str = "", now: dt.datetime | None = None
) -> Announcement:
    """The current step approved by its approver (or their delegate): the next step starts
    (pending → pending), or after the last one the item is approved."""
    now = now or timezone.now()
    announcement = locked(announcement)
    step, authority = _decision_context(announcement, actor, now)
    comment = (comment or "").strip()
    _record_step(step, AnnouncementStep.Outcome.APPROVED, actor, authority, comment, now)
    following = AnnouncementStep.objects.filter(
        announcement=announcement, version=announcement.version, position=step.position + 1
    ).first()
    note = comment or "同意"
    if following is None:
        announcement.current_step = 0
        return move(
            announcement,
            State.APPROVED,
            actor=actor,
            comment=note,
            step=step.position,
            on_behalf_of=authority.on_behalf_of,
            fields=("current_step",),
        )
    step_start(following, now)
    announcement.current_step = following.position
    return move(
        announcement,
        State.PENDING,
        actor=actor,
        comment=note,
        step=step.position,
        on_behalf_of=authority.on_behalf_of,
        fields=("current_step",),
    )


@transaction.atomic
def announcement_reject(
    *, announcement: Announcement, actor: Actor, comment: str, now: dt.datetime | None = None
) -> Announcement:
    """Pending → rejected, with the comment the author needs to revise."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    announcement = locked(announcement)
    step, authority = _decision_context(announcement, actor, now)
    if not comment:
        raise AnnouncementError(ERROR_COMMENT_REQUIRED)
    _record_step(step, AnnouncementStep.Outcome.REJECTED, actor, authority, comment, now)
    announcement.current_step = 0
    return move(
        announcement,
        State.REJECTED,
        actor=actor,
        comment=comment,
        step=step.position,
        on_behalf_of=authority.on_behalf_of,
        fields=("current_step",),
    )


@transaction.atomic
def announcement_withdraw(
    *, announcement: Announcement, actor: Actor, comment: str = ""
) -> Announcement:
    """The author takes the item back before its last approval (draft, pending, rejected)."""
    require_actor(actor)
    announcement = locked(announcement)
    if not is_system(actor) and actor != announcement.author:
        raise AnnouncementError(ERROR_NOT_AUTHOR)
    if announcement.state in (State.APPROVED, State.PUBLISHED):
        raise AnnouncementError(ERROR_WITHDRAW_APPROVED)
    announcement.current_step = 0
    steps_notices_settle(
        AnnouncementStep.objects.filter(announcement=announcement).values_list("pk", flat=True)
    )
    return move(
        announcement,
        State.WITHDRAWN,
        actor=actor,
        comment=(comment or "").strip() or "起草人撤回",
        fields=("current_step",),
    )


@transaction.atomic
def announcement_review(
    *, announcement: Announcement, actor: Actor, comment: str = "", now: dt.datetime | None = None
) -> Announcement:
    """The 应急 item's review after the fact (§4) by a company leader other than the author:
    recorded on the item and in its timeline; not a change of state."""
    require_actor(actor)
    now = now or timezone.now()
    announcement = locked(announcement)
    if (
        not announcement.review_after
        or announcement.reviewed_at is not None
        or announcement.state not in (State.APPROVED, State.PUBLISHED)
    ):
        raise AnnouncementError(ERROR_NO_REVIEW)
    if (
        is_system(actor)
        or actor.pk == announcement.author_id
        or not actor.has_perm(ROLE_PERMISSIONS[ApproverKind.COMPANY_LEADER])
    ):
        raise AnnouncementError(ERROR_MAY_NOT_REVIEW)
    announcement.reviewed_by, announcement.reviewed_at = actor_user(actor), now
    announcement.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
    record_decision(
        announcement,
        announcement.state,
        announcement.state,
        actor=actor,
        comment=f"事后复核：{(comment or '').strip() or '无异议'}",
    )
    return announcement
