"""The life of a case (§7.1): proposed → confirmed | dismissed; confirmed → appealed →
upheld | overturned. One function per transition; every one writes a CaseTransition
(who, when, comment) in the same transaction, and a forbidden move raises CaseError
and changes nothing.

Fairness rules enforced here, whoever calls:
- only HR (``violations.decide_case``) confirms, dismisses and decides appeals;
- nobody decides about themselves: not their own case (confirm, dismiss, decide its appeal),
  not an appeal they filed (HR appealing for the employee) — see own_interest();
- four eyes: nobody confirms or dismisses a case they reported, and nobody decides
  the appeal of a case they confirmed;
- an appeal comes from the employee (their login) or from HR for them, within
  CASE_APPEAL_WINDOW_DAYS of confirmation;
- points and sanction are fixed at confirmation (the rule's default, escalated for
  repeat offences; HR may override with a reason) and never change afterwards;
- §9.8/§9.12: confirming a case of a rule with a head share makes the linked case
  of the offender's department head; overturning the first overturns the second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from violations.models import Case, CaseTransition, Rule, sanction_one_up
from violations.services.evidence import evidence_add, evidence_inspect

S = Case.State
ALLOWED = {
    (S.PROPOSED, S.CONFIRMED),
    (S.PROPOSED, S.DISMISSED),
    (S.CONFIRMED, S.APPEALED),
    (S.APPEALED, S.UPHELD),
    (S.APPEALED, S.OVERTURNED),
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
ERROR_OWN_REPORT = "不能确认或驳回自己报告的案件（四眼原则）。"
ERROR_OWN_CONFIRMATION = "不能裁决自己确认的案件的申诉（四眼原则）。"
ERROR_OWN_CASE = "不能处理自己的案件：请另一位人力资源部同事处理（本人不裁决与自己有关的事）。"
ERROR_OWN_APPEAL = (
    "不能裁决自己提出的申诉：请另一位人力资源部同事处理（本人不裁决与自己有关的事）。"
)
ERROR_COMMENT_REQUIRED = "请填写意见。"
ERROR_REASON_REQUIRED = "调整扣分时必须填写理由。"
ERROR_NEGATIVE_POINTS = "扣分不能为负数。"
ERROR_APPEAL_LATE = "申诉期已过：确认后 {days} 天内可以申诉（截至 {deadline:%Y-%m-%d %H:%M}）。"
ERROR_APPEAL_NOT_YOURS = "只有本人或人力资源部可以为这个案件提出申诉。"
ERROR_UNKNOWN_RULE = "违规条款 §{code} 不存在或未启用。"
ERROR_FILE_FORBIDDEN = "你不能为这个群登记违规。"


class CaseError(Exception):
    """A forbidden move; the message says why, in words HR can act on."""


@dataclass(frozen=True)
class RepeatOffence:
    number: int  # this offence is the nth of the rule by the employee within the window
    points: Decimal
    sanction: str


def _is_hr(user) -> bool:
    return user is not None and user.has_perm("violations.decide_case")


def _record(case: Case, from_state: str, actor, comment: str) -> CaseTransition:
    return CaseTransition.objects.create(
        case=case, from_state=from_state, to_state=case.state, actor=actor, comment=comment
    )


def own_interest(case: Case, actor) -> str:
    """Why ``actor`` may not decide ``case`` in its present state, being party to it:
    ERROR_OWN_CASE for their own case or one joint with it (§9.8), ERROR_OWN_APPEAL for an appeal they filed;
    "" if neither. The services refuse on it; the case page hides its 处理 box."""
    if actor is None or actor.pk is None:
        return ""
    if actor.pk in _parties(case):
        return ERROR_OWN_CASE
    if case.state == S.APPEALED:
        appeal = case.transitions.filter(to_state=S.APPEALED).order_by("-at", "-pk").first()
        if appeal is not None and appeal.actor_id == actor.pk:
            return ERROR_OWN_APPEAL
    return ""


def _parties(case: Case) -> set[int]:
    """The logins of everyone a decision on ``case`` charges: its employee, and through §9.8
    joint liability the employee of the case it is joint to, of the cases joint to it, and the
    department head a confirmation would make one for (a head decides neither their
    staff's case nor their own share of it)."""
    parties = {case.employee.user_id}
    if case.joint_of_id is not None:
        parties.add(case.joint_of.employee.user_id)
    parties.update(case.joint_cases.values_list("employee__user_id", flat=True))
    head = case.employee.department.head
    if case.rule.head_share and head is not None:  # confirming would charge them (_make_joint_case)
        parties.add(head.user_id)
    parties.discard(None)
    return parties


def _refuse_own_interest(case: Case, actor) -> None:
    reason = own_interest(case, actor)
    if reason:
        raise CaseError(reason)


def _check_move(case: Case, target: str) -> None:
    if (case.state, target) not in ALLOWED:
        raise CaseError(
            ERROR_FORBIDDEN.format(
                pk=case.pk, current=case.get_state_display(), target=S(target).label
            )
        )


def _move(case: Case, target: str, *, actor, comment: str, fields: tuple[str, ...] = ()) -> Case:
    """The one place a case changes state: checks the move, saves, writes the audit row."""
    _check_move(case, target)
    previous = case.state
    case.state = target
    case.save(update_fields=["state", *fields])
    _record(case, previous, actor, comment)
    return case


def _locked(case: Case) -> Case:
    # Two HR clerks on the same case: the second sees the first's decision.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("rule", "employee__department", "group")
        .get(pk=case.pk)
    )


def _require_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise CaseError(ERROR_COMMENT_REQUIRED)
    return comment


# ---------------------------------------------------------------------------
# Entering the system
# ---------------------------------------------------------------------------


def case_propose(
    *,
    rule_code: str,
    employee,
    source: str,
    source_key: str,
    description: str,
    occurred_at,
    group=None,
    reported_by=None,
) -> tuple[Case, bool]:
    """The one door for proposals from other parts (reconciliation, directives, screening).

    Returns (case, created). The same source event never makes two cases, even
    when two workers propose it at once: the unique constraint on (source,
    source_key) decides, and the loser gets the winner's case.
    """
    rule = Rule.objects.filter(code=rule_code, is_active=True).first()
    if rule is None:
        raise CaseError(ERROR_UNKNOWN_RULE.format(code=rule_code))
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                source=source,
                source_key=source_key,
                defaults={
                    "rule": rule,
                    "employee": employee,
                    "group": group,
                    "description": description,
                    "occurred_at": occurred_at,
                    "reported_by": reported_by,
                },
            )
            if created:
                _record(case, "", reported_by, f"由{case.get_source_display()}提出")
            return case, created
    except IntegrityError:
        return Case.objects.get(source=source, source_key=source_key), False


@transaction.atomic
def case_file(
    *,
    rule: Rule,
    employee,
    occurred_at: dt.datetime,
    description: str,
    actor,
    group=None,
    evidence: list[tuple[str, bytes]] = (),
) -> Case:
    """A case filed by hand (HR, or a group's admin/creator for their group), with its evidence.

    Nothing is stored — no row, no file on disk — if any evidence file is refused:
    every file is inspected before the first is written.
    """
    from violations.selectors import can_file_case  # selectors import models only

    if not can_file_case(actor, group):
        raise CaseError(ERROR_FILE_FORBIDDEN)
    for name, data in evidence:
        evidence_inspect(data, name=name)
    case = Case(
        rule=rule,
        employee=employee,
        group=group,
        occurred_at=occurred_at,
        description=description,
        reported_by=actor,
        source=Case.Source.MANUAL,
    )
    case.full_clean()
    case.save()
    _record(case, "", actor, "登记")
    for name, data in evidence:
        evidence_add(case=case, data=data, name=name, actor=actor)
    return case


# ---------------------------------------------------------------------------
# HR's decision
# ---------------------------------------------------------------------------


def repeat_offence(case: Case) -> RepeatOffence:
    """Points and sanction for ``case`` by the rule's repeat policy (data on the Rule).

    Counts the employee's earlier cases of the same rule that stand (confirmed,
    under appeal or upheld) and happened within the window before this one.
    The 2nd and later offences count ×factor; from the ``repeat_escalate_at``-th
    on, the sanction is one level heavier.
    """
    rule = case.rule
    since = case.occurred_at - dt.timedelta(days=rule.repeat_window_days)
    earlier = (
        Case.objects.filter(
            employee_id=case.employee_id,
            rule=rule,
            state__in=[S.CONFIRMED, S.APPEALED, S.UPHELD],
            joint_of__isnull=True,
            occurred_at__gte=since,
            occurred_at__lte=case.occurred_at,
        )
        .exclude(pk=case.pk)
        .count()
    )
    number = earlier + 1
    points = rule.default_points * (rule.repeat_points_factor if number >= 2 else 1)
    sanction = (
        sanction_one_up(rule.sanction) if number >= rule.repeat_escalate_at else rule.sanction
    )
    return RepeatOffence(number, points.quantize(CENT, ROUND_HALF_UP), sanction)


@transaction.atomic
def case_confirm(
    *,
    case: Case,
    actor,
    comment: str = "",
    points: Decimal | None = None,
    override_reason: str = "",
) -> Case:
    """HR confirms: the points and sanction are fixed now, for good."""
    case = _locked(case)
    if not _is_hr(actor):
        raise CaseError(ERROR_NOT_HR)
    _refuse_own_interest(case, actor)
    if case.reported_by_id is not None and case.reported_by_id == actor.pk:
        raise CaseError(ERROR_OWN_REPORT)
    _check_move(case, S.CONFIRMED)
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
    case.confirmed_by = actor
    _move(
        case,
        S.CONFIRMED,
        actor=actor,
        comment=comment,
        fields=CONFIRMATION_FIELDS,
    )
    _make_joint_case(case, actor)
    return case


def _make_joint_case(case: Case, actor) -> Case | None:
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
            "state": S.CONFIRMED,
            "points": (case.points * share).quantize(CENT, ROUND_HALF_UP),
            "sanction": case.rule.sanction,
            "offence_number": 1,
            "confirmed_at": case.confirmed_at,
            "confirmed_by": actor,
        },
    )
    if created:
        _record(joint, "", actor, f"随案件 #{case.pk} 确认（部门负责人连带 {share:.0%}）")
    return joint


@transaction.atomic
def case_dismiss(*, case: Case, actor, comment: str) -> Case:
    """HR dismisses a proposal; the reason is required."""
    case = _locked(case)
    comment = _require_comment(comment)
    if not _is_hr(actor):
        raise CaseError(ERROR_NOT_HR)
    _refuse_own_interest(case, actor)
    if case.reported_by_id is not None and case.reported_by_id == actor.pk:
        raise CaseError(ERROR_OWN_REPORT)
    return _move(case, S.DISMISSED, actor=actor, comment=comment)


# ---------------------------------------------------------------------------
# Appeal
# ---------------------------------------------------------------------------


def appeal_deadline(case: Case) -> dt.datetime | None:
    if case.confirmed_at is None:
        return None
    return case.confirmed_at + dt.timedelta(days=settings.CASE_APPEAL_WINDOW_DAYS)


@transaction.atomic
def case_appeal(
    *,
    case: Case,
    actor,
    comment: str,
    attachments: list[tuple[str, bytes]] = (),
    now: dt.datetime | None = None,
) -> Case:
    """The employee (or HR for them) appeals a confirmed case within the window, with
    optional materials (screenshots, PDF), stored as the case's evidence marked for the
    appeal — all of them or, if one is refused, none and no appeal."""
    case = _locked(case)
    comment = _require_comment(comment)
    for name, data in attachments:
        evidence_inspect(data, name=name)
    is_self = actor is not None and case.employee.user_id == actor.pk
    if not (is_self or _is_hr(actor)):
        raise CaseError(ERROR_APPEAL_NOT_YOURS)
    _check_move(case, S.APPEALED)
    deadline = appeal_deadline(case)
    if (now or timezone.now()) > deadline:
        raise CaseError(
            ERROR_APPEAL_LATE.format(
                days=settings.CASE_APPEAL_WINDOW_DAYS, deadline=timezone.localtime(deadline)
            )
        )
    _move(case, S.APPEALED, actor=actor, comment=comment)
    for name, data in attachments:
        evidence_add(case=case, data=data, name=name, actor=actor, for_appeal=True)
    return case


@transaction.atomic
def case_decide_appeal(*, case: Case, actor, uphold: bool, comment: str) -> Case:
    """HR, other than the confirmer, the employee and whoever filed the appeal, upholds
    or overturns; overturning also overturns the head's joint case (§9.8). Points never
    change: an overturned case simply stops counting."""
    case = _locked(case)
    comment = _require_comment(comment)
    if not _is_hr(actor):
        raise CaseError(ERROR_NOT_HR)
    _refuse_own_interest(case, actor)
    if case.confirmed_by_id == actor.pk:
        raise CaseError(ERROR_OWN_CONFIRMATION)
    _move(case, S.UPHELD if uphold else S.OVERTURNED, actor=actor, comment=comment)
    if not uphold:
        for joint in case.joint_cases.select_for_update().filter(
            state__in=[S.CONFIRMED, S.APPEALED, S.UPHELD]
        ):
            previous = joint.state
            joint.state = S.OVERTURNED
            joint.save(update_fields=["state"])
            _record(joint, previous, actor, f"案件 #{case.pk} 申诉成立，连带记录随之撤销")
    return case
