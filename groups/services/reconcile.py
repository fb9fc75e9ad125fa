"""Reconciliation: a roster snapshot against the group's rules, into findings and actions.

The policy's core check (§4, §5.1, §5.3.a–c, §6.3, §9.5). For one snapshot:

1. match every member to an employee: WeChat id, then HR's remembered decision
   (MemberIdentity), then the real name in the display name — never a guess
   between two people with the same name (AMBIGUOUS instead);
2. work out which findings the snapshot shows;
3. make the open findings of the group equal to that set (reconcile_apply.py): keep the ones still
   there, open the new ones (each with a RosterAction for the creator, §5.1),
   resolve the ones the snapshot shows fixed (closing their action). Events
   (§9.5 退群, 新入群) belong to their snapshot: a run of the same snapshot that no
   longer sees one (HR confirmed who a "new" name is) closes a still-pending
   退群 and marks the 新入群 resolved by this snapshot (kept for the record, left
   out of the report); HR's decisions are never undone.

Idempotent: findings are keyed by (group, kind, subject) with a unique
constraint on open ones, so running the same snapshot twice, or two workers at
once, changes nothing the second time. The number of queries does not depend on
the number of members (tests/groups/test_reconcile_queries.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.db import analyze_when_outgrown, update_from_values
from groups import selectors
from groups.matching import match_members
from groups.models import (
    BULK_BATCH,
    ChatGroup,
    Finding,
    ReconciliationRun,
    RosterMember,
    RosterSnapshot,
)
from groups.services.accounts import account_reports_open_at
from groups.services.detect import (
    EVENT_KINDS,
    GROUP_KINDS,
    MEMBER_KINDS,
    Seen,
    events_between,
    findings_for_members,
    missing_from_family,
)
from groups.services.reconcile_apply import findings_apply


@dataclass
class ReconcileResult:
    run: ReconciliationRun | None
    snapshot: RosterSnapshot
    skipped: bool = False
    note: str = ""
    opened: int = 0
    kept: int = 0
    resolved: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "group": self.snapshot.group.code,
            "snapshot": self.snapshot.pk,
            "run": self.run.pk if self.run else None,
            "skipped": self.skipped,
            "note": self.note,
            "opened": self.opened,
            "kept": self.kept,
            "resolved": self.resolved,
            "counts": self.counts,
        }


_UNFINISHED = (ReconciliationRun.Status.PENDING, ReconciliationRun.Status.RUNNING)


def _set_progress(run: ReconciliationRun | None, progress: int, status: str | None = None) -> None:
    if run is None:
        return
    run.progress = progress
    fields = ["progress"]
    if status:
        run.status = status
        fields.append("status")
    # Called before the reconciliation's transaction opens, so the admin sees the run
    # start; one group takes well under a second, the next thing it sees is 100 %.
    # Only a run still pending or running: one the sweeper gave up (runs_sweep_stale) stays
    # failed, its retry does the showing.
    ReconciliationRun.objects.filter(pk=run.pk, status__in=_UNFINISHED).update(
        **{f: getattr(run, f) for f in fields}
    )


def snapshot_reconcile(
    *,
    snapshot: RosterSnapshot,
    run: ReconciliationRun | None = None,
    judge_missing: bool = True,
) -> ReconcileResult:
    """Reconcile one snapshot; see the module docstring for what it guarantees.

    A snapshot that is no longer its group's latest is skipped: reconciling an
    older picture would reopen what a newer one showed fixed.

    ``judge_missing=False`` leaves the family-wide MISSING question to a later
    run (runs.runs_execute asks it once per family, after the last group).
    """
    result = ReconcileResult(run=run, snapshot=snapshot)
    _set_progress(run, 5, ReconciliationRun.Status.RUNNING)
    now = timezone.now()
    with transaction.atomic():
        # One reconciliation of a group at a time (PostgreSQL row lock; SQLite
        # serialises writers with IMMEDIATE transactions). The unique
        # constraint on open findings is the last line either way.
        group = (
            ChatGroup.objects.select_for_update(of=("self",))
            .select_related("family", "creator")
            .get(pk=snapshot.group_id)
        )
        latest = RosterSnapshot.objects.filter(group=group).latest()
        if latest.pk != snapshot.pk:
            result.skipped = True
            result.note = f"已有更新的快照 #{latest.pk}，本快照不再核对"
            _finish(run, result, ReconciliationRun.Status.SKIPPED)
            return result

        members = _members_of(snapshot.pk)
        previous = (
            RosterSnapshot.objects.filter(group=group, taken_at__lte=snapshot.taken_at)
            .exclude(pk=snapshot.pk)
            .order_by("-taken_at", "-pk")
            .first()
        )
        previous_members = _members_of(previous.pk) if previous else None
        # Both snapshots matched in one go: same queries, same answers for both.
        matches, employees, shared_wechat = match_members(group, members + (previous_members or []))
        changed = []
        for member in members:
            m = matches[member.pk]
            if (member.employee_id, member.match) != (m.employee_id, m.method):
                member.employee_id, member.match = m.employee_id, m.method
                changed.append(member)
        # Not bulk_update: its CASE expressions were 3/4 of a 500-member run.
        update_from_values(RosterMember, changed, ["employee", "match"], batch=BULK_BATCH)

        matched = {m.employee_id for m in matches.values() if m.employee_id}
        eligible = selectors.eligible_employee_ids(group, among=matched)
        # §6.3: accounts reported lost or stolen by the time the snapshot was taken.
        reports = account_reports_open_at(
            {m.wechat_id for m in members if m.wechat_id}, snapshot.taken_at
        )
        seen = findings_for_members(
            group, members, matches, employees, shared_wechat, eligible, reports
        )
        seen += events_between(snapshot, previous_members, members, matches, eligible)
        findings_apply(
            group=group,
            snapshot=snapshot,
            seen=seen,
            kinds=GROUP_KINDS | EVENT_KINDS,
            now=now,
            result=result,
        )
        result.counts = _count_kinds(seen)

        if judge_missing:
            result.note = _reconcile_family_missing(
                group=group, snapshot=snapshot, now=now, result=result
            )

        flagged = {pk for s in seen if s.kind in MEMBER_KINDS for pk in s.member_ids}
        snapshot.members_with_findings = len(flagged)
        snapshot.reconciled_at = now
        RosterSnapshot.objects.filter(pk=snapshot.pk).update(
            members_with_findings=len(flagged), reconciled_at=now
        )
    _finish(run, result, ReconciliationRun.Status.DONE)
    if result.opened:
        # The to-dos' references to their findings are checked by a plan the connection keeps:
        # fresh statistics once the findings table has outgrown them (common.db).
        analyze_when_outgrown(Finding)
    return result


# The columns a _Member is made of, in its __init__'s order.
_MEMBER_FIELDS = (
    "id",
    "snapshot_id",
    "display_name",
    "wechat_id",
    "inviter",
    "employee_id",
    "match",
)


class _Member:
    """What reconciliation reads of a RosterMember, from a values_list row: building the
    model instances (both snapshots of every group, about 102,000 per run over the demo
    company of 20,000) was 4 s of profiled CPU. Matching, detection and update_from_values
    read only these attributes."""

    __slots__ = (
        "display_name",
        "employee_id",
        "id",
        "inviter",
        "match",
        "snapshot_id",
        "wechat_id",
    )

    def __init__(self, *row) -> None:
        (
            self.id,
            self.snapshot_id,
            self.display_name,
            self.wechat_id,
            self.inviter,
            self.employee_id,
            self.match,
        ) = row

    @property
    def pk(self) -> int:
        return self.id


def _members_of(snapshot_id: int) -> list[RosterMember]:
    """The snapshot's members in RosterMember's order, as _Member rows (typed as the model,
    whose attributes they carry, for the functions that take members)."""
    rows = RosterMember.objects.filter(snapshot_id=snapshot_id).values_list(*_MEMBER_FIELDS)
    return cast("list[RosterMember]", [_Member(*row) for row in rows])


def _reconcile_family_missing(
    *, group: ChatGroup, snapshot: RosterSnapshot, now: dt.datetime, result: ReconcileResult
) -> str:
    """MISSING is a question for the whole family: eligible but in none of its groups.

    Findings go on the family's first group. The other groups' members count as
    matched by their own latest reconciliation, so the question waits (returns
    a note) until every group of the family has a reconciled latest snapshot.
    """
    # The family's first group holds the MISSING findings: lock it too, so that two
    # sibling groups reconciled at once on PostgreSQL do not both open them.
    root = ChatGroup.objects.select_for_update(of=("self",)).get(pk=group.rules_group.pk)
    family = selectors.with_latest_snapshot(
        ChatGroup.objects.filter(Q(pk=root.pk) | Q(family=root), is_active=True)
    )
    latest_ids = []
    for member_group in family:
        if member_group.latest_snapshot is None:
            return f"{member_group} 尚无成员快照，暂不判断应入群未入群"
        if member_group.pk != group.pk and member_group.latest_reconciled_at is None:
            return f"{member_group} 的最新快照尚未核对，暂不判断应入群未入群"
        latest_ids.append(member_group.latest_snapshot)
    in_family = set(
        RosterMember.objects.filter(snapshot__in=latest_ids)
        .exclude(employee=None)
        .values_list("employee_id", flat=True)
    )
    seen = missing_from_family(root, selectors.eligible_employee_ids(root), in_family)
    findings_apply(
        group=root,
        snapshot=snapshot,
        seen=seen,
        kinds=frozenset({Finding.Kind.MISSING}),
        now=now,
        result=result,
    )
    if seen:
        result.counts[Finding.Kind.MISSING] = len(seen)
    return ""


def _count_kinds(seen: list[Seen]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in seen:
        counts[s.kind] = counts.get(s.kind, 0) + 1
    return counts


def _finish(run: ReconciliationRun | None, result: ReconcileResult, status: str) -> None:
    if run is None:
        return
    run.status = status
    run.progress = 100
    run.finished_at = timezone.now()
    run.summary = {
        "opened": result.opened,
        "kept": result.kept,
        "resolved": result.resolved,
        "counts": result.counts,
        "note": result.note,
    }
    # A late worker finishing a run the sweeper already failed and retried leaves it failed
    # (docs/security.md, 5): the page would otherwise say 完成 beside "已自动重新核对".
    ReconciliationRun.objects.filter(pk=run.pk, status__in=_UNFINISHED).update(
        status=run.status, progress=run.progress, finished_at=run.finished_at, summary=run.summary
    )
