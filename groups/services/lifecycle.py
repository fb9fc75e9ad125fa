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
counts do not grow with the number of groups or to-dos (tests/groups/test_lifecycle_queries.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from groups import selectors
from groups.models import (
    BULK_BATCH,
    ChatGroup,
    ChatGroupUserObjectPermission,
    Finding,
    GroupSuccession,
    RosterAction,
    RosterMember,
    RosterSnapshot,
)
from groups.policy_data import FINDING_SPECS
from groups.services.reconcile_apply import roster_action_for
from groups.services.staffing import ADMIN_PERMISSIONS, CREATOR_PERMISSIONS
from members.models import HR_DEPARTMENT, PATH_SEPARATOR, Department, Employee, PersonnelEvent
from members.signals import FIELD_STATUS
from notices.models import Notice
from notices.services import notice_post

SUCCESSOR_DEPARTMENT_HEAD = "department_head"
SUCCESSOR_HR_HEAD = "hr_head"

DETAIL_DEPARTED = "{name}（{employee_no}）已离职"
DETAIL_INELIGIBLE = "{department} 的 {name} 不符合本群入群条件"
DETAIL_MISSING = "符合入群条件但不在群内"
NOTE_NO_SUCCESSOR = "未找到继任人（无在职的上级部门负责人或人力资源部负责人），请人力资源部指定"
NOTE_SUCCESSOR = "按规则“{rule}”由 {successor} 接任"
RULE_LABELS = {SUCCESSOR_DEPARTMENT_HEAD: "上级部门负责人", SUCCESSOR_HR_HEAD: "人力资源部负责人"}
NOTICE_TITLE = "你已接任 {count} 个微信群的{roles}（{leaver} 离职）"
NOTICE_LINE = "- {group}：{role}，转交待办 {moved} 项"
NOTICE_BODY = (
    "{leaver} 已离职，按《公司内部微信群管理办法》由你接任以下微信群的职责（离职继承）：\n"
    "{lines}\n转交的待办截止日期已重新计算，请在系统中查看。"
)

# Findings about a person that a leaver's DEPARTED finding supersedes (§5.3.c: they must go,
# whatever else was wrong), and a rehired joiner's open DEPARTED finding (they are back).
SUPERSEDED_BY_LEAVING = (
    Finding.Kind.INELIGIBLE,
    Finding.Kind.NOT_REAL_NAME,
    Finding.Kind.MISSING,
)


@dataclass
class _Outcome:
    """What the groups did, as PersonnelEvent.outcome shows it (group codes as keys)."""

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


def _active_groups() -> list[ChatGroup]:
    """Every active group with its latest snapshot (id, reconciled at), in one query."""
    latest = RosterSnapshot.objects.filter(group=OuterRef("pk")).order_by("-taken_at", "-pk")
    return list(
        ChatGroup.objects.filter(is_active=True).annotate(
            latest_snapshot=Subquery(latest.values("pk")[:1]),
            latest_reconciled_at=Subquery(latest.values("reconciled_at")[:1]),
        )
    )


@transaction.atomic
def personnel_event_apply(*, event: PersonnelEvent) -> dict:
    """Make the groups follow one joiner, mover or leaver; returns (and stores) the outcome.

    Called by groups.signals when the event is recorded, in the same transaction as the change
    of the employee. Applying the same event again opens nothing twice (it looks for the open
    findings first, as reconciliation's unique key demands).
    """
    employee = event.employee  # the instance just saved (its department is usually loaded)
    outcome = _Outcome()
    now = timezone.now()
    groups = _active_groups()
    if event.kind == PersonnelEvent.Kind.LEAVER:
        _leaver_findings(event, employee, groups, now, outcome)
        _leaver_succession(event, employee, now, outcome)
    else:
        _judge_eligibility(event, employee, groups, now, outcome)
    event.outcome = outcome.as_dict()
    if event.outcome:
        PersonnelEvent.objects.filter(pk=event.pk).update(outcome=event.outcome)
    return event.outcome


# -- findings -------------------------------------------------------------------------------


def _new_finding(
    *,
    event: PersonnelEvent,
    group: ChatGroup,
    kind: str,
    employee: Employee,
    detail: str,
    snapshot_id: int | None = None,
    display_name: str = "",
    wechat_id: str = "",
) -> Finding:
    spec = FINDING_SPECS[kind]
    return Finding(
        group=group,
        kind=kind,
        subject=f"e:{employee.pk}",  # as reconciliation keys it (groups.services.detect)
        clause=spec.clause,
        severity=spec.severity,
        employee=employee,
        display_name=display_name,
        wechat_id=wechat_id,
        detail=detail,
        recommended_action=spec.advice,
        first_seen_id=snapshot_id,
        last_seen_id=snapshot_id,
        event=event,
    )


def _open_findings(created: list[Finding], groups_by_id: dict[int, ChatGroup], now, outcome):
    """Store new findings and the to-do each asks for (roster_action_for: whoever can fix it)."""
    created = Finding.objects.bulk_create(created, batch_size=BULK_BATCH)
    today = timezone.localdate(now)
    actions = [
        action
        for f in created
        if (action := roster_action_for(f, groups_by_id[f.group_id], today=today)) is not None
    ]
    RosterAction.objects.bulk_create(actions, batch_size=BULK_BATCH)
    for action in actions:
        outcome.opened[groups_by_id[action.group_id].code] += 1


def _resolve_findings(findings: list[Finding], groups_by_id, now, outcome, extra_actions=None):
    """Resolve findings the event superseded (no snapshot resolved them) and close their to-dos,
    with any other open to-dos in ``extra_actions`` (a Q)."""
    for finding in findings:
        finding.status = Finding.Status.RESOLVED
        finding.resolved_at = now
    Finding.objects.bulk_update(findings, ["status", "resolved_at"], batch_size=BULK_BATCH)
    wanted = Q(finding__in=[f.pk for f in findings])
    if extra_actions is not None:
        wanted |= extra_actions
    closing = RosterAction.objects.filter(wanted, status=RosterAction.Status.OPEN)
    closed = list(closing.values_list("pk", "group_id"))
    RosterAction.objects.filter(pk__in=[pk for pk, _ in closed]).update(
        status=RosterAction.Status.DONE, closed_at=now
    )
    codes = {pk: g.code for pk, g in groups_by_id.items()}
    for _, group_id in closed:
        outcome.closed[codes.get(group_id) or str(group_id)] += 1


def _roster_rows(employee: Employee, snapshot_ids: list[int]) -> dict[int, tuple[str, str]]:
    """snapshot id -> (display name, WeChat id) of the employee's row in those snapshots."""
    rows = RosterMember.objects.filter(snapshot__in=snapshot_ids, employee=employee).values_list(
        "snapshot_id", "display_name", "wechat_id"
    )
    return {snapshot_id: (name, wechat_id) for snapshot_id, name, wechat_id in rows}


def _leaver_findings(event, employee: Employee, groups: list[ChatGroup], now, outcome) -> None:
    """§5.3.c: a "remove" to-do in every group whose latest roster holds the leaver; what else
    was open about them is superseded, and their own to-dos (a rename) close."""
    groups_by_id = {g.pk: g for g in groups}
    by_snapshot = {g.latest_snapshot: g for g in groups if g.latest_snapshot}
    rows = _roster_rows(employee, list(by_snapshot))
    existing = list(
        Finding.objects.filter(
            employee=employee, subject=f"e:{employee.pk}", status=Finding.Status.OPEN
        )
    )
    departed_in = {f.group_id for f in existing if f.kind == Finding.Kind.DEPARTED}
    created = []
    for snapshot_id, (display_name, wechat_id) in rows.items():
        group = by_snapshot[snapshot_id]
        if group.pk in departed_in:
            continue
        created.append(
            _new_finding(
                event=event,
                group=group,
                kind=Finding.Kind.DEPARTED,
                employee=employee,
                detail=DETAIL_DEPARTED.format(name=employee.name, employee_no=employee.employee_no),
                snapshot_id=snapshot_id,
                display_name=display_name,
                wechat_id=wechat_id,
            )
        )
    superseded = [f for f in existing if f.kind in SUPERSEDED_BY_LEAVING]
    _resolve_findings(
        superseded,
        groups_by_id,
        now,
        outcome,
        extra_actions=Q(owner=RosterAction.Owner.MEMBER, assignee=employee),
    )
    _open_findings(created, groups_by_id, now, outcome)


def _judged_families(groups: list[ChatGroup], outcome: _Outcome) -> list[tuple[ChatGroup, list]]:
    """(first group, its active groups) of each family whose every active group has a
    reconciled latest snapshot; the others wait for reconciliation (named in the outcome)."""
    groups_by_id = {g.pk: g for g in groups}
    families: dict[int, list[ChatGroup]] = defaultdict(list)
    for group in groups:
        families[group.family_id or group.pk].append(group)
    judged: list[tuple[ChatGroup, list[ChatGroup]]] = []
    for root_id, family in families.items():
        root = groups_by_id.get(root_id)
        if root is None:
            continue  # an inactive first group: reconciliation skips its family too
        if all(g.latest_snapshot and g.latest_reconciled_at for g in family):
            judged.append((root, family))
        else:
            outcome.waiting.append(root.code)
    return judged


def _judge_eligibility(event, employee, groups: list[ChatGroup], now, outcome) -> None:
    """A joiner or mover judged per family, as reconciliation judges it."""
    groups_by_id = {g.pk: g for g in groups}
    judged = _judged_families(groups, outcome)
    # Rehired (离职 -> 在职): an open DEPARTED finding about them is answered whatever the families.
    rehired = (event.changes.get(FIELD_STATUS) or [None])[0] is not None
    if not judged and not rehired:
        return  # most saves: no family can be judged yet, the next reconciliation will
    existing = list(
        Finding.objects.filter(
            employee=employee,
            subject=f"e:{employee.pk}",
            status=Finding.Status.OPEN,
            kind__in=[Finding.Kind.MISSING, Finding.Kind.INELIGIBLE, Finding.Kind.DEPARTED],
        )
    )
    # Rehired: they are no longer a leaver anywhere; what they are now is judged below.
    to_resolve = [f for f in existing if f.kind == Finding.Kind.DEPARTED]
    created = []
    if judged:
        snapshot_of = {g.latest_snapshot: g for _, family in judged for g in family}
        rows = _roster_rows(employee, list(snapshot_of))
        held_in = {snapshot_of[snapshot_id].pk: row for snapshot_id, row in rows.items()}
        open_missing = {f.group_id for f in existing if f.kind == Finding.Kind.MISSING}
        open_ineligible = {f.group_id: f for f in existing if f.kind == Finding.Kind.INELIGIBLE}
        for root, family in judged:
            eligible = employee.pk in selectors.eligible_employee_ids(root, among=[employee.pk])
            in_family = any(g.pk in held_in for g in family)
            if eligible and not in_family and root.pk not in open_missing:
                created.append(
                    _new_finding(
                        event=event,
                        group=root,
                        kind=Finding.Kind.MISSING,
                        employee=employee,
                        detail=DETAIL_MISSING,
                    )
                )
            if not eligible and root.pk in open_missing:
                to_resolve += [
                    f for f in existing if f.kind == Finding.Kind.MISSING and f.group_id == root.pk
                ]
            for group in family:
                ineligible = open_ineligible.get(group.pk)
                if eligible and ineligible is not None:
                    to_resolve.append(ineligible)
                elif not eligible and group.pk in held_in and ineligible is None:
                    display_name, wechat_id = held_in[group.pk]
                    created.append(
                        _new_finding(
                            event=event,
                            group=group,
                            kind=Finding.Kind.INELIGIBLE,
                            employee=employee,
                            detail=DETAIL_INELIGIBLE.format(
                                department=employee.department.path, name=employee.name
                            ),
                            snapshot_id=group.latest_snapshot,
                            display_name=display_name,
                            wechat_id=wechat_id,
                        )
                    )
    if to_resolve:
        _resolve_findings(to_resolve, groups_by_id, now, outcome)
    _open_findings(created, groups_by_id, now, outcome)


# -- succession (离职继承) ----------------------------------------------------------------------


def group_successor(leaver: Employee, *, rule: str | None = None) -> Employee | None:
    """Who takes over a leaver's groups (settings.GROUP_SUCCESSOR_RULE).

    "department_head": the head of their department, else of the department above, up to the
    top, skipping heads who left or are the leaver; then the HR head. "hr_head": the HR head.
    None when nobody qualifies (HR names one by hand).
    """
    rule = rule or settings.GROUP_SUCCESSOR_RULE
    parts = leaver.department.path.split(PATH_SEPARATOR)
    paths = [HR_DEPARTMENT]
    if rule == SUCCESSOR_DEPARTMENT_HEAD:
        # Nearest first: 生产部/一车间, then 生产部, then the HR head.
        paths = [PATH_SEPARATOR.join(parts[:n]) for n in range(len(parts), 0, -1)] + paths
    heads = {
        d.path: d.head
        for d in Department.objects.filter(path__in=paths, head__isnull=False).select_related(
            "head__user"
        )
    }
    for path in paths:
        head = heads.get(path)
        if head is not None and head.is_active and head.pk != leaver.pk:
            return head
    return None


def _leaver_succession(event, leaver: Employee, now, outcome) -> None:
    """Every group the leaver created or administered handed to the successor, with their open
    to-dos there (fresh due date, reminders and escalation reset), one GroupSuccession row per
    group and role, and the successor told once. Object permissions: the leaver's went with
    their login (members.services.employee_access_revoke); the successor's are granted here."""
    admins = ChatGroup.admins.through.objects
    groups = list(
        ChatGroup.objects.filter(Q(creator=leaver) | Q(admins=leaver))
        .annotate(
            leaver_is_admin=Exists(admins.filter(chatgroup=OuterRef("pk"), employee=leaver)),
        )
        .distinct()
        .order_by("code")
    )
    if not groups:
        return
    successor = group_successor(leaver)
    rule = settings.GROUP_SUCCESSOR_RULE
    note = (
        NOTE_SUCCESSOR.format(rule=RULE_LABELS.get(rule, rule), successor=successor)
        if successor
        else NOTE_NO_SUCCESSOR
    )
    created_groups = [g for g in groups if g.creator_id == leaver.pk]
    admin_groups = [g for g in groups if g.leaver_is_admin]
    # §5.1: a group never keeps a departed creator (None when nobody could be found).
    for group in created_groups:
        group.creator = successor
        group._change_reason = note  # django-simple-history's attribute
    bulk_update_with_history(
        created_groups,
        ChatGroup,
        ["creator"],
        batch_size=BULK_BATCH,
        default_user=event.actor,
        default_change_reason=note,
    )
    # §5.2: the leaver off the admins; the successor on, unless already creator or admin.
    admins.filter(employee=leaver, chatgroup__in=[g.pk for g in admin_groups]).delete()
    if successor is not None:
        current = set(
            admins.filter(
                chatgroup__in=[g.pk for g in admin_groups], employee=successor
            ).values_list("chatgroup_id", flat=True)
        )
        admins.bulk_create(
            [
                admins.model(chatgroup_id=g.pk, employee_id=successor.pk)
                for g in admin_groups
                if g.pk not in current and g.creator_id != successor.pk
            ],
            ignore_conflicts=True,
        )
        _grant(successor, created_groups, admin_groups)
    # The leaver's open to-dos there, to the successor (HR's queue when there is none), with a
    # fresh due date: nobody is charged for what they could not do.
    moving = RosterAction.objects.filter(
        group__in=[g.pk for g in groups], assignee=leaver, status=RosterAction.Status.OPEN
    ).exclude(owner=RosterAction.Owner.MEMBER)
    moving_rows = list(moving.values_list("pk", "group_id"))
    moved = Counter(group_id for _, group_id in moving_rows)
    if moving_rows:
        RosterAction.objects.filter(pk__in=[pk for pk, _ in moving_rows]).update(
            assignee=successor,
            due_on=timezone.localdate(now) + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS),
            last_reminded_on=None,
            reminder_count=0,
            escalated_at=None,
        )
    rows = []
    for group in groups:
        roles = []
        if group in created_groups:
            roles.append(GroupSuccession.Role.CREATOR)
        if group.leaver_is_admin:
            roles.append(GroupSuccession.Role.ADMIN)
        for role in roles:
            # The to-dos go with the creator's role (they are the creator's, §5.1).
            count = moved[group.pk] if role == roles[0] else 0
            rows.append(
                GroupSuccession(
                    group=group,
                    role=role,
                    predecessor=leaver,
                    successor=successor,
                    event=event,
                    actions_moved=count,
                    note=note,
                )
            )
            outcome.successions.append(
                {
                    "group": group.code,
                    "role": role,
                    "successor": successor.employee_no if successor else None,
                    "actions_moved": count,
                }
            )
            if count:
                outcome.moved[group.code] += count
    GroupSuccession.objects.bulk_create(rows)
    if successor is not None:
        _tell_successor(event, leaver, successor, rows)


def _grant(successor: Employee, created_groups, admin_groups) -> None:
    """The object permissions groups.services.staffing gives a creator and an admin, for the
    successor's new groups: one query whatever the number of groups (the unique key of
    guardian's rows makes a permission already held a no-op)."""
    if successor.user_id is None or not successor.is_active:
        return
    from django.contrib.auth.models import Permission

    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="groups", codename__in=CREATOR_PERMISSIONS + ADMIN_PERMISSIONS
        )
    }
    wanted = {(g.pk, c) for g in created_groups for c in CREATOR_PERMISSIONS} | {
        (g.pk, c) for g in admin_groups for c in ADMIN_PERMISSIONS
    }
    ChatGroupUserObjectPermission.objects.bulk_create(
        [
            ChatGroupUserObjectPermission(
                content_object_id=group_id, user_id=successor.user_id, permission=perms[codename]
            )
            for group_id, codename in sorted(wanted)
        ],
        ignore_conflicts=True,
    )


def _tell_successor(event, leaver, successor, rows: list[GroupSuccession]) -> None:
    roles = "、".join(sorted({row.get_role_display() for row in rows}))
    lines = "\n".join(
        NOTICE_LINE.format(
            group=row.group.name, role=row.get_role_display(), moved=row.actions_moved
        )
        for row in rows
    )
    notice_post(
        recipient=successor.user,
        kind=Notice.Kind.GROUP_SUCCESSION,
        title=NOTICE_TITLE.format(
            count=len({r.group_id for r in rows}), roles=roles, leaver=leaver.name
        ),
        body=NOTICE_BODY.format(leaver=leaver, lines=lines),
        subject_key=f"group-succession:{event.pk}",
    )
