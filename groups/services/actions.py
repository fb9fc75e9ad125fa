"""The creator's roster to-dos after their due date (§5.1): a daily reminder.

What comes after the grace period — a §5.1 proposal to HR — is a case, so it is the
violations app's (violations.services.roster_cases.roster_actions_handle_overdue, which
runs this first and then escalates, in one transaction): groups knows nothing of cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F, QuerySet

from groups.models import RosterAction

REMINDER_SUBJECT = "【微信群管理】{count} 项群成员待办已逾期"


@dataclass(frozen=True)
class ReminderResult:
    reminded: int = 0
    emails: int = 0
    # Every open to-do past its due date, as loaded for the reminder (reminded today or not):
    # what the §5.1 escalation looks at next, without loading them again.
    overdue: tuple[RosterAction, ...] = ()


def roster_actions_overdue(*, today: dt.date) -> QuerySet[RosterAction]:
    """Open to-dos due before ``today``, by assignee and due date, with what the reminder and
    the escalation show (group, assignee's login, the finding's employee)."""
    return (
        RosterAction.objects.filter(status=RosterAction.Status.OPEN, due_on__lt=today)
        .select_related("group", "assignee__user", "finding__employee")
        .order_by("assignee_id", "due_on", "pk")
    )


@transaction.atomic
def roster_actions_remind_overdue(*, today: dt.date) -> ReminderResult:
    """Remind each assignee once a day of their overdue actions: one email per assignee
    with a login and an address, sent once the transaction commits.

    Idempotent: a second call on the same day reminds nobody again. Returns the overdue
    to-dos it loaded with the counts (ReminderResult.overdue).
    """
    overdue = tuple(roster_actions_overdue(today=today))
    to_remind = [a for a in overdue if a.last_reminded_on != today]
    by_assignee: dict[int | None, list[RosterAction]] = defaultdict(list)
    for action in to_remind:
        by_assignee[action.assignee_id].append(action)
    messages = []
    for actions in by_assignee.values():
        user = actions[0].assignee.user if actions[0].assignee else None
        if user is not None and user.email:
            lines = [
                f"- {a.group.name}：{a.get_kind_display()} {a.finding}（截止 {a.due_on:%Y-%m-%d}）"
                for a in actions
            ]
            messages.append(
                (
                    REMINDER_SUBJECT.format(count=len(actions)),
                    "根据《公司内部微信群管理办法》§5.1，以下群成员待办已逾期：\n"
                    + "\n".join(lines),
                    None,
                    [user.email],
                )
            )
    RosterAction.objects.filter(pk__in=[a.pk for a in to_remind]).update(
        last_reminded_on=today, reminder_count=F("reminder_count") + 1
    )
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return ReminderResult(reminded=len(to_remind), emails=len(messages), overdue=overdue)
