"""Exporting a period: one xlsx workbook for HR and finance.

Sheets, in this order:

- 汇总 — one row per Result, by 工号: the sheet finance fills in and returns (it stays
  first and its header stays row 1, since the settlement import reads the first sheet);
- 明细 — one row per Line, adjustments of locked periods included (调整的期间);
- 部门 — per-department totals of the Results, by the department each was computed with.

What it guarantees:

- Safe to open. Every text cell a spreadsheet could run as a formula (starting with
  ``= + - @``, tab, CR or NUL) gets a leading ``'`` (docs/security.md, 8),
  and every text is written as a string cell — never a formula, never an error value such
  as ``#N/A``, never refused for a control character. Numbers stay numbers (points and
  scores formatted ``0.00``), dates stay dates.
- Flat memory. openpyxl's write-only mode streams each row to a temporary file, and the
  rows come from ``values_list().iterator()``, never as model instances: 100,000 lines
  cost what 1,000 do (bench/appraisal_export.py, docs/performance.md).
- A fixed number of queries (four), whatever the size of the company.

Any state may be exported; only a locked period's figures are final. The sheets are read
one query each and not under one transaction (on SQLite that would hold the write lock for
the whole export), so a recompute of an unlocked period during its export can leave them
out of step: export it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import IO

import openpyxl
from django.db.models import Avg, Count, OuterRef, Subquery, Sum

from appraisal.models import Line, Period, Result
from common.spreadsheets.sheets import Column, write_sheet, xlsx_text
from violations.models import Sanction

SUMMARY_SHEET = "汇总"
LINES_SHEET = "明细"
DEPARTMENTS_SHEET = "部门"
CHUNK_SIZE = 2000
SCORE_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
CENT = Decimal("0.01")
YES, NO = "是", "否"
SANCTION_LABELS = {value: str(label) for value, label in Sanction.choices}


SUMMARY_COLUMNS = (
    Column("工号", 12),
    Column("姓名", 12),
    Column("部门", 24),
    Column("扣分合计", 10, SCORE_FORMAT),
    Column("警告次数", 10),
    Column("最终得分", 10, SCORE_FORMAT),
)
GRADE_COLUMN = Column("等级", 8)  # only when some result has a grade
LINE_COLUMNS = (
    Column("工号", 12),
    Column("姓名", 12),
    Column("部门", 24),
    Column("案件编号", 10),
    Column("条款", 9),
    Column("条款名称", 32),
    Column("处分", 10),
    Column("发生日期", 12, DATE_FORMAT),
    Column("扣分", 9, SCORE_FORMAT),
    Column("连带责任", 10),
    Column("调整的期间", 12),
)
DEPARTMENT_COLUMNS = (
    Column("部门", 28),
    Column("人数", 8),
    Column("扣分合计", 10, SCORE_FORMAT),
    Column("警告次数", 10),
    Column("平均得分", 10, SCORE_FORMAT),
)


@dataclass(frozen=True)
class ExportSummary:
    period: str
    state: str  # Period.State
    results: int  # rows of 汇总
    lines: int  # rows of 明细
    departments: int  # rows of 部门

    @property
    def locked(self) -> bool:
        return self.state == Period.State.LOCKED


def period_workbook_filename(period: Period) -> str:
    """What a download of ``period_workbook`` is called: 考核结果-2026-11.xlsx."""
    return f"考核结果-{period.code}.xlsx"


def period_workbook_rows(period: Period) -> int:
    """How many rows the workbook has (汇总 + 明细), from the counts the period stores: what
    decides whether the admin exports it in the request or as a background job."""
    return period.result_count + period.line_count


def period_workbook(
    period: Period,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write ``period`` as an xlsx workbook to ``out`` (a path or a binary file; see the
    module docstring for the sheets and what is guaranteed). Four queries; with
    ``progress``, also ``progress(percent)`` every CHUNK_SIZE rows (a background job's
    progress bar, jobs.runners), up to 95 before the file is saved."""
    with_grade = Result.objects.filter(period=period).exclude(grade="").exists()
    workbook = openpyxl.Workbook(write_only=True)
    summary_columns = (*SUMMARY_COLUMNS, GRADE_COLUMN) if with_grade else SUMMARY_COLUMNS
    counted = _Counter(period_workbook_rows(period), progress)
    results = write_sheet(
        workbook,
        SUMMARY_SHEET,
        summary_columns,
        counted(_summary_rows(period, with_grade)),
        ready=True,
    )
    lines = write_sheet(
        workbook, LINES_SHEET, LINE_COLUMNS, counted(_line_rows(period)), ready=True
    )
    departments = write_sheet(
        workbook, DEPARTMENTS_SHEET, DEPARTMENT_COLUMNS, _department_rows(period), ready=True
    )
    workbook.save(out)
    return ExportSummary(period.code, period.state, results, lines, departments)


class _Counter:
    """Passes rows through, telling ``progress`` the share of ``total`` written so far."""

    def __init__(self, total: int, progress: Callable[[int], None] | None) -> None:
        self.total, self.progress, self.done = max(total, 1), progress, 0

    def __call__(self, rows: Iterator[list]) -> Iterator[list]:
        if self.progress is None:
            yield from rows
            return
        for row in rows:
            self.done += 1
            if self.done % CHUNK_SIZE == 0:
                self.progress(min(95, 95 * self.done // self.total))
            yield row


# -- rows: plain values from values_list(), text through xlsx_text() ------------------------------


def _summary_rows(period: Period, with_grade: bool) -> Iterator[list]:
    fields = ["employee__employee_no", "employee__name", "department_path"]
    fields += ["deducted", "warnings", "final_score"] + (["grade"] if with_grade else [])
    rows = (
        Result.objects.filter(period=period)
        .order_by("employee__employee_no")
        .values_list(*fields)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for employee_no, name, department, deducted, warnings, final_score, *grade in rows:
        yield [
            xlsx_text(employee_no),
            xlsx_text(name),
            xlsx_text(department),
            deducted,
            warnings,
            final_score,
            *map(xlsx_text, grade),
        ]


def _line_rows(period: Period) -> Iterator[list]:
    # The department the employee's result was computed with, as on 汇总: a locked period
    # keeps the org chart it was computed on. Unique per (period, employee): one index probe.
    department = Subquery(
        Result.objects.filter(period=period, employee=OuterRef("employee"))
        .order_by()
        .values("department_path")[:1]
    )
    rows = (
        Line.objects.filter(period=period)
        .annotate(department=department)
        .order_by("employee__employee_no", "occurred_on", "case_id", "pk")
        .values_list(
            "employee__employee_no",
            "employee__name",
            "department",
            "case_id",
            "clause",
            "rule_title",
            "sanction",
            "occurred_on",
            "points",
            "is_joint",
            "corrects__code",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for (
        employee_no,
        name,
        department_path,
        case_id,
        clause,
        rule_title,
        sanction,
        occurred_on,
        points,
        is_joint,
        corrects,
    ) in rows:
        yield [
            xlsx_text(employee_no),
            xlsx_text(name),
            xlsx_text(department_path),
            case_id,
            xlsx_text(f"§{clause}"),
            xlsx_text(rule_title),
            SANCTION_LABELS.get(sanction) or xlsx_text(sanction),
            occurred_on,
            points,
            YES if is_joint else NO,
            xlsx_text(corrects),
        ]


def _department_rows(period: Period) -> Iterator[list]:
    rows = (
        Result.objects.filter(period=period)
        .order_by("department_path")
        .values("department_path")
        .annotate(
            people=Count("pk"),
            deducted=Sum("deducted"),
            warnings=Sum("warnings"),
            average=Avg("final_score"),
        )
    )
    for row in rows:
        yield [
            xlsx_text(row["department_path"]),
            row["people"],
            _cents(row["deducted"]),
            row["warnings"],
            _cents(row["average"]),
        ]


def _cents(value: Decimal | float | None) -> Decimal | None:
    """Sums and averages to two decimals (SQLite computes them in floating point)."""
    return None if value is None else Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
