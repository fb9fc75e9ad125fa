"""Reconciliation, step 3: the group's open findings made equal to what a snapshot shows.

Keep the ones still there, open the new ones (each with a RosterAction for the creator, §5.1),
resolve the ones the snapshot shows fixed (closing their action); §9.5 events belong to their
snapshot (see groups.services.reconcile). Set-based: a constant number of queries whatever
the number of findings, against the unique constraint on open findings (the idempotency key).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from groups.models import BULK_BATCH, ChatGroup, Finding, RosterAction, RosterSnapshot
from groups.policy_data import FINDING_SPECS
from groups.services.actions import roster_renames_tell_later
from groups.services.detect import EVENT_KINDS, Seen
from groups.services.todo_notices import roster_todos_tell_later

if TYPE_CHECKING:
    from groups.services.reconcile import ReconcileResult


def _due_on(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)


def finding_new(*, group: ChatGroup, kind: str, subject: str, **fields) -> Finding:
    """An unsaved finding of ``kind`` about ``subject`` with what FINDING_SPECS says of its
    kind (clause, severity, advice): reconciliation's and the personnel events' (lifecycle)."""
    spec = FINDING_SPECS[kind]
    return Finding(
        group=group,
        kind=kind,
        subject=subject,
        clause=spec.clause,
        severity=spec.severity,
        recommended_action=spec.advice,
        **fields,
    )


def roster_action_for(finding: Finding, group: ChatGroup, *, today: dt.date) -> RosterAction | None:
    """The to-do an open finding asks for, unsaved, assigned to whoever can fix it
    (FINDING_SPECS' owner): the group's creator (§5.1), the member (§5.3.b), or HR (no
    assignee: HR's queue; also a creator's to-do while the group has no creator). None when
    nothing is to be done in WeChat (events)."""
    spec = FINDING_SPECS[finding.kind]
    if spec.action is None:
        return None
    assignee_ids: dict[str, int | None] = {
        RosterAction.Owner.CREATOR: group.creator_id,
        RosterAction.Owner.MEMBER: finding.employee_id,
        RosterAction.Owner.HR: None,
    }
    owner = spec.owner
    assignee_id = assignee_ids[owner]
    if owner == RosterAction.Owner.CREATOR and assignee_id is None:
        owner = RosterAction.Owner.HR  # a group without creator: HR's queue, never nobody's
    return RosterAction(
        finding=finding,
        group=group,
        kind=spec.action,
        owner=owner,
        assignee_id=assignee_id,
        due_on=_due_on(today),
    )


def findings_apply(
    *,
    group: ChatGroup,
    snapshot: RosterSnapshot,
    seen: list[Seen],
    kinds: frozenset[str],
    now: dt.datetime,
    result: ReconcileResult,
) -> list[Finding]:
    """Make the open findings of ``kinds`` in ``group`` equal to ``seen``. Constant queries."""
    wanted = {(s.kind, s.subject): s for s in seen if s.kind in kinds}
    # Findings about the roster as it is: the open ones. Events (§9.5 退群, 新入群) only of this
    # snapshot: a 退群 of an earlier one still waiting for HR's decision is HR's to decide,
    # never closed because a later snapshot does not show it again.
    existing = {
        (f.kind, f.subject): f
        for f in Finding.objects.filter(
            group=group, kind__in=kinds - EVENT_KINDS, status=Finding.Status.OPEN
        )
    }
    if kinds & EVENT_KINDS:  # events of this snapshot, open or already decided
        existing.update(
            {
                (f.kind, f.subject): f
                for f in Finding.objects.filter(
                    group=group, kind__in=kinds & EVENT_KINDS, subject__endswith=f"@{snapshot.pk}"
                )
            }
        )
    to_create, to_update, to_resolve = [], [], []
    withdrawn = []  # 新入群 events whose "not new after all" mark changes: no counts
    for key, s in wanted.items():
        finding = existing.get(key)
        if finding is None:
            to_create.append(
                finding_new(
                    group=group,
                    kind=s.kind,
                    subject=s.subject,
                    employee_id=s.employee_id,
                    display_name=s.display_name,
                    wechat_id=s.wechat_id,
                    detail=s.detail,
                    inviter_text=s.inviter_text,
                    inviter_id=s.inviter_id,
                    first_seen=snapshot,
                    last_seen=snapshot,
                    # JOINED is information only: nothing stays open for it.
                    status=Finding.Status.RESOLVED
                    if s.kind == Finding.Kind.JOINED
                    else Finding.Status.OPEN,
                    resolved_at=now if s.kind == Finding.Kind.JOINED else None,
                    decision=Finding.Decision.PENDING if s.kind == Finding.Kind.LEFT_GROUP else "",
                )
            )
        elif finding.kind not in EVENT_KINDS and (
            finding.last_seen_id != snapshot.pk or _shown(finding) != _shown(s)
        ):
            finding.last_seen = snapshot
            (
                finding.display_name,
                finding.wechat_id,
                finding.detail,
                finding.inviter_text,
                finding.inviter_id,
            ) = _shown(s)
            to_update.append(finding)
        elif _closed_by_reconciliation(finding):
            # §9.5: seen leaving again (HR forgot the identity that explained it): back
            # to HR's pending question. to_resolve also carries these status writes.
            finding.status = Finding.Status.OPEN
            finding.resolved_by = None
            finding.resolved_at = None
            finding.decision = Finding.Decision.PENDING
            to_resolve.append(finding)
            result.opened += 1
        elif _withdrawn_joined(finding):
            # Seen joining again (the identity was forgotten): information once more.
            finding.resolved_by = None
            finding.resolved_at = now
            withdrawn.append(finding)
    for key, finding in existing.items():
        if key not in wanted:
            _close_unseen(finding, snapshot, now, to_resolve=to_resolve, withdrawn=withdrawn)

    created = Finding.objects.bulk_create(to_create, batch_size=BULK_BATCH)
    Finding.objects.bulk_update(
        to_update,
        ["last_seen", "display_name", "wechat_id", "detail", "inviter_text", "inviter"],
        batch_size=BULK_BATCH,
    )
    Finding.objects.bulk_update(
        to_resolve + withdrawn,
        ["status", "resolved_by", "resolved_at", "decision"],
        batch_size=BULK_BATCH,
    )
    resolved = [f for f in to_resolve if f.status == Finding.Status.RESOLVED]
    closed = resolved + [f for f in withdrawn if f.resolved_by_id]
    if closed:
        # §5.1: a later snapshot that shows the fix closes the creator's to-do.
        RosterAction.objects.filter(
            finding__in=[f.pk for f in closed], status=RosterAction.Status.OPEN
        ).update(status=RosterAction.Status.DONE, closed_at=now)
    today = timezone.localdate(now)
    actions = [
        action
        for f in created
        if f.status == Finding.Status.OPEN
        and (action := roster_action_for(f, group, today=today)) is not None
    ]
    RosterAction.objects.bulk_create(actions, batch_size=BULK_BATCH)
    roster_renames_tell_later(actions)  # §5.3.b: the member hears of their rename once
    roster_todos_tell_later(actions)  # §5.1: the creator hears of the to-dos opened for them
    result.opened += len(created)
    result.kept += len(wanted) - len(created) - (len(to_resolve) - len(resolved))
    result.resolved += len(resolved)
    return created


def _shown(f: Finding | Seen) -> tuple:
    """What a finding shows of the member, which a later snapshot may change (the inviter
    too, §5.3.a: the file's 邀请人 corrected, or now matched to an employee)."""
    return (f.display_name, f.wechat_id, f.detail, f.inviter_text, f.inviter_id)


def _close_unseen(
    finding: Finding,
    snapshot: RosterSnapshot,
    now: dt.datetime,
    *,
    to_resolve: list[Finding],
    withdrawn: list[Finding],
) -> None:
    """A finding the snapshot no longer shows: resolved by it, or withdrawn (新入群)."""
    if finding.kind not in EVENT_KINDS or _pending_left_group(finding):
        # A pending §9.5 question no longer seen: the member was there after all,
        # under a name HR has since confirmed (MemberIdentity). Nobody decided it.
        if finding.kind == Finding.Kind.LEFT_GROUP:
            finding.decision = ""
        finding.status = Finding.Status.RESOLVED
        finding.resolved_by = snapshot
        finding.resolved_at = now
        to_resolve.append(finding)
    elif finding.kind == Finding.Kind.JOINED and not _withdrawn_joined(finding):
        # "新入群" under a name now known to be someone who was already there: kept
        # for the record, resolved by this snapshot like any finding it shows fixed.
        finding.status = Finding.Status.RESOLVED
        finding.resolved_by = snapshot
        finding.resolved_at = now
        finding.decision = ""
        withdrawn.append(finding)


def _pending_left_group(finding: Finding) -> bool:
    return (
        finding.kind == Finding.Kind.LEFT_GROUP
        and finding.status == Finding.Status.OPEN
        and finding.decision == Finding.Decision.PENDING
    )


def _withdrawn_joined(finding: Finding) -> bool:
    """A 新入群 a run found to be a member who was already there (resolved by a snapshot).

    A 新入群 is resolved when it is made (information only), by no snapshot.
    """
    return finding.kind == Finding.Kind.JOINED and finding.resolved_by_id is not None


def _closed_by_reconciliation(finding: Finding) -> bool:
    """A §9.5 event a run closed (not HR: no decision), which a later run may reopen."""
    return (
        finding.kind == Finding.Kind.LEFT_GROUP
        and finding.status == Finding.Status.RESOLVED
        and not finding.decision
    )
