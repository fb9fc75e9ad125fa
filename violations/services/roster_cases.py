"""Cases that come from the groups' rosters (§5.1, §9.5): where group work turns into a
proposal for HR. They live here, above groups, so that groups never imports violations
(the apps depend one way: docs/architecture.md).

- §9.5: HR decides whether a member leaving a group is a case — never automatic;
- overdue roster to-dos, reminded daily by groups, are proposed past the grace period as a
  case against whoever could have fixed them: §5.1 against the group's creator (one case per
  group, creator and due date), §5.3.b against a member who was told and did not rename (one
  case per member and due date); HR's own to-dos never make a case;
- §5.3.a against an inviter, proposed by HR, only for an invite the inviter made: not from a
  reported (§6.3) account, not for someone who became ineligible after joining.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user, require_actor
from groups.models import AccountReport, Finding, RosterAction, RosterMember, RosterSnapshot
from groups.selectors import can_view_roster, name_breaks_only_house_rule
from groups.services.actions import (
    OVERDUE_NOTICE_KEY,
    RENAME_NOTICE_KEY,
    roster_actions_remind_overdue,
)
from members.models import Employee, PersonnelEvent
from notices.models import Notice
from violations.models import Case, Rule
from violations.services.cases import CaseError
from violations.services.intake import case_propose

logger = logging.getLogger(__name__)

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
    # §5.3.b renames past the grace period that made no case, left open for HR or the
    # creator: the member has no active login (never told), or their account is reported
    # lost or stolen (§6.3: whoever uses it is not them).
    untold_renames: int = 0
    reported_renames: int = 0
    # §5.3.b renames whose member was told too recently (a login made late): the period to
    # rename and the grace count from the notice; a later run proposes the case.
    waiting_renames: int = 0


@transaction.atomic
def roster_actions_handle_overdue(*, actor: Actor, today: dt.date | None = None) -> OverdueResult:
    """Remind each assignee once a day of their overdue to-dos (groups.services.actions);
    past the grace period, propose a case against whoever could have acted, for HR to decide:

    - the creator's to-dos (add, remove, §5.1): one §5.1 case per group, creator and due
      date, only against an active employee who is the group's creator today (a leaver's or
      a former creator's to-dos go to the new creator, with a fresh due date);
    - a member's rename (§5.3.b): one §5.3.b case per member and due date, listing the
      groups, only while they are active, could have been told (an active login: notices
      reach them), their account is not reported lost or stolen (§6.3), and their display
      name breaks the policy, not only a group's house rule (部门-姓名 when they use exactly
      their real name). Otherwise no case: the to-do stays open for HR or the creator to
      tell them (counted in the result, and logged);
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
    escalation = _escalate_overdue(overdue=reminders.overdue, today=today, actor=actor)
    if escalation.untold or escalation.reported or escalation.waiting:
        logger.info(
            "§5.3.b: %d overdue rename(s) made no case, the member could not be told "
            "(no active login, or never told); %d, the member's account is reported lost or "
            "stolen; %d, told too recently (the grace counts from the notice)",
            escalation.untold,
            escalation.reported,
            escalation.waiting,
        )
    return OverdueResult(
        reminded=reminders.reminded,
        emails=reminders.emails,
        proposed_cases=escalation.proposed,
        untold_renames=escalation.untold,
        reported_renames=escalation.reported,
        waiting_renames=escalation.waiting,
    )


@dataclass
class _Escalation:
    proposed: int = 0
    untold: int = 0
    reported: int = 0
    waiting: int = 0


def _escalate_overdue(
    *, overdue: Sequence[RosterAction], today: dt.date, actor: Actor
) -> _Escalation:
    """Proposals for the ``overdue`` to-dos past the grace period, each against whoever could
    have fixed it."""
    result = _Escalation()
    grace = dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS)
    past_grace = [a for a in overdue if a.escalated_at is None and a.due_on + grace < today]
    if not past_grace:
        return result
    # HR may switch a rule off in the catalog: its overdue to-dos are then only reminded.
    active = set(
        Rule.objects.filter(code__in=["5.1", "5.3.b"], is_active=True).values_list(
            "code", flat=True
        )
    )
    renames = [
        a
        for a in past_grace
        if a.owner == RosterAction.Owner.MEMBER and "5.3.b" in active and _breaks_5_3_b(a)
    ]
    reported = _reported_accounts(renames)
    told_on = _told_on(renames)
    now = timezone.now()
    escalated: list[int] = []
    batches: dict[tuple, list[RosterAction]] = defaultdict(list)
    by_member: dict[tuple, list[RosterAction]] = defaultdict(list)
    for action in past_grace:
        # §5.1 is the creator's duty today: never a former creator's (their to-dos move), nor
        # one who may not open the to-do (a confidential group's roster is HR's and its
        # admins', §6.1): nobody is charged for what they could not do — HR's list shows it.
        if (
            action.owner == RosterAction.Owner.CREATOR
            and "5.1" in active
            and _is_active(action.assignee)
            and action.assignee_id == action.group.creator_id
            and _could_open(action)
        ):
            batches[(action.group_id, action.assignee_id, action.due_on)].append(action)
        # RosterAction.Owner.HR: HR's own question, never a case against anyone.
    for action in renames:
        member = cast(Employee, action.finding.employee)  # _breaks_5_3_b: matched, active
        if member.pk in reported[0] or action.finding.wechat_id in reported[1]:
            result.reported += 1  # §6.3: not them speaking
        elif not _could_be_told(action) or (told := told_on.get(action.pk)) is None:
            result.untold += 1  # never told: the to-do stays for HR or the creator
        elif _rename_deadline(action, told_on=told, grace=grace) >= today:
            result.waiting += 1  # told late (a login made later): their full time from then
        else:
            by_member[(member.pk, action.due_on)].append(action)
    for (group_id, assignee_id, due_on), actions in batches.items():
        first = actions[0]
        _, created = case_propose(
            rule_code="5.1",
            employee=first.assignee,
            group=first.group,
            source=Case.Source.RECONCILIATION,
            source_key=f"roster-actions:{group_id}:{assignee_id}:{due_on.isoformat()}",
            description=(
                f"{first.group.name} 的 {len(actions)} 项群成员待办截止于 {due_on:%Y年%-m月%-d日}，"
                f"超过宽限期 {grace.days} 天仍未完成（§5.1）：\n"
                + "\n".join(f"- {a.get_kind_display()} {a.finding}" for a in actions)
            ),
            occurred_at=now,
            actor=actor,
        )
        result.proposed += int(created)
        escalated.extend(a.pk for a in actions)
    for (member_id, due_on), actions in by_member.items():
        result.proposed += _propose_rename_case(
            actions, member_id=member_id, due_on=due_on, grace=grace, now=now, actor=actor
        )
        escalated.extend(a.pk for a in actions)
    RosterAction.objects.filter(pk__in=escalated).update(escalated_at=now)
    return result


def _could_open(action: RosterAction) -> bool:
    """Whether the creator could open the to-do at all: any group's, except a confidential
    group's (§6.1), whose roster only a login allowed to see it opens (can_view_roster) —
    without one, or without that right, nobody may charge them for it."""
    if not action.group.is_confidential:
        return True
    user = cast(Employee, action.assignee).user
    return user is not None and can_view_roster(user, action.group)


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


def _could_be_told(action: RosterAction) -> bool:
    """The member has an active login, so the rename notice and the reminders reached them
    (notices.services.notice_post tells nobody else). The assignee is the member (routing);
    roster_actions_overdue loads their login with them."""
    member = action.assignee
    return (
        member is not None
        and member.pk == action.finding.employee_id
        and member.user is not None
        and member.user.is_active
    )


def _rename_deadline(action: RosterAction, *, told_on: dt.date, grace: dt.timedelta) -> dt.date:
    """The last day before a §5.3.b case: the member has ROSTER_ACTION_DUE_DAYS from the day
    they were told, and the grace after it — or after the to-do's due date, whichever is
    later (a member told on time has exactly the to-do's period)."""
    told_due = told_on + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)
    return max(told_due, action.due_on) + grace


def _told_on(renames: Sequence[RosterAction]) -> dict[int, dt.date]:
    """§5.3.b counts from when the member was told: by rename to-do, the first day a notice
    about it reached the member's login — the rename notice (groups.services.actions
    .roster_renames_tell, a notice of theirs made after the to-do) or the daily overdue
    reminder that lists it (a reminder from its due date on; the reminder's own day, from its
    subject key). notice_post makes no notice for someone without an active login: a member
    who got their login later was told only from then. Absent: never told. One query (none
    without renames)."""
    users = {
        a.assignee.user_id
        for a in renames
        if a.assignee is not None and a.assignee.user_id is not None
    }
    if not users:
        return {}
    rename_prefix = RENAME_NOTICE_KEY.format(action="")
    overdue_prefix = OVERDUE_NOTICE_KEY.format(assignee="", day="")[:-1]  # "roster-todo:overdue:"
    notices = Notice.objects.filter(recipient__in=users, kind=Notice.Kind.ROSTER_TODO).filter(
        Q(subject_key__startswith=rename_prefix) | Q(subject_key__startswith=overdue_prefix)
    )
    by_user: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for user_id, key, created_at in notices.values_list(
        "recipient_id", "subject_key", "created_at"
    ):
        by_user[user_id].append((key, created_at))
    told: dict[int, dt.date] = {}
    for action in renames:
        member = action.assignee
        if member is None or member.user_id is None:
            continue
        days = []
        for key, created_at in by_user.get(member.user_id, []):
            if created_at < action.created_at:
                continue  # about an earlier to-do
            if key.startswith(rename_prefix):
                days.append(timezone.localdate(created_at))
                continue
            _, day = key[len(overdue_prefix) :].split(":", 1)
            if key.startswith(OVERDUE_NOTICE_KEY.format(assignee=member.pk, day="")) and (
                (listed := dt.date.fromisoformat(day)) > action.due_on
            ):
                days.append(listed)  # that day's reminder listed this overdue to-do
        if days:
            told[action.pk] = min(days)
    return told


def _reported_accounts(renames: Sequence[RosterAction]) -> tuple[set[int], set[str]]:
    """§6.3: of the renames' members, those with an open lost/stolen report, and the reported
    accounts among the renames' WeChat ids. One query (none without renames)."""
    if not renames:
        return set(), set()
    member_ids = {a.finding.employee_id for a in renames}
    wechat_ids = {a.finding.wechat_id for a in renames if a.finding.wechat_id}
    rows = AccountReport.objects.filter(status=AccountReport.Status.OPEN).filter(
        Q(employee__in=member_ids) | Q(wechat_id__in=wechat_ids)
    )
    members, accounts = set(), set()
    for employee_id, wechat_id in rows.values_list("employee_id", "wechat_id"):
        members.add(employee_id)
        accounts.add(wechat_id)
    return members, accounts


def _propose_rename_case(
    actions: list[RosterAction],
    *,
    member_id: int,
    due_on: dt.date,
    grace: dt.timedelta,
    now: dt.datetime,
    actor: Actor,
) -> int:
    """One §5.3.b case per member and due date, whatever the number of groups (as §5.1's
    batching): the renames of one reconciliation are one omission, never repeats."""
    member = cast(Employee, actions[0].finding.employee)
    groups = {a.group_id: a.group for a in actions}
    lines = "\n".join(
        f"- {a.group.name}：群昵称为“{a.finding.display_name}”，{a.finding.detail}" for a in actions
    )
    _, created = case_propose(
        rule_code="5.3.b",
        employee=member,
        # The group when there is one; several are listed in the description.
        group=next(iter(groups.values())) if len(groups) == 1 else None,
        source=Case.Source.RECONCILIATION,
        source_key=f"renames:{member_id}:{due_on.isoformat()}",
        description=(
            f"{member.name} 在 {len(groups)} 个微信群未使用真实姓名，截止于 {due_on:%Y年%-m月%-d日}，"
            f"超过宽限期 {grace.days} 天仍未修改（§5.3.b 群内使用真实姓名）：\n{lines}"
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
ERROR_INVITER_ACCOUNT_REPORTED = (
    "邀请人 {inviter} 的微信号 {wechat_id} 已于 {since:%Y年%-m月%-d日} 挂失（{kind}），"
    "邀请发生在挂失之后，不能由本人负责（§6.3），不能向邀请人提出 §5.3.a 违规。"
)
ERROR_INVITER_CASE_PERSONNEL_EVENT = (
    "这条核对发现由人事变动（{event}）产生：成员入群时可能符合条件，不能向邀请人提出 §5.3.a 违规。"
)
ERROR_INVITER_CASE_MOVED_LATER = (
    "{member} 于 {at:%Y年%-m月%-d日} 有人事变动（{event}），{joined}："
    "被邀请时可能符合入群条件，不能向邀请人提出 §5.3.a 违规。"
)


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
        when = f"，入群时间：{timezone.localtime(member.joined_at):%Y年%-m月%-d日 %H:%M}"
    invited = finding.employee.name if finding.employee else f"“{finding.display_name}”"
    snapshot = finding.last_seen or finding.first_seen
    joined_at = member.joined_at if member is not None else None
    occurred_at = joined_at or (snapshot.taken_at if snapshot is not None else timezone.now())
    _refuse_if_eligible_when_invited(finding, joined_at=joined_at)
    _refuse_if_inviter_account_reported(
        finding,
        wechat_ids={finding.inviter_text, member.inviter if member is not None else ""},
        invited_at=occurred_at,
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


MOVED_OR_JOINED = (PersonnelEvent.Kind.MOVER, PersonnelEvent.Kind.JOINER)


def _refuse_if_eligible_when_invited(finding: Finding, *, joined_at: dt.datetime | None) -> None:
    """§5.3.a is about inviting someone ineligible: no case when the member may have become
    ineligible only after the invite — the finding came from a personnel event (a mover or
    joiner, groups.services.lifecycle), or the member's latest move (调动) is after they
    joined (the roster's 入群时间; when it is not recorded, after the first snapshot that
    showed them in the group). A hire (入职) after joining excuses nothing: whoever invited
    them then invited someone from outside the company — and members.signals records a
    joiner whenever an employee record is made, the first import of the staff included."""
    if finding.event_id is not None:
        event = PersonnelEvent.objects.get(pk=finding.event_id)
        if event.kind in MOVED_OR_JOINED:
            raise CaseError(
                ERROR_INVITER_CASE_PERSONNEL_EVENT.format(event=event.get_kind_display())
            )
    if finding.employee_id is None:
        return
    latest = (
        PersonnelEvent.objects.filter(employee=finding.employee_id, kind=PersonnelEvent.Kind.MOVER)
        .order_by("-at", "-pk")
        .first()
    )
    first_seen = finding.first_seen.taken_at if finding.first_seen is not None else None
    since = joined_at or first_seen
    if latest is None or (since is not None and latest.at <= since):
        return
    if joined_at is not None:
        joined = f"晚于其入群时间 {timezone.localtime(joined_at):%Y年%-m月%-d日 %H:%M}"
    elif first_seen is not None:
        joined = (
            f"晚于名单首次显示其在群内的时间 {timezone.localtime(first_seen):%Y年%-m月%-d日 %H:%M}"
        )
    else:
        joined = "名单未记入群时间"
    raise CaseError(
        ERROR_INVITER_CASE_MOVED_LATER.format(
            member=cast(Employee, finding.employee).name,
            at=timezone.localtime(latest.at),
            event=latest.get_kind_display(),
            joined=joined,
        )
    )


def _refuse_if_inviter_account_reported(
    finding: Finding, *, wechat_ids: set[str], invited_at: dt.datetime
) -> None:
    """§6.3: an invite from an account reported lost or stolen before it was made is not the
    inviter's doing. The reports looked at: any of the WeChat id the roster named the
    inviter by (open then, whether closed since or not), and the inviter's open ones."""
    inviter = cast(Employee, finding.inviter)
    wechat_ids.discard("")
    reports = AccountReport.objects.filter(
        Q(wechat_id__in=wechat_ids) | Q(employee=inviter, status=AccountReport.Status.OPEN)
    ).order_by("reported_at", "pk")
    for report in reports:
        since = report.reported_at
        if report.happened_on is not None:
            # Lost or stolen on that day: from its start (local time).
            since = min(
                since,
                timezone.make_aware(dt.datetime.combine(report.happened_on, dt.time.min)),
            )
        closed_after = report.closed_at is None or report.closed_at > invited_at
        if since <= invited_at and closed_after:
            raise CaseError(
                ERROR_INVITER_ACCOUNT_REPORTED.format(
                    inviter=inviter.name,
                    wechat_id=report.wechat_id,
                    since=timezone.localtime(since),
                    kind=report.get_kind_display(),
                )
            )
