"""The fairness report of a period (§7.1): is the system applied evenly?

HR is asked to show that the rules weigh alike on every department and that no decider is
harsher than the others. ``fairness_report(period)`` reads, for the cases that happened in
the period (local dates, as the computation counts them: appraisal.selectors.counting_cases):

- per department: the people appraised, the cases that count and their points, points per
  person, the cases overturned on appeal;
- per rule: the cases that count and their points, the proposals dismissed, the cases
  overturned on appeal;
- per decider (the HR clerk who confirmed the case, ``Case.confirmed_by``): the cases
  confirmed and the points fixed at confirmation (overturned ones included: that was the
  decision), their average, how many with points changed from the rule's (调整扣分), the
  proposals the clerk dismissed, the cases appealed, the cases overturned on appeal and
  their share of the cases confirmed (撤销率).

Definitions, once (docs/hr-guide-reports.md explains them to HR):

- a case *counts* in the states of ``Case.COUNTING_STATES`` (confirmed, under appeal,
  upheld), with the points fixed on it at confirmation — what the period's computation
  deducts, joint-liability cases (§9.8, §9.12) included; so a department's points add up to
  its people's deductions before any adjustment of an earlier locked period;
- a case's department is the one its employee's result of this period was computed with
  (``Result.department_path``: a locked period keeps its org chart), or, for an employee
  without a result (the period not computed yet), the employee's department now;
- a joint-liability case is no decision of its own (it follows the offender's case,
  §9.8): it counts for its department and rule, never for a decider;
- a dismissal's decider is whoever moved the case to 已驳回 (its CaseTransition).

Plain dataclasses, no model instances; seven queries whatever the size of the period (every
figure aggregated by the database).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import IO

import openpyxl
from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.formats import date_format

from appraisal.models import Period, Result
from appraisal.selectors import local_range
from common.people import person_label
from common.spreadsheets.sheets import PERCENT_FORMAT, POINTS_FORMAT, Column, write_sheet
from violations.models import Case, CaseTransition

State = Case.State
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
COUNTING = Q(state__in=Case.COUNTING_STATES)
OVERTURNED = Q(state=State.OVERTURNED)
APPEALED = Q(state__in=(State.APPEALED, State.UPHELD, State.OVERTURNED))
JOINT = Q(joint_of__isnull=False)


def _cents(value) -> Decimal:
    """A sum to two decimals (SQLite sums decimals in floating point); none is zero."""
    return ZERO if value is None else Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole`` to four decimals (12.5 % is 0.1250); None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class DepartmentRow:
    department: str
    people: int | None  # appraised in the period (its results); None before it is computed
    cases: int  # cases that count, joint liability included
    joint: int  # of which joint liability (§9.8, §9.12)
    points: Decimal  # the points of the cases that count
    overturned: int  # cases overturned on appeal

    @property
    def points_per_person(self) -> Decimal | None:
        if not self.people:
            return None
        return (self.points / self.people).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class RuleRow:
    code: str
    title: str
    cases: int  # cases that count, joint liability included
    joint: int
    points: Decimal
    dismissed: int  # proposals dismissed
    overturned: int


@dataclass(frozen=True)
class DeciderRow:
    decider: str  # 姓名（工号）, or the login's name
    user_id: int
    confirmed: int  # cases the decider confirmed (joint liability not counted: no decision)
    points: Decimal  # the points fixed at those confirmations, overturned cases included
    overridden: int  # of which with points changed from the rule's (a reason given)
    dismissed: int  # proposals the decider dismissed
    appealed: int  # confirmed cases appealed, whatever the outcome
    overturned: int  # confirmed cases overturned on appeal

    @property
    def average_points(self) -> Decimal | None:
        if not self.confirmed:
            return None
        return (self.points / self.confirmed).quantize(CENT, ROUND_HALF_UP)

    @property
    def overturn_rate(self) -> Decimal | None:
        """Overturned on appeal, as a share of the cases confirmed (0.3333: one in three)."""
        return _ratio(self.overturned, self.confirmed)

    @property
    def overturn_rate_text(self) -> str:
        """The rate as people read it: 33.3%, or — with nothing confirmed."""
        rate = self.overturn_rate
        return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class FairnessReport:
    period: str
    period_state: str  # Period.State: only a locked period's figures are final
    starts_on: dt.date
    ends_on: dt.date
    cases: int  # every case that happened in the period, whatever its state
    proposed: int  # waiting for HR's decision
    in_appeal: int  # appealed, not yet decided
    counting: int
    points: Decimal
    dismissed: int
    overturned: int
    departments: list[DepartmentRow]
    rules: list[RuleRow]
    deciders: list[DeciderRow]

    @property
    def final(self) -> bool:
        return self.period_state == Period.State.LOCKED


def _cases_of(period: Period) -> QuerySet[Case]:
    start, end = local_range(period.starts_on, period.ends_on)
    return Case.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by()


def _department_rows(period: Period, cases: QuerySet[Case]) -> list[DepartmentRow]:
    computed_with = Subquery(
        Result.objects.filter(period=period, employee=OuterRef("employee"))
        .order_by()
        .values("department_path")[:1]
    )
    tallies = (
        cases.filter(COUNTING | OVERTURNED)
        .annotate(department=Coalesce(computed_with, F("employee__department__path")))
        .values("department")
        .annotate(
            cases=Count("pk", filter=COUNTING),
            joint=Count("pk", filter=COUNTING & JOINT),
            points=Sum("points", filter=COUNTING),
            overturned=Count("pk", filter=OVERTURNED),
        )
    )
    by_department = {row["department"]: row for row in tallies}
    people = dict(
        Result.objects.filter(period=period)
        .order_by()
        .values("department_path")
        .annotate(n=Count("pk"))
        .values_list("department_path", "n")
    )
    rows = []
    for department in sorted(set(by_department) | set(people)):
        tally = by_department.get(department, {})
        rows.append(
            DepartmentRow(
                department=department,
                people=people.get(department) if people else None,
                cases=tally.get("cases", 0),
                joint=tally.get("joint", 0),
                points=_cents(tally.get("points")),
                overturned=tally.get("overturned", 0),
            )
        )
    return rows


def _rule_rows(cases: QuerySet[Case]) -> list[RuleRow]:
    tallies = (
        cases.filter(COUNTING | OVERTURNED | Q(state=State.DISMISSED))
        .values("rule__sort_key", "rule__code", "rule__title_zh")
        .annotate(
            cases=Count("pk", filter=COUNTING),
            joint=Count("pk", filter=COUNTING & JOINT),
            points=Sum("points", filter=COUNTING),
            dismissed=Count("pk", filter=Q(state=State.DISMISSED)),
            overturned=Count("pk", filter=OVERTURNED),
        )
        .order_by("rule__sort_key", "rule__code")
    )
    return [
        RuleRow(
            code=row["rule__code"],
            title=row["rule__title_zh"],
            cases=row["cases"],
            joint=row["joint"],
            points=_cents(row["points"]),
            dismissed=row["dismissed"],
            overturned=row["overturned"],
        )
        for row in tallies
    ]


def _decider_rows(cases: QuerySet[Case]) -> list[DeciderRow]:
    confirmations = {
        row["confirmed_by"]: row
        for row in cases.filter(confirmed_by__isnull=False, joint_of__isnull=True)
        .values("confirmed_by")
        .annotate(
            confirmed=Count("pk"),
            points=Sum("points"),
            overridden=Count("pk", filter=~Q(override_reason="")),
            appealed=Count("pk", filter=APPEALED),
            overturned=Count("pk", filter=OVERTURNED),
        )
    }
    dismissals = dict(
        CaseTransition.objects.filter(
            to_state=State.DISMISSED, actor__isnull=False, case__in=cases.values("pk")
        )
        .order_by()
        .values("actor")
        .annotate(n=Count("case", distinct=True))
        .values_list("actor", "n")
    )
    deciders = set(confirmations) | set(dismissals)
    users = get_user_model().objects.filter(pk__in=deciders).select_related("employee")
    labels = {user.pk: person_label(user) for user in users}
    rows = []
    for user_id in deciders:
        tally = confirmations.get(user_id, {})
        rows.append(
            DeciderRow(
                decider=labels[user_id],
                user_id=user_id,
                confirmed=tally.get("confirmed", 0),
                points=_cents(tally.get("points")),
                overridden=tally.get("overridden", 0),
                dismissed=dismissals.get(user_id, 0),
                appealed=tally.get("appealed", 0),
                overturned=tally.get("overturned", 0),
            )
        )
    return sorted(rows, key=lambda row: (row.decider, row.user_id))


def fairness_report(period: Period) -> FairnessReport:
    """The fairness report of ``period`` (see the module docstring for every figure)."""
    cases = _cases_of(period)
    by_state: dict[str, int] = defaultdict(int)
    points = ZERO
    for state, n, state_points in (
        cases.values("state")
        .annotate(n=Count("pk"), p=Sum("points"))
        .values_list("state", "n", "p")
    ):
        by_state[state] = n
        if state in Case.COUNTING_STATES:
            points += _cents(state_points)
    return FairnessReport(
        period=period.code,
        period_state=period.state,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        cases=sum(by_state.values()),
        proposed=by_state[State.PROPOSED],
        in_appeal=by_state[State.APPEALED],
        counting=sum(by_state[state] for state in Case.COUNTING_STATES),
        points=points,
        dismissed=by_state[State.DISMISSED],
        overturned=by_state[State.OVERTURNED],
        departments=_department_rows(period, cases),
        rules=_rule_rows(cases),
        deciders=_decider_rows(cases),
    )


# -- the workbook: the same figures, one sheet per table -------------------------------------

SUMMARY_COLUMNS = (Column("项目", 24), Column("数值", 14))
DEPARTMENT_COLUMNS = (
    Column("部门", 28),
    Column("考核人数", 10),
    Column("计分案件", 10),
    Column("其中连带责任", 12),
    Column("扣分合计", 10, POINTS_FORMAT),
    Column("人均扣分", 10, POINTS_FORMAT),
    Column("申诉撤销", 10),
)
RULE_COLUMNS = (
    Column("条款", 9),
    Column("条款名称", 32),
    Column("计分案件", 10),
    Column("其中连带责任", 12),
    Column("扣分合计", 10, POINTS_FORMAT),
    Column("驳回", 8),
    Column("申诉撤销", 10),
)
DECIDER_COLUMNS = (
    Column("确认人", 18),
    Column("确认案件", 10),
    Column("扣分合计", 10, POINTS_FORMAT),
    Column("平均每案扣分", 12, POINTS_FORMAT),
    Column("调整扣分", 10),
    Column("驳回", 8),
    Column("被申诉", 8),
    Column("申诉撤销", 10),
    Column("撤销率", 10, PERCENT_FORMAT),
)


def fairness_filename(report: FairnessReport) -> str:
    """公平性报告-2026-11.xlsx"""
    return f"公平性报告-{report.period}.xlsx"


def summary_rows(report: FairnessReport) -> list[tuple[str, object]]:
    """The report's totals as (label, value), for the page and the workbook alike."""
    return [
        ("考核期间", report.period),
        ("期间状态", Period.State(report.period_state).label),
        ("开始日期", date_format(report.starts_on)),  # as people read it: 2026年11月1日
        ("结束日期", date_format(report.ends_on)),
        ("本期发生的案件", report.cases),
        ("待审核", report.proposed),
        ("申诉中", report.in_appeal),
        ("计分案件", report.counting),
        ("扣分合计", report.points),
        ("驳回", report.dismissed),
        ("申诉撤销", report.overturned),
    ]


def fairness_workbook(report: FairnessReport, out: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write ``report`` as an xlsx workbook to ``out``: 概况, 部门, 条款, 确认人."""
    workbook = openpyxl.Workbook(write_only=True)
    write_sheet(workbook, "概况", SUMMARY_COLUMNS, summary_rows(report))
    write_sheet(
        workbook,
        "部门",
        DEPARTMENT_COLUMNS,
        (
            (r.department, r.people, r.cases, r.joint, r.points, r.points_per_person, r.overturned)
            for r in report.departments
        ),
    )
    write_sheet(
        workbook,
        "条款",
        RULE_COLUMNS,
        (
            (f"§{r.code}", r.title, r.cases, r.joint, r.points, r.dismissed, r.overturned)
            for r in report.rules
        ),
    )
    write_sheet(
        workbook,
        "确认人",
        DECIDER_COLUMNS,
        (
            (
                r.decider,
                r.confirmed,
                r.points,
                r.average_points,
                r.overridden,
                r.dismissed,
                r.appealed,
                r.overturned,
                r.overturn_rate,
            )
            for r in report.deciders
        ),
    )
    workbook.save(out)
