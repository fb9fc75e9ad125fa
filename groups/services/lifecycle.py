"""People change, groups follow: a joiner, mover or leaver (members.PersonnelEvent) acted on at
once, in the transaction that changed the employee (docs/architecture.md, personnel events).

- A **leaver** gets a "remove" to-do (a DEPARTED finding, §5.3.c) in each group whose latest
  roster still holds them; their own open rename and eligibility findings there, and the
  family's MISSING question about them, are resolved (superseded), closing their to-dos; the
  groups they created or administered go to a successor (离职继承, settings.GROUP_SUCCESSOR_RULE)
  with their open to-dos, under a fresh due date: nobody is charged for what they could not do.
- A **joiner** or **mover** is judged per family as reconciliation judges MISSING
  (groups.services.reconcile._reconcile_family_missing): only when every active group of the
  family has a reconciled latest snapshot — otherwise the next reconciliation judges them. An
  "add" to-do where they are now eligible and in none of the family's groups, a "remove" to-do
  where a group's latest roster holds them and they no longer qualify (HR's exceptions
  honoured), and the findings that no longer hold resolved.

The findings are keyed exactly as reconciliation keys them ((group, kind, "e:<pk>")), so a
later snapshot keeps or closes them like any other (reconcile_apply.findings_apply). Query
counts do not grow with the number of groups or to-dos
(tests/groups/test_lifecycle.py). A whole employee sheet is applied in one set-based pass
(members.signals.personnel_events_batched). Succession itself: groups.services.succession.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from groups import selectors
from groups.models import (
    BULK_BATCH,
    ChatGroup,
    Finding,
    RosterAction,
    RosterMember,
)
from groups.services.reconcile_apply import finding_new, roster_action_for
from groups.services.succession import leavers_succession
from members.models import PersonnelEvent
from members.signals import FIELD_STATUS

if TYPE_CHECKING:
    from groups.selectors import GroupWithLatest as _GroupNow

DETAIL_DEPARTED = "{name}（{employee_no}）已离职"
DETAIL_INELIGIBLE = "{department} 的 {name} 不符合本群入群条件"
DETAIL_MISSING = "符合入群条件但不在群内"
# Findings about a person that a leaver's DEPARTED finding supersedes (§5.3.c: they must go,
# whatever else was wrong), and a rehired joiner's open DEPARTED finding (they are back).
SUPERSEDED_BY_LEAVING = (
    Finding.Kind.INELIGIBLE,
    Finding.Kind.NOT_REAL_NAME,
    Finding.Kind.MISSING,
)


@dataclass
class Outcome:
    """What the groups did, as PersonnelEvent.outcome records it: to-dos opened, closed and
    moved per group (by name, as HR knows them), successions, families left to reconciliation."""

    opened: Counter = field(default_factory=Counter)
    closed: Counter = field(default_factory=Counter)
    moved: Counter = field(default_factory=Counter)
    successions: list[dict] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        result: dict = {}
        for name in ("opened", "closed", "moved"):
            counts = getattr(self, name)
            if counts:
                result[name] = dict(sorted(counts.items()))
        if self.successions:
            result["successions"] = self.successions
        if self.waiting:
            result["waiting"] = sorted(self.waiting)
        return result


def _active_groups() -> list[_GroupNow]:
    """Every active group with its latest snapshot (id, reconciled at), in one query."""
    return list(selectors.with_latest_snapshot(ChatGroup.objects.filter(is_active=True)))


@transaction.atomic
def personnel_events_apply(*, events: list[PersonnelEvent]) -> None:
    """Make the groups follow joiners, movers and leavers, set-based: one save from the admin or
    code, or a whole employee sheet at once (members.signals.personnel_events_batched). Stores
    each event's outcome.

    Called by groups.signals in the transaction that changed the employees. Applying the same
    events again opens nothing twice (the open findings are looked up first, as
    reconciliation's unique key demands). An employee with two events in one batch has them
    applied in order.
    """
    chunk: list[PersonnelEvent] = []
    for event in events:
        if any(e.employee_id == event.employee_id for e in chunk):
            _apply(chunk)
            chunk = []
        chunk.append(event)
    if chunk:
        _apply(chunk)


@dataclass
class _Batch:
    """What one pass over some events loaded once, and what it will write."""

    now: dt.datetime
    groups: list[_GroupNow]
    outcomes: dict[int, Outcome]  # event id -> outcome
    # employee id -> their open findings ("e:<pk>" subjects), and their rows in latest snapshots
    existing: dict[int, list[Finding]] = field(default_factory=dict)
    rows: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)
    created: list[Finding] = field(default_factory=list)
    resolved: dict[int, tuple[Finding, PersonnelEvent]] = field(default_factory=dict)

    @property
    def groups_by_id(self) -> dict[int, _GroupNow]:
        return {g.pk: g for g in self.groups}

    def resolve(self, finding: Finding, event: PersonnelEvent) -> None:
        self.resolved.setdefault(finding.pk, (finding, event))


def _apply(events: list[PersonnelEvent]) -> None:
    groups = _active_groups()
    batch = _Batch(now=timezone.now(), groups=groups, outcomes={e.pk: Outcome() for e in events})
    leavers = [e for e in events if e.kind == PersonnelEvent.Kind.LEAVER]
    others = [e for e in events if e.kind != PersonnelEvent.Kind.LEAVER]
    waiting: list[str] = []
    judged = _judged_families(groups, waiting) if others else []
    for event in others:
        batch.outcomes[event.pk].waiting = waiting
    # Rehired (离职 -> 在职): an open DEPARTED finding about them is answered whatever the families.
    rehired = [e for e in others if (e.changes.get(FIELD_STATUS) or [None])[0] is not None]
    looked_up = leavers + (others if judged else rehired)
    if looked_up:  # most saves of one employee: no family can be judged yet, nothing to look up
        snapshots = [g.latest_snapshot for g in groups if g.latest_snapshot]
        _load(batch, [e.employee_id for e in looked_up], snapshots)
    for event in leavers:
        _leaver_findings(batch, event)
    for event in rehired:
        for finding in batch.existing.get(event.employee_id, []):
            if finding.kind == Finding.Kind.DEPARTED:
                batch.resolve(finding, event)
    if judged:
        _judge_eligibility(batch, others, judged)
    _store(batch, leavers)
    leavers_succession(leavers, now=batch.now, outcomes=batch.outcomes)
    changed = []
    for event in events:
        event.outcome = batch.outcomes[event.pk].as_dict()
        if event.outcome:
            changed.append(event)
    PersonnelEvent.objects.bulk_update(changed, ["outcome"], batch_size=BULK_BATCH)


def _load(batch: _Batch, employee_ids: list[int], snapshot_ids: list[int]) -> None:
    """The employees' open findings and their rows in the latest snapshots: two queries."""
    for finding in Finding.objects.filter(employee__in=employee_ids, status=Finding.Status.OPEN):
        employee_id = finding.employee_id
        if (
            employee_id is not None and finding.subject == f"e:{employee_id}"
        ):  # reconciliation's key
            batch.existing.setdefault(employee_id, []).append(finding)
    rows = RosterMember.objects.filter(
        snapshot__in=snapshot_ids, employee__in=employee_ids
    ).values_list("employee_id", "snapshot_id", "display_name", "wechat_id")
    for employee_id, snapshot_id, name, wechat_id in rows:
        batch.rows.setdefault(employee_id, {})[snapshot_id] = (name, wechat_id)


# -- findings -------------------------------------------------------------------------------


def _new_finding(
    *,
    event: PersonnelEvent,
    group: ChatGroup,
    kind: str,
    detail: str,
    snapshot_id: int | None = None,
    display_name: str = "",
    wechat_id: str = "",
) -> Finding:
    return finding_new(
        group=group,
        kind=kind,
        subject=f"e:{event.employee_id}",  # as reconciliation keys it (groups.services.detect)
        employee_id=event.employee_id,
        display_name=display_name,
        wechat_id=wechat_id,
        detail=detail,
        first_seen_id=snapshot_id,
        last_seen_id=snapshot_id,
        event=event,
    )


def _store(batch: _Batch, leavers: list[PersonnelEvent]) -> None:
    """Resolve the superseded findings and close their to-dos (and the leavers' own to-dos as
    members), then store the new findings with the to-do each asks for (roster_action_for:
    whoever can fix it). A constant number of queries."""
    name_of = {g.pk: g.name for g in batch.groups}
    event_of_leaver = {e.employee_id: e for e in leavers}
    resolved = [finding for finding, _ in batch.resolved.values()]
    for finding in resolved:
        finding.status = Finding.Status.RESOLVED
        finding.resolved_at = batch.now
    Finding.objects.bulk_update(resolved, ["status", "resolved_at"], batch_size=BULK_BATCH)
    closing = Q(finding__in=list(batch.resolved))
    if leavers:  # §5.3.b: a rename is nobody's to do once they left
        closing |= Q(owner=RosterAction.Owner.MEMBER, assignee__in=list(event_of_leaver))
    if resolved or leavers:
        closed = list(
            RosterAction.objects.filter(closing, status=RosterAction.Status.OPEN).values_list(
                "pk", "group_id", "finding_id", "assignee_id"
            )
        )
        RosterAction.objects.filter(pk__in=[row[0] for row in closed]).update(
            status=RosterAction.Status.DONE, closed_at=batch.now
        )
        for _, group_id, finding_id, assignee_id in closed:
            event = (
                batch.resolved[finding_id][1]
                if finding_id in batch.resolved
                else event_of_leaver[assignee_id]
            )
            batch.outcomes[event.pk].closed[name_of.get(group_id, str(group_id))] += 1
    created = Finding.objects.bulk_create(batch.created, batch_size=BULK_BATCH)
    today = timezone.localdate(batch.now)
    groups_by_id = batch.groups_by_id
    actions = []
    for finding in created:
        action = roster_action_for(finding, groups_by_id[finding.group_id], today=today)
        if action is None:
            continue
        actions.append(action)
        if finding.event_id is not None:  # always: every finding made here names its event
            batch.outcomes[finding.event_id].opened[name_of[finding.group_id]] += 1
    RosterAction.objects.bulk_create(actions, batch_size=BULK_BATCH)


def _leaver_findings(batch: _Batch, event: PersonnelEvent) -> None:
    """§5.3.c: a "remove" to-do in every group whose latest roster holds the leaver; what else
    was open about them is superseded (their to-dos as members close in _store)."""
    employee = event.employee
    by_snapshot = {g.latest_snapshot: g for g in batch.groups if g.latest_snapshot}
    existing = batch.existing.get(employee.pk, [])
    departed_in = {f.group_id for f in existing if f.kind == Finding.Kind.DEPARTED}
    for snapshot_id, (display_name, wechat_id) in batch.rows.get(employee.pk, {}).items():
        group = by_snapshot[snapshot_id]
        if group.pk in departed_in:
            continue
        batch.created.append(
            _new_finding(
                event=event,
                group=group,
                kind=Finding.Kind.DEPARTED,
                detail=DETAIL_DEPARTED.format(name=employee.name, employee_no=employee.employee_no),
                snapshot_id=snapshot_id,
                display_name=display_name,
                wechat_id=wechat_id,
            )
        )
    for finding in existing:
        if finding.kind in SUPERSEDED_BY_LEAVING:
            batch.resolve(finding, event)


def _judged_families(groups: list[_GroupNow], waiting: list[str]) -> list[tuple[_GroupNow, list]]:
    """(first group, its active groups) of each family whose every active group has a
    reconciled latest snapshot; the others' first groups' codes go to ``waiting``: the next
    reconciliation judges them (groups.services.reconcile._reconcile_family_missing)."""
    groups_by_id = {g.pk: g for g in groups}
    families: dict[int, list[_GroupNow]] = defaultdict(list)
    for group in groups:
        families[group.family_id or group.pk].append(group)
    judged: list[tuple[_GroupNow, list[_GroupNow]]] = []
    for root_id, family in families.items():
        root = groups_by_id.get(root_id)
        if root is None:
            continue  # an inactive first group: reconciliation skips its family too
        if all(g.latest_snapshot and g.latest_reconciled_at for g in family):
            judged.append((root, family))
        else:
            waiting.append(root.name)
    return judged


def _judge_eligibility(batch: _Batch, events: list[PersonnelEvent], judged) -> None:
    """Joiners and movers judged per family, as reconciliation judges them: MISSING on the
    family's first group, INELIGIBLE in each group whose latest roster holds them."""
    ids = [e.employee_id for e in events]
    for root, family in judged:
        eligible = selectors.eligible_employee_ids(root, among=ids)
        for event in events:
            _judge_one(batch, event, root, family, event.employee_id in eligible)


def _judge_one(batch: _Batch, event, root: ChatGroup, family: list[_GroupNow], eligible: bool):
    employee = event.employee
    existing = batch.existing.get(employee.pk, [])
    rows = batch.rows.get(employee.pk, {})
    held_in = {g.pk: rows[g.latest_snapshot] for g in family if g.latest_snapshot in rows}
    missing = [f for f in existing if f.kind == Finding.Kind.MISSING and f.group_id == root.pk]
    if eligible and not held_in and not missing:
        batch.created.append(
            _new_finding(event=event, group=root, kind=Finding.Kind.MISSING, detail=DETAIL_MISSING)
        )
    if not eligible:
        for finding in missing:
            batch.resolve(finding, event)
    ineligible = {f.group_id: f for f in existing if f.kind == Finding.Kind.INELIGIBLE}
    for group in family:
        if eligible and group.pk in ineligible:
            batch.resolve(ineligible[group.pk], event)
        elif not eligible and group.pk in held_in and group.pk not in ineligible:
            display_name, wechat_id = held_in[group.pk]
            batch.created.append(
                _new_finding(
                    event=event,
                    group=group,
                    kind=Finding.Kind.INELIGIBLE,
                    detail=DETAIL_INELIGIBLE.format(
                        department=employee.department.path, name=employee.name
                    ),
                    snapshot_id=group.latest_snapshot,
                    display_name=display_name,
                    wechat_id=wechat_id,
                )
            )
