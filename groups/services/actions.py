"""Roster to-dos after they are opened: telling whoever can fix them (§5.1, §5.3.b).

Each to-do goes to whoever can fix it (groups.services.reconcile_apply.roster_action_for):
adding and removing to the group's creator, a rename to the member, an identity question to
HR. Here: a member is told of their rename when it is opened; every assignee with a login is
reminded once a day of what is past its due date. What comes after the grace period — a case
against whoever could have acted — is the violations app's
(violations.services.roster_cases.roster_actions_handle_overdue, which runs the reminder first
and then escalates, in one transaction): groups knows nothing of cases.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import NoReverseMatch, reverse

from groups import naming
from groups.models import RosterAction
from groups.selectors import can_view_roster
from members.models import Employee
from notices.models import Notice
from notices.services import notice_post

log = logging.getLogger(__name__)

REMINDER_SUBJECT = "{count} 项群成员待办已逾期"
RENAME_SUBJECT = "请修改你的群昵称"
# §5.3.b, as the member reads it on their page and in the notice.
RENAME_LINE = "你在{group}的群昵称应为“{name}”"
RENAME_NOTICE = RENAME_LINE + "，请在 {due:%Y年%-m月%-d日} 前修改"
# The notices' subject keys: how the §5.3.b escalation (violations.services.roster_cases)
# finds when a member was told of their rename.
RENAME_NOTICE_KEY = "roster-rename:{action}"
OVERDUE_NOTICE_KEY = "roster-todo:overdue:{assignee}:{day}"


@dataclass(frozen=True)
class ReminderResult:
    reminded: int = 0
    emails: int = 0  # the people told with an email address (the notice queues the email)
    # Every open to-do past its due date, as loaded for the reminder (reminded today or not):
    # what the escalation looks at next, without loading them again.
    overdue: tuple[RosterAction, ...] = ()


def rename_expected(action: RosterAction) -> str:
    """The display name a rename to-do asks the member for, in the group's convention."""
    # A rename is only ever opened for a matched employee (detect.findings_for_members).
    employee = cast(Employee, action.finding.employee)
    return naming.suggested_display_name(
        real_name=employee.name,
        department_name=employee.department.name,
        convention=action.group.naming_convention,
    )


def rename_line(action: RosterAction) -> str:
    """“你在俊马工作群的群昵称应为“张伟”” (§5.3.b)."""
    return RENAME_LINE.format(group=action.group.name, name=rename_expected(action))


# What the reminder cites for each owner's to-dos: adding and removing (§5.1), a rename (§5.3.b).
CLAUSE_OF_OWNER: dict[str, str] = {
    RosterAction.Owner.CREATOR: "§5.1",
    RosterAction.Owner.MEMBER: "§5.3.b",
}


def may_open_todo(user, action: RosterAction) -> bool:
    """Whether ``user`` can open ``action`` where a notice sends them: a member's rename on
    their own page, always; a creator's to-do in the to-do list, only where they may see the
    group's roster (can_view_roster: a confidential group's, §6.1, only HR and its admins
    see) — nobody is told of what they cannot open. Asked of confidential groups alone: a
    creator sees their other groups' rosters (staffing.CREATOR_PERMISSIONS), and the
    reminder's queries stay flat."""
    if action.owner != RosterAction.Owner.CREATOR or not action.group.is_confidential:
        return True
    return user is None or can_view_roster(user, action.group)  # no login: nobody to tell


def _reminder_url(owners: set[str], user) -> str:
    """A creator's to-dos are in the admin's to-do list (a staff login), a member's rename
    on their /me/ page."""
    if RosterAction.Owner.CREATOR in owners and user is not None and user.is_staff:
        return reverse("admin:groups_rosteraction_changelist") + "?status__exact=open"
    if RosterAction.Owner.MEMBER in owners:
        return _my_group_names_url()
    return ""


def _my_group_names_url() -> str:
    try:
        return reverse("me:group_name_list")
    except NoReverseMatch:  # the /me/ pages are not mounted (a bare groups install)
        return ""


def roster_actions_overdue(*, today: dt.date) -> QuerySet[RosterAction]:
    """Open to-dos due before ``today``, by assignee and due date, with what the reminder and
    the escalation show and check (group and its creator, the assignee and their login, the
    finding's employee)."""
    return (
        RosterAction.objects.filter(status=RosterAction.Status.OPEN, due_on__lt=today)
        .select_related("group", "assignee__user", "finding__employee")
        .order_by("assignee_id", "due_on", "pk")
    )


@transaction.atomic
def roster_actions_remind_overdue(*, today: dt.date) -> ReminderResult:
    """Remind each assignee once a day of their overdue to-dos: one notice per assignee with
    a login (notices.services.notice_post: shown on their page, emailed when they have an
    address, a failed send retried). HR-owned to-dos have no assignee: HR's own queue lists
    them (the to-do admin, filtered by 由谁处理).

    Idempotent: a second call on the same day reminds nobody again (the to-dos' reminder
    date, and the notice's subject key per day). Returns the overdue to-dos it loaded with
    the counts (ReminderResult.overdue).
    """
    overdue = tuple(roster_actions_overdue(today=today))
    may_open: dict[tuple[int | None, int, str], bool] = {}  # asked once per person and group
    for a in overdue:
        key = (a.assignee_id, a.group_id, a.owner)
        if key not in may_open:
            may_open[key] = a.assignee is None or may_open_todo(a.assignee.user, a)
    # A to-do its assignee cannot open is not reminded (nor marked so): HR's list shows it.
    to_remind = [
        a
        for a in overdue
        if a.last_reminded_on != today and may_open[a.assignee_id, a.group_id, a.owner]
    ]
    by_assignee: dict[int, list[RosterAction]] = defaultdict(list)
    for action in to_remind:
        if action.assignee_id:
            by_assignee[action.assignee_id].append(action)
    emails = 0
    for assignee_id, actions in by_assignee.items():
        user = cast(Employee, actions[0].assignee).user
        lines = [
            f"- {a.group.name}：{a.get_kind_display()} {a.finding}（截止 {a.due_on:%Y年%-m月%-d日}）"
            for a in actions
        ]
        owners = {a.owner for a in actions}
        clauses = "、".join(CLAUSE_OF_OWNER[o] for o in sorted(owners))
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.ROSTER_TODO,
            title=REMINDER_SUBJECT.format(count=len(actions)),
            body=f"根据《公司内部微信群管理办法》{clauses}，以下群成员待办已逾期：\n"
            + "\n".join(lines),
            url=_reminder_url(owners, user),
            subject_key=OVERDUE_NOTICE_KEY.format(assignee=assignee_id, day=today.isoformat()),
        )
        emails += int(notice is not None and user is not None and bool(user.email))
    RosterAction.objects.filter(pk__in=[a.pk for a in to_remind]).update(
        last_reminded_on=today, reminder_count=F("reminder_count") + 1
    )
    return ReminderResult(reminded=len(to_remind), emails=emails, overdue=overdue)


def roster_renames_tell_later(actions: Iterable[RosterAction]) -> None:
    """Once the transaction commits, tell the members of the rename to-dos just opened
    (groups.tasks.tell_renames). Queued, not done here: reconciliation's query count stays
    flat in the number of members (tests/groups/test_reconcile_queries.py)."""
    ids = [a.pk for a in actions if a.owner == RosterAction.Owner.MEMBER and a.pk]
    if not ids:
        return

    def queue() -> None:
        from groups.tasks import tell_renames  # the task module imports the services

        try:
            tell_renames.delay(ids)
        except Exception:  # the broker is down: the daily reminder tells them once overdue
            log.warning("groups: could not queue tell_renames for %s", ids, exc_info=True)

    transaction.on_commit(queue)


@transaction.atomic
def roster_renames_tell(*, action_ids: Iterable[int]) -> int:
    """§5.3.b: tell each member of the open rename to-dos ``action_ids`` what their display
    name should be and by when — one notice per member however many groups ask (listed in
    it), never twice for the same to-dos (the subject key). Returns how many were told.

    Queries: one load of the to-dos with the members' logins, then notice_post per member.
    """
    actions = (
        RosterAction.objects.filter(
            pk__in=list(action_ids),
            owner=RosterAction.Owner.MEMBER,
            status=RosterAction.Status.OPEN,
        )
        .select_related("group", "finding__employee__user", "finding__employee__department")
        .order_by("finding__employee_id", "pk")
    )
    by_member: dict[int | None, list[RosterAction]] = defaultdict(list)
    for action in actions:
        by_member[action.finding.employee_id].append(action)
    url = _my_group_names_url()
    told = 0
    for member_actions in by_member.values():
        user = cast(Employee, member_actions[0].finding.employee).user
        body = "；\n".join(
            RENAME_NOTICE.format(group=a.group.name, name=rename_expected(a), due=a.due_on)
            for a in member_actions
        )
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.ROSTER_TODO,
            title=RENAME_SUBJECT,
            body=body + "。（《公司内部微信群管理办法》§5.3.b：群内使用真实姓名）",
            url=url,
            subject_key=RENAME_NOTICE_KEY.format(action=member_actions[0].pk),
        )
        told += int(notice is not None)
    return told
