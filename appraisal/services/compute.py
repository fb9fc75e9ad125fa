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

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appraisal.models import GradeBand, Line, Period, Result
from appraisal.selectors import TZ, ZERO, corrections_of, counting_cases
from appraisal.services.periods import check_move, check_permission, lock_row, move
from common.actors import Actor, actor_user
from common.db import delete_many, insert_many
from members.models import Employee
from violations.models import Sanction

# 警告次数: cases whose sanction is a warning or heavier.
WARNING_SANCTIONS = {Sanction.WARNING, Sanction.SERIOUS_WARNING, Sanction.REFER}
BATCH = 2000
COMMENT_COMPUTED = (
    "{employees} 名员工，扣分明细 {lines} 条，调整 {adjustments} 条，扣分合计 {deducted}"
)


class LineRow(NamedTuple):
    """A Line as insert_many writes it (its attnames, in order): a tuple, not a model
    instance — building 120,000 of those was a quarter of the computation."""

    period_id: int
    employee_id: int
    case_id: int
    clause: str
    rule_title: str
    sanction: str
    occurred_on: dt.date
    points: Decimal
    is_joint: bool
    corrects_id: int | None


class ResultRow(NamedTuple):
    """A Result as insert_many writes it (see LineRow)."""

    period_id: int
    employee_id: int
    department_path: str
    base_score: Decimal
    deducted: Decimal
    warnings: int
    final_score: Decimal
    grade: str


@dataclass(frozen=True)
class ComputeSummary:
    period: str
    employees: int
    lines: int
    adjustments: int
    deducted: Decimal


def _line(period: Period, case: dict, points: Decimal, corrects: Period | None = None) -> LineRow:
    return LineRow(
        period.pk,
        case["employee_id"],
        case["pk"],
        case["rule__code"],
        case["rule__title_zh"],
        case["sanction"],
        case["occurred_at"].astimezone(TZ).date(),
        points,
        case["joint_of_id"] is not None,
        corrects.pk if corrects is not None else None,
    )


def _adjustments(period: Period) -> list[LineRow]:
    """Corrections of locked periods whose first not-locked successor is ``period``."""
    later_open = list(
        Period.objects.exclude(state=Period.State.LOCKED)
        .order_by("starts_on")
        .values_list("pk", "starts_on")
    )
    lines: list[LineRow] = []
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
def period_compute(*, period: Period, actor: Actor) -> ComputeSummary:
    """Compute ``period`` (see the module docstring for what it guarantees); the move to
    已计算 goes through periods.move, which records who computed it."""
    check_permission(actor, Period.State.COMPUTED)
    period = lock_row(period)
    check_move(period, Period.State.COMPUTED)  # refused before any work: a locked period

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
    results: list[ResultRow] = []
    for employee_id, department_path in employees:
        # Negative when a correction of a locked period gives back more than this
        # period takes: the net credit is what payroll must see (not clamped).
        total = deducted[employee_id]
        if cap is not None:
            total = min(total, cap)
        final = period.base_score - total
        results.append(
            ResultRow(
                period.pk,
                employee_id,
                department_path,
                period.base_score,
                total,
                warnings[employee_id],
                final,
                _grade(final, bands),
            )
        )
    # Replace, in this one transaction: a failure leaves the previous rows.
    _replace(Result, period, results, ResultRow._fields)
    _replace(Line, period, lines, LineRow._fields)
    summary = ComputeSummary(
        period=period.code,
        employees=len(results),
        lines=len(lines) - len(adjustments),
        adjustments=len(adjustments),
        deducted=sum((r.deducted for r in results), ZERO),
    )
    period.computed_at = timezone.now()
    period.computed_by = actor_user(actor)
    # The periods list shows these: stored with the rows, not counted per view.
    period.result_count = len(results)
    period.line_count = len(lines)
    move(
        period,
        Period.State.COMPUTED,
        actor=actor,
        comment=COMMENT_COMPUTED.format(**vars(summary)),
        fields=("computed_at", "computed_by", "result_count", "line_count"),
    )
    return summary


def _replace(
    model: type[Line] | type[Result],
    period: Period,
    rows: list[LineRow] | list[ResultRow],
    fields: tuple[str, ...],
) -> None:
    """Make ``period``'s rows of ``model`` exactly ``rows``: delete the stored rows that
    are not among them, insert those not stored. A recomputation changes few rows, and
    rewriting all of them cost more than the computation: on PostgreSQL each inserted
    row also costs its foreign-key checks at COMMIT (docs/performance.md)."""
    # Stored rows as tuples of the same fields, to compare with the new ones as they are
    # (Decimal("3.50") == Decimal("3.5"), and both hash alike).
    stored = {
        values[:-1]: values[-1]
        for values in model.objects.filter(period=period)
        .values_list(*fields, "pk")
        .iterator(chunk_size=BATCH * 5)
    }
    wanted = set(rows)
    delete_many(model, [pk for row, pk in stored.items() if row not in wanted])
    # Not bulk_create: on SQLite executemany (9.1 s -> 3.9 s for 120,000 rows), on
    # PostgreSQL one COPY (docs/performance.md, "Appraisal export").
    insert_many(model, [row for row in rows if row not in stored], fields=fields, batch=BATCH)


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
