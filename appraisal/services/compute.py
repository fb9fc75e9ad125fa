"""Computing a period (§7.1): one Result per employee, one Line per counted case.

What counts: every case that stands — confirmed, under appeal, or upheld
(overturned and dismissed ones do not) — with the points and sanction fixed on
it at confirmation, that happened within the period (Asia/Shanghai dates).
§9.8 joint-liability cases count for the department head and are marked.

Idempotent and all-or-nothing: the period's rows are replaced in one
transaction, under a row lock on the period (PostgreSQL; SQLite serialises
writers), with unique constraints as the last guard — two runs at once, or a
run twice, give the same rows, and a run that dies leaves the previous ones.

Corrections of a locked period (a case confirmed or overturned after the lock)
never touch it: they become adjustment Lines in the first not-locked period
after it, naming the period and case they correct.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appraisal.models import GradeBand, Line, Period, Result, period_bounds
from appraisal.selectors import TZ, ZERO, corrections_of, corrections_waiting, counting_cases
from common.db import insert_many
from members.models import Employee
from violations.models import Sanction

# 警告次数: cases whose sanction is a warning or heavier.
WARNING_SANCTIONS = {Sanction.WARNING, Sanction.SERIOUS_WARNING, Sanction.REFER}
BATCH = 2000

ERROR_LOCKED = "考核期间 {code} 已锁定，不能再计算；之后确认的更正会计入下一个未锁定的期间。"
ERROR_NOT_COMPUTED = "考核期间 {code} 还没有计算，不能锁定。"
ERROR_ALREADY_LOCKED = "考核期间 {code} 已经锁定。"
ERROR_NOT_HR = "只有人力资源部可以计算或锁定考核期间。"
ERROR_LOCKED_SCORING = "考核期间 {code} 已锁定，计分设置不能再修改（§7.1）。"
ERROR_NOT_HR_CHANGE = "只有人力资源部可以修改考核期间的计分设置。"
ERROR_NOT_HR_CREATE = "只有人力资源部可以新建考核期间。"
ERROR_NOT_WAITED_FOR = (
    "没有锁定期间的更正在等待考核期间 {code}，未新建。其他考核期间请用“增加考核期间”添加。"
)


class AppraisalError(Exception):
    pass


@dataclass(frozen=True)
class ComputeSummary:
    period: str
    employees: int
    lines: int
    adjustments: int
    deducted: Decimal


@transaction.atomic
def period_get_or_create(*, code: str) -> Period:
    """The period named ``code`` (2026-11, 2026-Q4), created open if new."""
    kind, starts, ends = period_bounds(code)
    period, _ = Period.objects.get_or_create(
        code=code, defaults={"kind": kind, "starts_on": starts, "ends_on": ends}
    )
    return period


@transaction.atomic
def period_create_for_corrections(*, code: str, actor) -> Period:
    """HR creates the period ``code`` that a locked period's corrections wait for (§7.1:
    they go to the first not-locked period after it, and none exists yet).

    Only such a code is accepted (selectors.corrections_waiting names them); any other
    raises AppraisalError and creates nothing. The period starts open, validated by
    full_clean; its history names ``actor``.
    """
    if not (actor.has_perm("appraisal.add_period") and actor.has_perm("appraisal.compute_period")):
        raise AppraisalError(ERROR_NOT_HR_CREATE)
    try:
        kind, starts, ends = period_bounds(code)
    except ValueError as exc:
        raise AppraisalError(str(exc)) from exc
    if code not in {waiting.needed for waiting in corrections_waiting()}:
        raise AppraisalError(ERROR_NOT_WAITED_FOR.format(code=code))
    period = Period(code=code, kind=kind, starts_on=starts, ends_on=ends)
    try:
        period.full_clean()
    except ValidationError as exc:  # e.g. created by another HR a moment ago
        raise AppraisalError("；".join(exc.messages)) from exc
    period._history_user = actor
    period.save()
    return period


def _line(period: Period, case: dict, points: Decimal, corrects: Period | None = None) -> Line:
    return Line(
        period=period,
        employee_id=case["employee_id"],
        case_id=case["pk"],
        clause=case["rule__code"],
        rule_title=case["rule__title_zh"],
        sanction=case["sanction"],
        occurred_on=case["occurred_at"].astimezone(TZ).date(),
        points=points,
        is_joint=case["joint_of_id"] is not None,
        corrects=corrects,
    )


def _adjustments(period: Period) -> list[Line]:
    """Corrections of locked periods whose first not-locked successor is ``period``."""
    later_open = list(
        Period.objects.exclude(state=Period.State.LOCKED)
        .order_by("starts_on")
        .values_list("pk", "starts_on")
    )
    lines: list[Line] = []
    for locked in Period.objects.filter(state=Period.State.LOCKED, ends_on__lt=period.starts_on):
        successor = next((pk for pk, starts in later_open if starts > locked.ends_on), None)
        if successor != period.pk:
            continue
        for case, delta in corrections_of(locked):
            lines.append(_line(period, case, delta, corrects=locked))
    return lines


def _grade(score: Decimal, bands: list[tuple[Decimal, str]]) -> str:
    return next((grade for minimum, grade in bands if score >= minimum), "")


@transaction.atomic
def period_compute(*, period: Period, actor=None) -> ComputeSummary:
    """Compute ``period`` (see the module docstring for what it guarantees)."""
    if actor is not None and not actor.has_perm("appraisal.compute_period"):
        raise AppraisalError(ERROR_NOT_HR)
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.state == Period.State.LOCKED:
        raise AppraisalError(ERROR_LOCKED.format(code=period.code))

    cases = counting_cases(period.starts_on, period.ends_on)
    lines = [_line(period, case, case["points"]) for case in cases]
    adjustments = _adjustments(period)
    lines += adjustments

    deducted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    warnings: dict[int, int] = defaultdict(int)
    for line in lines:
        deducted[line.employee_id] += line.points
        if line.corrects_id is None and line.sanction in WARNING_SANCTIONS:
            warnings[line.employee_id] += 1
    bands = list(GradeBand.objects.values_list("min_score", "grade"))
    cap = period.deduction_cap
    employees = _appraised_employees(period, with_lines=set(deducted))
    results = []
    for employee_id, department_path in employees:
        # Negative when a correction of a locked period gives back more than this
        # period takes: the net credit is what payroll must see (not clamped).
        total = deducted[employee_id]
        if cap is not None:
            total = min(total, cap)
        final = period.base_score - total
        results.append(
            Result(
                period=period,
                employee_id=employee_id,
                department_path=department_path,
                base_score=period.base_score,
                deducted=total,
                warnings=warnings[employee_id],
                final_score=final,
                grade=_grade(final, bands),
            )
        )
    # Replace, in this one transaction: a failure leaves the previous rows.
    Line.objects.filter(period=period).delete()
    Result.objects.filter(period=period).delete()
    # executemany, not bulk_create: 9.1 s -> 3.9 s for 120,000 rows (docs/performance.md)
    insert_many(Result, results, batch=BATCH)
    insert_many(Line, lines, batch=BATCH)
    period.state = Period.State.COMPUTED
    period.computed_at = timezone.now()
    period.computed_by = actor
    period.save(update_fields=["state", "computed_at", "computed_by"])
    return ComputeSummary(
        period=period.code,
        employees=len(results),
        lines=len(lines) - len(adjustments),
        adjustments=len(adjustments),
        deducted=sum((r.deducted for r in results), ZERO),
    )


def _appraised_employees(period: Period, *, with_lines: set[int]) -> list[tuple[int, str]]:
    """(id, department path) of everyone appraised: the active, those who left during or
    after the period, and anyone with a line (whatever their status)."""
    rows = list(
        Employee.objects.filter(
            Q(status=Employee.Status.ACTIVE) | Q(left_on__gte=period.starts_on)
        ).values_list("pk", "department__path")
    )
    missing = with_lines - {pk for pk, _ in rows}
    if missing:
        rows += Employee.objects.filter(pk__in=missing).values_list("pk", "department__path")
    return rows


@transaction.atomic
def period_lock(*, period: Period, actor=None) -> Period:
    """HR locks a computed period: from now on it never changes."""
    if actor is not None and not actor.has_perm("appraisal.lock_period"):
        raise AppraisalError(ERROR_NOT_HR)
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.state == Period.State.LOCKED:
        raise AppraisalError(ERROR_ALREADY_LOCKED.format(code=period.code))
    if period.state != Period.State.COMPUTED:
        raise AppraisalError(ERROR_NOT_COMPUTED.format(code=period.code))
    period.state = Period.State.LOCKED
    period.locked_at = timezone.now()
    period.locked_by = actor
    period.save(update_fields=["state", "locked_at", "locked_by"])
    return period


@transaction.atomic
def period_change_scoring(*, period: Period, actor, base_score, deduction_cap) -> bool:
    """HR sets a period's base score and deduction cap. The row is locked and read afresh, so
    a lock or a computation that landed meanwhile is never undone (issue 9: the admin saved
    the whole row it had loaded, and a lock came back as 未锁定). A computed period whose
    scoring changes goes back to 未计算: its results no longer match (§7.1). Returns whether
    it did."""
    if not actor.has_perm("appraisal.change_period"):
        raise AppraisalError(ERROR_NOT_HR_CHANGE)
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.state == Period.State.LOCKED:
        raise AppraisalError(ERROR_LOCKED_SCORING.format(code=period.code))
    if (period.base_score, period.deduction_cap) == (base_score, deduction_cap):
        return False
    period.base_score, period.deduction_cap = base_score, deduction_cap
    recompute = period.state == Period.State.COMPUTED
    if recompute:
        period.state = Period.State.OPEN
    period.full_clean()
    period.save(update_fields=["base_score", "deduction_cap", "state"])
    return recompute
