"""Succession (离职继承): a leaver's groups handed over at once, as WeCom transfers a leaver's
groups. Called by groups.services.lifecycle for the leavers it applies.

A group never keeps a departed creator (§5.1): the successor by settings.GROUP_SUCCESSOR_RULE
takes the creator's role (or nobody, and HR names one), replaces the leaver among the admins
(§5.2), gets the object permissions groups.services.staffing gives those roles, and the
leaver's open to-dos (all of them, whichever group: each goes to its group's creator now) with a
fresh due date — nobody is charged for what they could not do. To-dos with nobody to do them
(no successor, a group without creator) go to HR's queue (由谁处理: 人力资源部), and HR is told.
One GroupSuccession row per group and role; the successor is told once. A constant number of
queries per leaver, whatever the number of their groups and to-dos.

Also here: when HR names a group's creator by hand, the group's open creator-owned to-dos
follow the new creator (``group_creator_todos_follow``, from groups.signals).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from common.permissions import logins_with_perm
from groups.models import (
    BULK_BATCH,
    ChatGroup,
    ChatGroupUserObjectPermission,
    GroupSuccession,
    RosterAction,
)
from groups.policy_data import FINDING_SPECS
from groups.services.staffing import ADMIN_PERMISSIONS, CREATOR_PERMISSIONS
from members.models import HR_DEPARTMENT, PATH_SEPARATOR, Department, Employee, PersonnelEvent
from notices.models import Notice
from notices.services import notice_post

if TYPE_CHECKING:
    from groups.services.lifecycle import Outcome

SUCCESSOR_DEPARTMENT_HEAD = "department_head"
SUCCESSOR_HR_HEAD = "hr_head"

# The note names the branch that found the successor, not the setting: under "department_head"
# the HR head may be the fallback, and the note must say so (说明 in 群交接记录).
BRANCH_OWN_HEAD = "本部门负责人"
BRANCH_UPPER_HEAD = "上级部门负责人"
BRANCH_HR_FALLBACK = "人力资源部负责人（兜底）"
BRANCH_HR_HEAD = "人力资源部负责人"
BRANCH_NOBODY = "无人可接任"
NOTE_NO_SUCCESSOR = f"按规则“{BRANCH_NOBODY}”：未找到在职的继任人，请人力资源部指定"
NOTE_SUCCESSOR = "按规则“{rule}”由 {successor} 接任"
NOTE_NO_CREATOR = "群主空缺"
RULE_LABELS = {  # the settings' values, described (groups.checks)
    SUCCESSOR_DEPARTMENT_HEAD: "本部门负责人，逐级向上找上级部门负责人，兜底人力资源部负责人",
    SUCCESSOR_HR_HEAD: "人力资源部负责人",
}
NOTICE_TITLE = "你已接任 {count} 个微信群的{roles}（{leaver} 离职）"
NOTICE_LINE = "- {group}：{role}，转交待办 {moved} 项"
NOTICE_BODY = (
    "{leaver} 已离职，按《公司内部微信群管理办法》由你接任以下微信群的职责（离职继承）：\n"
    "{lines}\n转交的待办截止日期已重新计算，请在系统中查看。"
)
HR_NOTICE_PERMISSION = "groups.change_finding"  # who works HR's queue of findings and to-dos
HR_NOTICE_TITLE = "{leaver} 离职，{count} 项群成员待办转入人力资源部待办"
HR_NOTICE_BODY = (
    "{leaver} 已离职，以下微信群没有群主可以接手其待办（{note}），已转入人力资源部待办"
    "（由谁处理：人力资源部），截止日期已重新计算：\n{lines}\n"
    "请指定群主（指定后待办随之转给新群主），或由人力资源部处理。"
)
HR_NOTICE_LINE = "- {group}：{count} 项"
# The kinds of to-do that are the creator's (§5.1: adding and removing), by finding kind.
CREATOR_KINDS = [
    kind
    for kind, spec in FINDING_SPECS.items()
    if spec.action is not None and spec.owner == RosterAction.Owner.CREATOR
]


def group_successor(leaver: Employee, *, rule: str | None = None) -> Employee | None:
    """Who takes over a leaver's groups (settings.GROUP_SUCCESSOR_RULE).

    "department_head": the head of their department, else of the department above, up to the
    top, skipping heads who left or are the leaver; then the HR head. "hr_head": the HR head.
    None when nobody qualifies (HR names one by hand).
    """
    return group_successor_branch(leaver, rule=rule)[0]


def group_successor_branch(
    leaver: Employee, *, rule: str | None = None
) -> tuple[Employee | None, str]:
    """The successor (as group_successor) and the branch that found them: BRANCH_OWN_HEAD,
    BRANCH_UPPER_HEAD, BRANCH_HR_FALLBACK ("department_head" found no department head),
    BRANCH_HR_HEAD (the "hr_head" rule) or BRANCH_NOBODY."""
    rule = rule or settings.GROUP_SUCCESSOR_RULE
    parts = leaver.department.path.split(PATH_SEPARATOR)
    # (path, branch), nearest first: 生产部/一车间, then 生产部, then the HR head.
    candidates = [(HR_DEPARTMENT, BRANCH_HR_HEAD)]
    if rule == SUCCESSOR_DEPARTMENT_HEAD:
        candidates = [
            (
                PATH_SEPARATOR.join(parts[:n]),
                BRANCH_OWN_HEAD if n == len(parts) else BRANCH_UPPER_HEAD,
            )
            for n in range(len(parts), 0, -1)
        ] + [(HR_DEPARTMENT, BRANCH_HR_FALLBACK)]
    heads = {
        d.path: d.head
        for d in Department.objects.filter(
            path__in=[path for path, _ in candidates], head__isnull=False
        ).select_related("head__user")
    }
    for path, branch in candidates:
        head = heads.get(path)
        if head is not None and head.is_active and head.pk != leaver.pk:
            return head, branch
    return None, BRANCH_NOBODY


def leavers_succession(
    leavers: list[PersonnelEvent], *, now: dt.datetime, outcomes: dict[int, Outcome]
) -> None:
    """Hand over the groups of the leavers who created or administered one (few, if any);
    each event's outcome (by event id) records the successions and the to-dos moved."""
    ids = [e.employee_id for e in leavers]
    if not ids:
        return
    running = (
        set(ChatGroup.objects.filter(creator__in=ids).values_list("creator_id", flat=True))
        | set(
            ChatGroup.admins.through.objects.filter(employee__in=ids).values_list(
                "employee_id", flat=True
            )
        )
        # Open to-dos of a group they no longer run (a former creator's) move too.
        | set(_leaver_todos(ids).values_list("assignee_id", flat=True))
    )
    for event in leavers:
        if event.employee_id in running:
            _leaver_succession(event, event.employee, now, outcomes[event.pk])


def _leaver_todos(employee_ids):
    """The open to-dos assigned to these employees that are not their own rename (a member's
    rename ends with them: the group's removal of a leaver is the creator's to-do)."""
    return RosterAction.objects.filter(
        assignee__in=employee_ids, status=RosterAction.Status.OPEN
    ).exclude(owner=RosterAction.Owner.MEMBER)


def _leaver_succession(event, leaver: Employee, now, outcome) -> None:
    """Every group the leaver created or administered handed to the successor, one
    GroupSuccession row per group and role, and the successor told once; then all of the
    leaver's open to-dos to their group's creator now (fresh due date, reminders and
    escalation reset), or to HR's queue when the group has none (HR told). Object
    permissions: the leaver's went with their login (members.services.employee_access_revoke);
    the successor's are granted here."""
    admins = ChatGroup.admins.through.objects
    groups = list(
        ChatGroup.objects.filter(Q(creator=leaver) | Q(admins=leaver))
        .annotate(
            leaver_is_admin=Exists(admins.filter(chatgroup=OuterRef("pk"), employee=leaver)),
        )
        .distinct()
        .order_by("code")
    )
    successor, branch = group_successor_branch(leaver) if groups else (None, BRANCH_NOBODY)
    note = (
        NOTE_SUCCESSOR.format(rule=branch, successor=successor) if successor else NOTE_NO_SUCCESSOR
    )
    created_groups = [g for g in groups if g.creator_id == leaver.pk]
    admin_groups = [g for g in groups if g.leaver_is_admin]
    # §5.1: a group never keeps a departed creator (None when nobody could be found).
    for group in created_groups:
        group.creator = successor
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
    moving, to_hr = _move_leaver_todos(leaver, now)
    moved = Counter(a.group_id for a in moving)
    run = {g.pk for g in groups}
    for action in moving:
        if action.group_id not in run:  # a group they no longer ran: no succession row
            outcome.moved[action.group.name] += 1
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
                    "group": group.name,
                    "role": role,
                    "successor": str(successor) if successor else None,
                    "actions_moved": count,
                }
            )
            if count:
                outcome.moved[group.name] += count
    GroupSuccession.objects.bulk_create(rows)
    if successor is not None and rows:
        _tell_successor(event, leaver, successor, rows)
    if to_hr:
        _tell_hr(event, leaver, note if groups else NOTE_NO_CREATOR, to_hr)


def _move_leaver_todos(leaver: Employee, now) -> tuple[list[RosterAction], Counter[str]]:
    """All of the leaver's open to-dos, each to its group's creator now (the successor in the
    groups they created: call after the hand-over), HR's queue when there is none, with a
    fresh due date: nobody is charged for what they could not do, and nothing is left with
    nobody to do it. Returns the to-dos moved and, by group name, how many went to HR. Three
    queries at most, whatever their number."""
    todos = _leaver_todos([leaver.pk])
    moving = list(todos.select_related("group").order_by("group__code", "pk"))
    to_hr: Counter[str] = Counter()
    fresh = timezone.localdate(now) + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)
    reset = {"due_on": fresh, "last_reminded_on": None, "reminder_count": 0, "escalated_at": None}
    for action in moving:
        action.assignee_id = action.group.creator_id  # after the hand-over above
        action.owner = RosterAction.Owner.CREATOR
        if action.assignee_id is None:
            action.owner = RosterAction.Owner.HR
            to_hr[action.group.name] += 1
        for field, value in reset.items():
            setattr(action, field, value)
    # Two UPDATEs, not bulk_update: its CASE over thousands of rows (HR staff administer every
    # group) was 10 s of a 1,500-event sheet (docs/performance.md).
    todos.update(
        owner=RosterAction.Owner.CREATOR,
        assignee_id=Subquery(
            ChatGroup.objects.filter(pk=OuterRef("group_id")).values("creator_id")[:1]
        ),
        **reset,
    )
    to_hr_pks = [a.pk for a in moving if a.owner == RosterAction.Owner.HR]
    if to_hr_pks:
        RosterAction.objects.filter(pk__in=to_hr_pks).update(owner=RosterAction.Owner.HR)
    return moving, to_hr


def _grant(successor: Employee, created_groups, admin_groups) -> None:
    """The object permissions groups.services.staffing gives a creator and an admin, for the
    successor's new groups: one query whatever the number of groups (the unique key of
    guardian's rows makes a permission already held a no-op)."""
    if successor.user_id is None or not successor.is_active:
        return
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


def _tell_hr(event, leaver: Employee, note: str, to_hr: Counter[str]) -> None:
    """HR's logins that work findings and to-dos hear of the to-dos that came to their queue:
    one query for the logins, then one notice each (a handful)."""
    lines = "\n".join(HR_NOTICE_LINE.format(group=g, count=n) for g, n in sorted(to_hr.items()))
    url = reverse("admin:groups_rosteraction_changelist") + "?owner__exact=hr&status__exact=open"
    for login in logins_with_perm(HR_NOTICE_PERMISSION):
        notice_post(
            recipient=login,
            kind=Notice.Kind.GROUP_SUCCESSION,
            title=HR_NOTICE_TITLE.format(leaver=leaver.name, count=sum(to_hr.values())),
            body=HR_NOTICE_BODY.format(leaver=leaver.name, note=note, lines=lines),
            url=url,
            subject_key=f"group-succession-hr:{event.pk}",
        )


def group_creator_todos_follow(*, group: ChatGroup, today: dt.date | None = None) -> int:
    """§5.1 is the group's creator's duty: when HR names another creator (or none), the
    group's open to-dos that are the creator's go to whoever is creator now — or to HR's queue
    when nobody is — with a fresh due date, reminders and escalation reset (the new owner was
    never told). Those HR held for want of a creator come back to the new one. Returns how
    many moved; none when the to-dos already follow the creator (two queries at most, so
    every save of a group may call it)."""
    today = today or timezone.localdate()
    fresh = {
        "due_on": today + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS),
        "last_reminded_on": None,
        "reminder_count": 0,
        "escalated_at": None,
    }
    creators = RosterAction.objects.filter(
        group=group, status=RosterAction.Status.OPEN, finding__kind__in=CREATOR_KINDS
    )
    if group.creator_id is None:
        return creators.filter(owner=RosterAction.Owner.CREATOR).update(
            owner=RosterAction.Owner.HR, assignee=None, **fresh
        )
    stale = creators.filter(
        Q(owner=RosterAction.Owner.HR)
        | Q(owner=RosterAction.Owner.CREATOR)
        & (Q(assignee__isnull=True) | ~Q(assignee=group.creator_id))
    )
    return RosterAction.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).update(
        owner=RosterAction.Owner.CREATOR, assignee=group.creator_id, **fresh
    )
