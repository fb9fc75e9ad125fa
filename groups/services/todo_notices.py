"""Telling a group's creator of the roster to-dos just opened for them (§5.1; issue 14,
point 3: 待办已分配) — the member's own renames are told by actions.roster_renames_tell.

Queued after the reconciliation commits (groups.tasks.tell_todos_opened), as the renames
are: reconciliation's query count stays flat in the number of members
(tests/groups/test_reconcile_queries.py). One notice per creator and group for the to-dos
opened together, listing them; never twice for the same to-dos (the subject key).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import cast

from django.db import transaction

from groups.models import RosterAction
from groups.services.actions import CLAUSE_OF_OWNER, _reminder_url, may_open_todo
from members.models import Employee
from notices.models import Notice
from notices.services import notice_post

log = logging.getLogger(__name__)

TODOS_OPENED_TITLE = "{group}：{count} 项新的群成员待办"
TODOS_OPENED_LINE = "- {kind}：{finding}（截止 {due:%Y年%-m月%-d日}）"
TODOS_OPENED_BODY = (
    "根据《公司内部微信群管理办法》{clause}，核对群成员名单发现以下事项需要你处理：\n"
)
TODOS_OPENED_KEY = "roster-todo:opened:{action}"


def roster_todos_tell_later(actions: Iterable[RosterAction]) -> None:
    """Once the transaction commits, tell the creators of the creator to-dos just opened."""
    ids = [a.pk for a in actions if a.owner == RosterAction.Owner.CREATOR and a.pk]
    if not ids:
        return

    def queue() -> None:
        from groups.tasks import tell_todos_opened  # the task module imports the services

        try:
            tell_todos_opened.delay(ids)
        except Exception:  # the broker is down: the daily reminder tells them once overdue
            log.warning("groups: could not queue tell_todos_opened for %s", ids, exc_info=True)

    transaction.on_commit(queue)


@transaction.atomic
def roster_todos_tell_opened(*, action_ids: Iterable[int]) -> int:
    """Tell each assignee of the open creator to-dos ``action_ids`` what was opened for them,
    one notice per assignee and group; returns how many notices were posted.

    Nobody is told of to-dos they cannot open (actions.may_open_todo: a confidential group's
    roster, §6.1). Queries: one load of the to-dos with the assignees' logins, then per
    notice notice_post (and, for a confidential group, the roster permission check)."""
    actions = (
        RosterAction.objects.filter(
            pk__in=list(action_ids),
            owner=RosterAction.Owner.CREATOR,
            status=RosterAction.Status.OPEN,
            assignee__isnull=False,
        )
        .select_related("group", "assignee__user", "finding__employee")
        .order_by("assignee_id", "group_id", "due_on", "pk")
    )
    by_assignee: dict[tuple[int, int], list[RosterAction]] = defaultdict(list)
    for action in actions:
        by_assignee[(cast(int, action.assignee_id), action.group_id)].append(action)
    told = 0
    for todos in by_assignee.values():
        user = cast(Employee, todos[0].assignee).user
        if not may_open_todo(user, todos[0]):  # one group per notice: a confidential one's
            continue
        body = TODOS_OPENED_BODY.format(clause=CLAUSE_OF_OWNER[RosterAction.Owner.CREATOR])
        body += "\n".join(
            TODOS_OPENED_LINE.format(kind=a.get_kind_display(), finding=a.finding, due=a.due_on)
            for a in todos
        )
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.TODO_ASSIGNED,
            title=TODOS_OPENED_TITLE.format(group=todos[0].group.name, count=len(todos)),
            body=body,
            url=_reminder_url({RosterAction.Owner.CREATOR}, user),
            subject_key=TODOS_OPENED_KEY.format(action=todos[0].pk),
        )
        told += int(notice is not None)
    return told
