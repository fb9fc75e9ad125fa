"""The creator's roster to-dos after their due date (§5.1): a daily reminder, then a proposal to HR."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from groups.models import RosterAction
from violations.models import Case, Rule
from violations.services import case_propose

REMINDER_SUBJECT = "【微信群管理】{count} 项群成员待办已逾期"


@dataclass
class OverdueResult:
    reminded: int = 0
    emails: int = 0
    proposed_cases: int = 0


@transaction.atomic
def roster_actions_handle_overdue(*, today: dt.date | None = None) -> OverdueResult:
    """Remind each assignee once a day of their overdue actions; past the grace
    period, propose one §5.1 case per group, assignee and due date for HR.

    Idempotent: a second call on the same day reminds nobody again, and the
    proposal's source key means the same overdue batch never makes two cases.
    The proposal is for HR to confirm or dismiss, never a penalty by itself.
    """
    today = today or timezone.localdate()
    result = OverdueResult()
    overdue = list(
        RosterAction.objects.filter(status=RosterAction.Status.OPEN, due_on__lt=today)
        .select_related("group", "assignee__user", "finding__employee")
        .order_by("assignee_id", "due_on", "pk")
    )
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
    result.reminded = len(to_remind)
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
        result.emails = len(messages)

    grace = dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS)
    batches: dict[tuple, list[RosterAction]] = defaultdict(list)
    # HR may switch §5.1 off in the catalog: then overdue to-dos are only reminded.
    escalating = Rule.objects.filter(code="5.1", is_active=True).exists()
    for action in overdue if escalating else ():
        if action.escalated_at is None and action.assignee_id and action.due_on + grace < today:
            batches[(action.group_id, action.assignee_id, action.due_on)].append(action)
    now = timezone.now()
    for (group_id, assignee_id, due_on), actions in batches.items():
        first = actions[0]
        _, created = case_propose(
            rule_code="5.1",
            employee=first.assignee,
            group=first.group,
            source=Case.Source.RECONCILIATION,
            source_key=f"roster-actions:{group_id}:{assignee_id}:{due_on.isoformat()}",
            description=(
                f"{first.group.name} 的 {len(actions)} 项群成员待办截止于 {due_on:%Y-%m-%d}，"
                f"超过宽限期 {grace.days} 天仍未完成（§5.1）：\n"
                + "\n".join(f"- {a.get_kind_display()} {a.finding}" for a in actions)
            ),
            occurred_at=now,
        )
        result.proposed_cases += int(created)
    escalated = [a.pk for actions in batches.values() for a in actions]
    RosterAction.objects.filter(pk__in=escalated).update(escalated_at=now)
    return result
