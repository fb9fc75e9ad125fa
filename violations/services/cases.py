"""The life of a case (§7.1): proposed → confirmed | dismissed; confirmed → appealed →
upheld | overturned. One function per transition; every one writes a CaseTransition
(who, when, comment) in the same transaction, and a forbidden move raises CaseError
and changes nothing. How a case comes in (case_propose, case_file) is intake.py.

Fairness rules enforced here, whoever calls:
- only HR (``violations.decide_case``) confirms, dismisses and decides appeals, and only a
  person: the system (a task, a command, the demo) never decides about someone's pay;
- nobody decides about themselves: not their own case (confirm, dismiss, decide its appeal),
  not an appeal they filed (HR appealing for the employee) — see guards.own_interest();
- four eyes: nobody confirms or dismisses a case they reported, and nobody decides
  the appeal of a case they confirmed;
- an appeal comes from the employee (their login) or from HR for them, within
  CASE_APPEAL_WINDOW_DAYS of when the employee was told (told_at, telling.py: the
  confirmation's notice reaching their login, their first view of the case, or HR telling
  them in person — whichever came first); before they were told the window has not started;
- the employee hears of each decision (violations.services.notify); while a case is
  proposed they may explain (telling.case_explain), and HR does not confirm it before they
  did or the explanation window has passed (telling.explanation_due) — dismissing never waits;
- points and sanction are fixed at confirmation (the rule's default, escalated for
  repeat offences; HR may override with a reason) and never change afterwards;
- §9.8/§9.12: confirming a case of a rule with a head share makes the linked case
  of the offender's department head; overturning the first overturns the second.

The actor is explicit (common.actors): a person is checked against these rules, the system
(a task, a command, the demo) passes the permission checks and is recorded as no person —
but it may not confirm, dismiss or decide an appeal (ERROR_SYSTEM_DECIDES): four eyes and
"nobody decides about themselves" compare people, and a decision about a person's pay
needs a person who answers for it (§7.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user, is_system, require_actor
from violations import selectors
from violations.models import Case, CaseTransition, sanction_one_up
from violations.services import notify
from violations.services.evidence import evidence_check_all, evidence_store_checked
from violations.services.guards import DECIDE_PERMISSION, CaseError, locked, own_interest
from violations.services.telling import (
    appeal_deadline,
    record_told_by_notice,
    refuse_while_explanation_due,
)

State = Case.State
ALLOWED = {
    (State.PROPOSED, State.CONFIRMED),
    (State.PROPOSED, State.DISMISSED),
    (State.CONFIRMED, State.APPEALED),
    (State.APPEALED, State.UPHELD),
    (State.APPEALED, State.OVERTURNED),
}
CENT = Decimal("0.01")
# What confirmation fixes on a case, for good (the admin shows them read-only).
CONFIRMATION_FIELDS = (
    "points",
    "sanction",
    "offence_number",
    "override_reason",
    "confirmed_at",
    "confirmed_by",
)

ERROR_FORBIDDEN = "案件 #{pk} 当前为“{current}”，不能改为“{target}”。"
ERROR_NOT_HR = "只有人力资源部（有“确认或驳回违规”权限的人）可以这样做。"
ERROR_SYSTEM_DECIDES = (
    "确认、驳回案件和裁决申诉须由人力资源部的同事本人处理，系统不能代为决定（§7.1）。"
)
ERROR_OWN_REPORT = "不能确认或驳回自己报告的案件（四眼原则）。"
ERROR_OWN_CONFIRMATION = "不能裁决自己确认的案件的申诉（四眼原则）。"
ERROR_COMMENT_REQUIRED = "请填写意见。"
ERROR_REASON_REQUIRED = "调整扣分时必须填写理由。"
ERROR_NEGATIVE_POINTS = "扣分不能为负数。"
ERROR_APPEAL_LATE = (
    "申诉期已过：告知本人后 {days} 天内可以申诉（截至 {deadline:%Y年%-m月%-d日 %H:%M}）。"
)
ERROR_APPEAL_NOT_YOURS = "只有本人或人力资源部可以为这个案件提出申诉。"
ERROR_UNKNOWN_RULE = "违规条款 §{code} 不存在或未启用。"
ERROR_FILE_FORBIDDEN = "你不能为这个群登记违规。"


@dataclass(frozen=True)
class RepeatOffence:
    number: int  # this offence is the nth of the rule by the employee within the window
    points: Decimal
    sanction: str


def record_transition(case: Case, from_state: str, actor: Actor, comment: str) -> CaseTransition:
    """The audit row of one change of ``case`` (its coming in included: ``from_state`` ""),
    by ``actor`` — no person when the system acts. Only this package's services write it."""
    return CaseTransition.objects.create(
        case=case,
        from_state=from_state,
        to_state=case.state,
        actor=actor_user(actor),
        comment=comment,
    )


def _refuse_unless_hr(case: Case, actor: Actor) -> None:
    """HR decides — a person, never the system — and never about themselves (own_interest)."""
    if not actor_may(actor, DECIDE_PERMISSION):
        raise CaseError(ERROR_NOT_HR)
    if is_system(actor):  # it passes actor_may, and has no pk for the four-eyes checks below
        raise CaseError(ERROR_SYSTEM_DECIDES)
    reason = own_interest(case, actor)
    if reason:
        raise CaseError(reason)


def own_report(case: Case, actor: Actor) -> bool:
    """Four eyes: whoever reported a proposal neither confirms nor dismisses it (an appeal
    they may decide). The services refuse on it; the case page and HR's queue leave it out."""
    return (
        case.state == State.PROPOSED
        and case.reported_by_id is not None
        and case.reported_by_id == actor.pk
    )


def _refuse_own_report(case: Case, actor: Actor) -> None:
    if case.reported_by_id is not None and case.reported_by_id == actor.pk:
        raise CaseError(ERROR_OWN_REPORT)


def _check_move(case: Case, target: str) -> None:
    if (case.state, target) not in ALLOWED:
        raise CaseError(
            ERROR_FORBIDDEN.format(
                pk=case.pk, current=case.get_state_display(), target=State(target).label
            )
        )


def _move(
    case: Case, target: str, *, actor: Actor, comment: str, fields: tuple[str, ...] = ()
) -> Case:
    """The one place a case changes state: checks the move, saves, writes the audit row."""
    _check_move(case, target)
    previous = case.state
    case.state = target
    case.save(update_fields=["state", *fields])
    record_transition(case, previous, actor, comment)
    if previous == State.PROPOSED:
        # Decided: the proposal's invitation to explain is answered, no longer "unread".
        notify.proposal_notice_settle(case)
    return case


def _require_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise CaseError(ERROR_COMMENT_REQUIRED)
    return comment


# ---------------------------------------------------------------------------
# HR's decision
# ---------------------------------------------------------------------------


def repeat_offence(case: Case) -> RepeatOffence:
    """Points and sanction for ``case`` by the rule's repeat policy (data on the Rule).

    Counts the employee's earlier cases of the same rule that stand (Case.COUNTING_STATES)
    and happened within the window before this one.
    The 2nd and later offences count ×factor — unless the rule says "from the N-th
    offence, X points" (``repeat_from_offence``/``repeat_points``): then from the N-th on
    the points are X, so a rule whose first offence is a 0-point reminder can still cost
    points on a repeat (§5.3.a), which no factor of 0 could. From the
    ``repeat_escalate_at``-th on, the sanction is one level heavier either way.
    """
    rule = case.rule
    since = case.occurred_at - dt.timedelta(days=rule.repeat_window_days)
    earlier = (
        Case.objects.filter(
            employee_id=case.employee_id,
            rule=rule,
            state__in=Case.COUNTING_STATES,
            joint_of__isnull=True,
            occurred_at__gte=since,
            occurred_at__lte=case.occurred_at,
        )
        .exclude(pk=case.pk)
        .count()
    )
    number = earlier + 1
    if rule.repeat_from_offence is not None and rule.repeat_points is not None:
        # Rule.clean() keeps the two together; both are read so a half-set rule (written
        # around the form) falls back to the factor, never to None points.
        points = rule.repeat_points if number >= rule.repeat_from_offence else rule.default_points
    else:
        points = rule.default_points * (rule.repeat_points_factor if number >= 2 else 1)
    sanction = (
        sanction_one_up(rule.sanction) if number >= rule.repeat_escalate_at else rule.sanction
    )
    return RepeatOffence(number, points.quantize(CENT, ROUND_HALF_UP), sanction)


@transaction.atomic
def case_confirm(
    *,
    case: Case,
    actor: Actor,
    comment: str = "",
    points: Decimal | None = None,
    override_reason: str = "",
) -> Case:
    """HR confirms: the points and sanction are fixed now, for good."""
    case = locked(case)
    _refuse_unless_hr(case, actor)
    _refuse_own_report(case, actor)
    _check_move(case, State.CONFIRMED)
    refuse_while_explanation_due(case)
    offence = repeat_offence(case)
    if points is not None and Decimal(points) != offence.points:
        if Decimal(points) < 0:
            raise CaseError(ERROR_NEGATIVE_POINTS)
        if not override_reason.strip():
            raise CaseError(ERROR_REASON_REQUIRED)
        case.points = Decimal(points).quantize(CENT, ROUND_HALF_UP)
        case.override_reason = override_reason.strip()
    else:
        case.points = offence.points
    case.sanction = offence.sanction
    case.offence_number = offence.number
    case.confirmed_at = timezone.now()
    case.confirmed_by = actor_user(actor)
    _move(
        case,
        State.CONFIRMED,
        actor=actor,
        comment=comment,
        fields=CONFIRMATION_FIELDS,
    )
    record_told_by_notice(case)
    _make_joint_case(case, actor)
    return case


def _make_joint_case(case: Case, actor: Actor) -> Case | None:
    """§9.8/§9.12: the offender's department head answers for ``head_share`` of the points."""
    share = case.rule.head_share
    head = case.employee.department.head
    if not share or head is None or head.pk == case.employee_id:
        return None
    joint, created = Case.objects.get_or_create(
        source=Case.Source.JOINT,
        source_key=f"joint:{case.pk}",
        defaults={
            "rule": case.rule,
            "employee": head,
            "group": case.group,
            "occurred_at": case.occurred_at,
            "description": f"连带责任：{case.employee} 的案件 #{case.pk}（§9.8、§9.12）。",
            "joint_of": case,
            "state": State.CONFIRMED,
            # Fixed by the confirmation just made (case_confirm): never None here.
            "points": (cast(Decimal, case.points) * share).quantize(CENT, ROUND_HALF_UP),
            "sanction": case.rule.sanction,
            "offence_number": 1,
            "confirmed_at": case.confirmed_at,
            "confirmed_by": actor_user(actor),
        },
    )
    if created:
        record_transition(joint, "", actor, f"随案件 #{case.pk} 确认（部门负责人连带 {share:.0%}）")
        record_told_by_notice(joint)  # the head hears of their share as the employee of theirs
    return joint


@transaction.atomic
def case_dismiss(*, case: Case, actor: Actor, comment: str) -> Case:
    """HR dismisses a proposal; the reason is required."""
    case = locked(case)
    comment = _require_comment(comment)
    _refuse_unless_hr(case, actor)
    _refuse_own_report(case, actor)
    _move(case, State.DISMISSED, actor=actor, comment=comment)
    notify.notify_dismissed(case, comment)
    return case


# ---------------------------------------------------------------------------
# Appeal
# ---------------------------------------------------------------------------


@transaction.atomic
def case_appeal(
    *,
    case: Case,
    actor: Actor,
    comment: str,
    attachments: Sequence[tuple[str, bytes]] = (),
    now: dt.datetime | None = None,
) -> Case:
    """The employee (or HR for them) appeals a confirmed case within the window, with
    optional materials (screenshots, PDF), stored as the case's evidence marked for the
    appeal — all of them or, if one is refused, none and no appeal. The files are checked
    first, before who appeals and when (the order the appeal form's refusals always came in),
    and stored last, in this transaction."""
    require_actor(actor)
    case = locked(case)
    comment = _require_comment(comment)
    kinds = evidence_check_all(attachments)
    if not selectors.can_appeal_case(actor, case):
        raise CaseError(ERROR_APPEAL_NOT_YOURS)
    _check_move(case, State.APPEALED)
    deadline = appeal_deadline(case)  # None: not told yet, the window has not started
    if deadline is not None and (now or timezone.now()) > deadline:
        raise CaseError(
            ERROR_APPEAL_LATE.format(
                days=settings.CASE_APPEAL_WINDOW_DAYS, deadline=timezone.localtime(deadline)
            )
        )
    _move(case, State.APPEALED, actor=actor, comment=comment)
    # The appellant was checked above (can_appeal_case, the rule evidence_add_all applies
    # to an appeal's material): store what was checked.
    evidence_store_checked(case=case, files=attachments, kinds=kinds, actor=actor, for_appeal=True)
    notify.notify_appeal_arrived(case, actor)  # HR who may decide it, never a party
    return case


@transaction.atomic
def case_decide_appeal(*, case: Case, actor: Actor, uphold: bool, comment: str) -> Case:
    """HR, other than the confirmer, the employee and whoever filed the appeal, upholds
    or overturns; overturning also overturns the head's joint case (§9.8). Points never
    change: an overturned case simply stops counting."""
    case = locked(case)
    comment = _require_comment(comment)
    _refuse_unless_hr(case, actor)
    if case.confirmed_by_id is not None and case.confirmed_by_id == actor.pk:
        raise CaseError(ERROR_OWN_CONFIRMATION)
    _move(case, State.UPHELD if uphold else State.OVERTURNED, actor=actor, comment=comment)
    notify.notify_appeal_decided(case, comment)
    if not uphold:
        joints = case.joint_cases.select_for_update(of=("self",)).select_related(
            "rule", "group", "employee__user"
        )
        for joint in joints.filter(state__in=Case.COUNTING_STATES):
            previous = joint.state
            joint.state = State.OVERTURNED
            joint.save(update_fields=["state"])
            record_transition(joint, previous, actor, f"案件 #{case.pk} 申诉成立，连带记录随之撤销")
            notify.notify_joint_overturned(joint, case)
    return case
