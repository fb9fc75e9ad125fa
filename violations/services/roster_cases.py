"""Cases that come from the groups' rosters (§5.1, §9.5): where group work turns into a
proposal for HR. They live here, above groups, so that groups never imports violations
(the apps depend one way: docs/architecture.md).

- §9.5: HR decides whether a member leaving a group is a case — never automatic;
- overdue roster to-dos, reminded daily by groups, are proposed past the grace period as a
  case against whoever could have fixed them: §5.1 against the group's creator (one case per
  group, creator and due date), §5.3.b against a member who did not rename; HR's own to-dos
  never make a case.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user, require_actor
from groups.models import Finding, RosterAction, RosterMember, RosterSnapshot
from groups.selectors import name_breaks_only_house_rule
from groups.services.actions import roster_actions_remind_overdue
from members.models import Employee
from violations.models import Case, Rule
from violations.services.cases import CaseError
from violations.services.intake import case_propose

DECIDE_FINDING_PERMISSION = "groups.change_finding"  # as the Finding admin's decide actions
ERROR_NOT_A_PENDING_LEFT_GROUP = "只能对待决定的退群记录（§9.5）作出决定。"
ERROR_DECIDE_FINDING_FORBIDDEN = "只有可以处理群成员核对发现的人（人力资源部）可以决定退群记录。"


@transaction.atomic
def finding_decide_left_group(*, finding: Finding, propose_case: bool, actor: Actor) -> Finding:
    """§9.5: HR decides whether a member leaving the group is a case. Never automatic.

    Proposing makes a *proposed* §9.5 case for HR's own review queue, reported by ``actor``
    (four eyes come with the case workflow); either way the finding is closed. CaseError if
    ``actor`` may not decide findings, if the finding is not an open 退群 (another clerk
    decided it a moment ago), or if §9.5 is switched off in the catalog.
    """
    if not actor_may(actor, DECIDE_FINDING_PERMISSION):
        raise CaseError(ERROR_DECIDE_FINDING_FORBIDDEN)
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("group", "employee", "first_seen")
        .get(pk=finding.pk)
    )
    if finding.kind != Finding.Kind.LEFT_GROUP or finding.status != Finding.Status.OPEN:
        raise CaseError(ERROR_NOT_A_PENDING_LEFT_GROUP)
    if propose_case:
        case_propose(
            rule_code="9.5",
            employee=finding.employee,
            group=finding.group,
            source=Case.Source.RECONCILIATION,
            source_key=f"finding:{finding.pk}",
            description=f"{finding.employee} 退出了 {finding.group.name}（{finding.detail}）。",
            # A §9.5 event always comes from a snapshot (detect.events_between).
            occurred_at=cast(RosterSnapshot, finding.first_seen).taken_at,
            actor=actor,
        )
    finding.decision = Finding.Decision.PROPOSE_CASE if propose_case else Finding.Decision.NO_CASE
    finding.status = Finding.Status.RESOLVED
    finding.resolved_at = timezone.now()
    finding.decided_by = actor_user(actor)
    finding.save(update_fields=["decision", "status", "resolved_at", "decided_by"])
    return finding


@dataclass(frozen=True)
class OverdueResult:
    reminded: int = 0
    emails: int = 0
    proposed_cases: int = 0


@transaction.atomic
def roster_actions_handle_overdue(*, actor: Actor, today: dt.date | None = None) -> OverdueResult:
    """Remind each assignee once a day of their overdue to-dos (groups.services.actions);
    past the grace period, propose a case against whoever could have acted, for HR to decide:

    - the creator's to-dos (add, remove, §5.1): one §5.1 case per group, creator and due
      date, only against an active employee (a leaver's to-dos go to a successor, with a
      fresh due date);
    - a member's rename (§5.3.b): one §5.3.b case per to-do against the member, only while
      they are active and when their display name breaks the policy, not only a group's
      house rule (部门-姓名 when they use exactly their real name);
    - HR's own to-dos (who someone is, duplicate or reported accounts): never a case — HR's
      queue lists them.
    Each only while its rule is active in the catalog. Both steps in this one transaction,
    reminders first.

    Idempotent: a second call on the same day reminds nobody again, and the proposals'
    source keys mean the same overdue to-dos never make two cases. A proposal is for HR to
    confirm or dismiss, never a penalty by itself.
    """
    require_actor(actor)  # also on a day with nothing to escalate
    today = today or timezone.localdate()
    reminders = roster_actions_remind_overdue(today=today)
    # The to-dos the reminder loaded: one query for both steps.
    proposed = _escalate_overdue(overdue=reminders.overdue, today=today, actor=actor)
    return OverdueResult(
        reminded=reminders.reminded, emails=reminders.emails, proposed_cases=proposed
    )


def _escalate_overdue(*, overdue: Sequence[RosterAction], today: dt.date, actor: Actor) -> int:
    """Proposals for the ``overdue`` to-dos past the grace period, each against whoever could
    have fixed it; returns how many were new."""
    grace = dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS)
    past_grace = [a for a in overdue if a.escalated_at is None and a.due_on + grace < today]
    if not past_grace:
        return 0
    # HR may switch a rule off in the catalog: its overdue to-dos are then only reminded.
    active = set(
        Rule.objects.filter(code__in=["5.1", "5.3.b"], is_active=True).values_list(
            "code", flat=True
        )
    )
    now = timezone.now()
    proposed = 0
    escalated: list[int] = []
    batches: dict[tuple, list[RosterAction]] = defaultdict(list)
    for action in past_grace:
        if action.owner == RosterAction.Owner.CREATOR and "5.1" in active:
            if _is_active(action.assignee):
                batches[(action.group_id, action.assignee_id, action.due_on)].append(action)
        elif action.owner == RosterAction.Owner.MEMBER and "5.3.b" in active:
            if _breaks_5_3_b(action):
                proposed += _propose_rename_case(action, grace=grace, now=now, actor=actor)
                escalated.append(action.pk)
        # RosterAction.Owner.HR: HR's own question, never a case against anyone.
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
            actor=actor,
        )
        proposed += int(created)
        escalated.extend(a.pk for a in actions)
    RosterAction.objects.filter(pk__in=escalated).update(escalated_at=now)
    return proposed


def _is_active(employee: Employee | None) -> bool:
    return employee is not None and employee.status == Employee.Status.ACTIVE


def _breaks_5_3_b(action: RosterAction) -> bool:
    """A rename the member could have made and that the policy asks for: the member is still
    active, and their display name is not exactly their real name under a 部门-姓名 house
    rule (then only the group's own rule is broken, never §5.3.b)."""
    finding = action.finding
    member = finding.employee
    if action.kind != RosterAction.Kind.RENAME or member is None or not _is_active(member):
        return False
    return not name_breaks_only_house_rule(
        finding.display_name,
        real_name=member.name,
        convention=action.group.naming_convention,
    )


def _propose_rename_case(
    action: RosterAction, *, grace: dt.timedelta, now: dt.datetime, actor: Actor
) -> int:
    finding = action.finding
    member = cast(Employee, finding.employee)  # _breaks_5_3_b: a matched, active employee
    _, created = case_propose(
        rule_code="5.3.b",
        employee=member,
        group=action.group,
        source=Case.Source.RECONCILIATION,
        source_key=f"roster-action:{action.pk}",
        description=(
            f"{member.name} 在 {action.group.name} 的群昵称为“{finding.display_name}”，"
            f"{finding.detail}；截止于 {action.due_on:%Y-%m-%d}，超过宽限期 {grace.days} 天"
            "仍未修改（§5.3.b 群内使用真实姓名）。"
        ),
        occurred_at=now,
        actor=actor,
    )
    return int(created)


ERROR_INVITER_CASE_FORBIDDEN = (
    "只有可以处理群成员核对发现的人（人力资源部）可以向邀请人提出 §5.3.a 违规。"
)
ERROR_INVITER_CASE_KIND = (
    "只能对“与公司无关的人员”或“不符合入群条件”的核对发现向邀请人提出 §5.3.a 违规。"
)
ERROR_INVITER_UNKNOWN = (
    "这条核对发现的邀请人未能对应到员工（名单未记邀请人，或无法确定是哪位员工），"
    "不能向邀请人提出违规。"
)
ERROR_INVITER_CASE_EXISTS = "已就这条核对发现向邀请人提出过 §5.3.a 违规（案件 #{case}）。"


@transaction.atomic
def finding_propose_inviter_case(*, finding: Finding, actor: Actor) -> Case:
    """§5.3.a "do not invite unrelated people": HR proposes, in one step, a case against
    whoever invited a stranger or an ineligible member (the roster's 邀请人, matched to an
    employee by reconciliation). A proposal for HR's review queue, reported by ``actor``.

    CaseError if ``actor`` may not handle findings, if the finding is not a STRANGER or
    INELIGIBLE one, if its inviter is not a known employee, if §5.3.a is switched off, or
    if a case was already proposed from it (never twice: the source key).
    """
    if not actor_may(actor, DECIDE_FINDING_PERMISSION):
        raise CaseError(ERROR_INVITER_CASE_FORBIDDEN)
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("group", "inviter", "employee", "first_seen", "last_seen")
        .get(pk=finding.pk)
    )
    if finding.kind not in (Finding.Kind.STRANGER, Finding.Kind.INELIGIBLE):
        raise CaseError(ERROR_INVITER_CASE_KIND)
    if finding.inviter is None:
        raise CaseError(ERROR_INVITER_UNKNOWN)
    source_key = f"inviter:{finding.pk}"
    existing = Case.objects.filter(source=Case.Source.RECONCILIATION, source_key=source_key)
    if (case_id := existing.values_list("pk", flat=True).first()) is not None:
        raise CaseError(ERROR_INVITER_CASE_EXISTS.format(case=case_id))
    # The member's roster row of the snapshot that last showed them: when and how they joined.
    member = (
        RosterMember.objects.filter(snapshot=finding.last_seen, display_name=finding.display_name)
        .order_by("row_number")
        .first()
        if finding.last_seen_id
        else None
    )
    how = ""
    if member is not None and member.join_method:
        how = f"，方式：{member.get_join_method_display()}"
    when = ""
    if member is not None and member.joined_at:
        when = f"，入群时间：{timezone.localtime(member.joined_at):%Y-%m-%d %H:%M}"
    invited = finding.employee.name if finding.employee else f"“{finding.display_name}”"
    snapshot = finding.last_seen or finding.first_seen
    occurred_at = (member.joined_at if member is not None else None) or (
        snapshot.taken_at if snapshot is not None else timezone.now()
    )
    case, _ = case_propose(
        rule_code="5.3.a",
        employee=finding.inviter,
        group=finding.group,
        source=Case.Source.RECONCILIATION,
        source_key=source_key,
        description=(
            f"{finding.inviter.name} 邀请 {invited} 加入 {finding.group.name}"
            f"（{finding.get_kind_display()}：{finding.detail}）{how}{when}。"
            f"名单所记邀请人：{finding.inviter_text or finding.inviter.name}（§5.3.a）。"
        ),
        occurred_at=occurred_at,
        actor=actor,
    )
    return case
