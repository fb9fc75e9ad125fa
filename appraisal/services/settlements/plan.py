"""Finance's settlement sheet checked row by row against the period: the plan, which writes
nothing. ``apply.py`` writes a plan without errors; the admin's preview shows one."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from appraisal.models import Period, Result, Settlement, SettlementImport
from appraisal.services.settlements.cells import (
    MSG_NOT_A_NUMBER,
    MSG_REQUIRED,
    parse_amount,
    parse_number,
    parse_period_code,
    sheet_text,
    show_amount,
)
from common.exceptions import CellError
from common.spreadsheets.cells import Cell, cell_text
from common.spreadsheets.headers import map_headers
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import Table
from members.models import Employee

# Canonical column -> its headers, the Chinese one first (it names the column in messages).
# Compared ignoring case, spaces, "_", "-" and full-width forms (common.spreadsheets).
COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_no": ("工号", "员工编号", "No.", "emp_no", "employee_id", "staff_no"),
    "period": ("考核期间", "period_code"),
    "deducted": ("扣分合计", "total_deducted", "deducted_points"),
    "amount": ("扣款金额", "扣款金额（元）", "扣款金额(元)", "deduction_amount", "pay_deduction"),
    "note": ("备注", "remark", "remarks"),
    # The rest of the 汇总 sheet: for the reader, read and ignored.
    "name": ("姓名", "employee_name"),
    "department": ("部门", "dept"),
    "base_score": ("基础分",),
    "warnings": ("警告次数",),
    "final_score": ("最终得分", "score"),
    "grade": ("等级",),
}
REQUIRED_COLUMNS = ("employee_no", "deducted", "amount")
HEADER = {name: aliases[0] for name, aliases in COLUMNS.items()}

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"

ERROR_NOT_LOCKED = "考核期间 {code} 尚未锁定：财务扣款表只能导入已锁定的考核期间。"
# A row's errors: "第{row}行「{column}」" followed by one of the MSG_* below or of cells.py.
LOCATED_ERROR = "第{row}行「{column}」{message}"
MSG_DEDUCTED_MISMATCH = "与系统不符：文件 {file}，系统 {system}"
MSG_UNKNOWN_EMPLOYEE = "“{employee_no}”不是系统中的工号"
MSG_NO_RESULT = "“{employee_no}”（{name}）在 {period} 没有考核结果"
MSG_DUPLICATE = "“{employee_no}”与第{first_row}行重复：一个工号只能出现一次"
MSG_PERIOD_BLANK = "不能为空：应为 {period}（导入时选择的考核期间）"
MSG_WRONG_PERIOD = "应为 {period}（导入时选择的考核期间），文件中是“{value}”"
MSG_NOTE_TOO_LONG = "最多 {limit} 个字，这里有 {length} 个"

SUMMARY = "{period}：新增 {new} / 更新 {updated} / 未变 {unchanged}"

NOTE_LIMIT = cast(int, Settlement._meta.get_field("note").max_length)  # a CharField: set


@dataclass
class PlannedRow:
    """One data row of the sheet: its errors, or the change it makes."""

    number: int  # the row number Excel shows
    employee_no: str
    name: str = ""
    errors: tuple[tuple[str, str], ...] = ()  # (column header, message), one per column
    change: str = ""  # NEW, UPDATED or UNCHANGED when there is no error
    # The settlement updated (new amount and note set) or kept; for a NEW row, made by
    # instance() only when asked: a dry run of the service needs no model instance per row.
    settlement: Settlement | None = None
    old_amount: Decimal | None = None
    old_note: str = ""
    amount: Decimal | None = None  # the row's 扣款金额 and 备注, when it has no error
    note: str = ""
    employee_id: int | None = None
    period: Period | None = None

    def error_lines(self) -> list[str]:
        return [
            LOCATED_ERROR.format(row=self.number, column=column, message=message)
            for column, message in self.errors
        ]

    def instance(self) -> Settlement:
        """The settlement this row writes or keeps (a row without errors)."""
        if self.settlement is None:
            if self.change != NEW or self.employee_id is None or self.amount is None:
                raise RuntimeError("PlannedRow.instance() of a row with errors")
            self.settlement = Settlement(
                period=self.period, employee_id=self.employee_id, amount=self.amount, note=self.note
            )
        return self.settlement


@dataclass(frozen=True)
class SettlementChange:
    """A row that creates or changes a settlement, as a dry run reports it."""

    row: int
    employee_no: str
    name: str
    change: str  # NEW or UPDATED
    amount: Decimal
    note: str
    old_amount: Decimal | None = None
    old_note: str = ""

    def __str__(self) -> str:
        who = f"第{self.row}行 {self.employee_no} {self.name}"
        if self.change == NEW:
            return f"{who}：新增 扣款金额 {self.amount:.2f}" + (
                f"，备注“{self.note}”" if self.note else ""
            )
        parts = []
        if self.old_amount != self.amount:
            parts.append(f"扣款金额 {self.old_amount:.2f} → {self.amount:.2f}")
        if self.old_note != self.note:
            parts.append(f"备注“{self.old_note}” → “{self.note}”")
        return f"{who}：更新 " + "，".join(parts)


@dataclass(frozen=True)
class SettlementReport:
    """What an import did (or, for a dry run, would do); ``errors`` empty when it succeeded."""

    period: str
    dry_run: bool
    errors: tuple[str, ...] = ()
    changes: tuple[SettlementChange, ...] = ()  # new and updated rows, in row order
    unchanged: int = 0
    settlement_import: SettlementImport | None = None  # the audit row of a committed import

    @property
    def new(self) -> int:
        return sum(change.change == NEW for change in self.changes)

    @property
    def updated(self) -> int:
        return sum(change.change == UPDATED for change in self.changes)

    @property
    def summary(self) -> str:
        return SUMMARY.format(
            period=self.period, new=self.new, updated=self.updated, unchanged=self.unchanged
        )


@dataclass
class SettlementPlan:
    period: Period
    file_errors: list[str] = field(default_factory=list)  # nothing row by row was checked
    rows: list[PlannedRow] = field(default_factory=list)  # one per data row, in file order
    columns: dict[str, int] = field(default_factory=dict)  # canonical column -> file column

    @property
    def errors(self) -> list[str]:
        """Every error, the file's first, then row by row (columns in the sheet's order)."""
        return self.file_errors + [line for row in self.rows for line in row.error_lines()]

    def count(self, change: str) -> int:
        return sum(row.change == change for row in self.rows)

    def report(
        self, *, dry_run: bool, settlement_import: SettlementImport | None = None
    ) -> SettlementReport:
        errors = self.errors
        if errors:
            return SettlementReport(period=self.period.code, dry_run=dry_run, errors=tuple(errors))
        changes = tuple(
            SettlementChange(
                row=row.number,
                employee_no=row.employee_no,
                name=row.name,
                change=row.change,
                amount=row.amount,
                note=row.note,
                old_amount=row.old_amount,
                old_note=row.old_note,
            )
            for row in self.rows
            if (row.change == NEW or row.change == UPDATED) and row.amount is not None
        )
        return SettlementReport(
            period=self.period.code,
            dry_run=dry_run,
            changes=changes,
            unchanged=self.count(UNCHANGED),
            settlement_import=settlement_import,
        )


def period_error(period: Period) -> str | None:
    if period.state != Period.State.LOCKED:
        return ERROR_NOT_LOCKED.format(code=period.code)
    return None


def settlement_plan(*, period: Period, table: Table) -> SettlementPlan:
    """Check every row of ``table`` against ``period`` and work out what each would change.

    Reads nothing row by row: two queries (three when the file names someone the period has
    no result for), whatever the number of rows. Writes nothing.
    """
    if error := period_error(period):
        return SettlementPlan(period=period, file_errors=[error])
    try:
        columns = map_headers(table.headers, COLUMNS, required=REQUIRED_COLUMNS)
    except SpreadsheetError as error:
        return SettlementPlan(period=period, file_errors=[str(error)])
    at_no, at_deducted, at_amount = (columns[name] for name in REQUIRED_COLUMNS)
    at_note, at_period = columns.get("note"), columns.get("period")

    numbers = [sheet_text(row.values[at_no]) for row in table.rows]
    results, settlements, known = _read_period(period, numbers)

    plan = SettlementPlan(period=period, columns=columns)
    first_row: dict[str, int] = {}
    # A sheet repeats a few amounts and point totals thousands of times: each distinct
    # cell is parsed once (keyed by its type too: 1, 1.0 and True are equal keys).
    amounts: dict[tuple[type, Cell], tuple[Decimal | None, str | None]] = {}
    deducted_cells: dict[tuple[type, Cell], Decimal | str | None] = {}
    for row, employee_no in zip(table.rows, numbers, strict=True):
        values = row.values
        employee_error = _employee_no_error(
            employee_no, row.number, first_row, results, known, period
        )
        result = results.get(employee_no) if not employee_error else None
        amount_cell = values[at_amount]
        key = (type(amount_cell), amount_cell)
        if (parsed := amounts.get(key)) is None:
            parsed = amounts[key] = _amount(amount_cell)
        amount, amount_error = parsed
        note = "" if at_note is None else sheet_text(values[at_note])
        deducted_cell = values[at_deducted]
        key = (type(deducted_cell), deducted_cell)
        if key not in deducted_cells:
            deducted_cells[key] = _deducted(deducted_cell)
        # At most one error per column, 工号 first (the order the report has always had).
        checks = (
            ("employee_no", employee_error),
            # 考核期间, when the sheet has the column: it must be the period chosen.
            ("period", at_period is not None and _period_cell_error(values[at_period], period)),
            # 扣分合计: the sheet must be this period's, as computed now.
            ("deducted", _deducted_error(deducted_cells[key], result and result[2])),
            ("amount", amount_error),
            ("note", _note_error(note)),
        )
        errors = tuple((HEADER[name], message) for name, message in checks if message)
        planned = PlannedRow(number=row.number, employee_no=employee_no, errors=errors)
        plan.rows.append(planned)
        if errors or result is None or amount is None:
            continue
        employee_id, planned.name, _ = result
        _plan_change(planned, settlements.get(employee_id), period, employee_id, amount, note)
    return plan


def _read_period(
    period: Period, numbers: list[str]
) -> tuple[dict[str, tuple[int, str, Decimal]], dict[int, Settlement], dict[str, str]]:
    """The period's results by 工号, its settlements by employee, and the names of the
    employees the file names who have no result (for the message): two or three queries."""
    results = {
        employee_no: (employee_id, name, deducted)
        for employee_no, employee_id, name, deducted in Result.objects.filter(
            period=period
        ).values_list("employee__employee_no", "employee_id", "employee__name", "deducted")
    }
    settlements = {s.employee_id: s for s in Settlement.objects.filter(period=period)}
    strangers = set(numbers) - results.keys() - {""}
    known = (
        dict(Employee.objects.filter(employee_no__in=strangers).values_list("employee_no", "name"))
        if strangers
        else {}
    )
    return results, settlements, known


def _employee_no_error(
    employee_no: str,
    number: int,
    first_row: dict[str, int],
    results: dict[str, tuple[int, str, Decimal]],
    known: dict[str, str],
    period: Period,
) -> str | None:
    """What is wrong with a row's 工号, if anything; records the first row of each 工号."""
    if not employee_no:
        return MSG_REQUIRED
    if employee_no in first_row:
        return MSG_DUPLICATE.format(employee_no=employee_no, first_row=first_row[employee_no])
    first_row[employee_no] = number
    if employee_no in results:
        return None
    if employee_no in known:
        return MSG_NO_RESULT.format(
            employee_no=employee_no, name=known[employee_no], period=period.code
        )
    return MSG_UNKNOWN_EMPLOYEE.format(employee_no=employee_no)


def _amount(value: Cell) -> tuple[Decimal | None, str | None]:
    """扣款金额 and no error, or no amount and the error."""
    try:
        return parse_amount(value), None
    except CellError as error:
        return None, str(error)


def _note_error(note: str) -> str | None:
    if len(note) > NOTE_LIMIT:
        return MSG_NOTE_TOO_LONG.format(limit=NOTE_LIMIT, length=len(note))
    return None


def _period_cell_error(value: Cell, period: Period) -> str | None:
    code = parse_period_code(value)
    if not code:
        return MSG_PERIOD_BLANK.format(period=period.code)
    if code.casefold() != period.code.casefold():
        return MSG_WRONG_PERIOD.format(period=period.code, value=cell_text(value))
    return None


def _deducted(value: Cell) -> Decimal | str | None:
    """扣分合计 as a number (None if blank), or the message when it is not one."""
    try:
        return parse_number(value)
    except CellError:
        return MSG_NOT_A_NUMBER.format(value=cell_text(value))


def _deducted_error(deducted: Decimal | str | None, system: Decimal | None) -> str | None:
    """扣分合计 must be a number equal to the system's (when the row's 工号 has a result)."""
    if isinstance(deducted, str):
        return deducted
    if deducted is None:
        return MSG_REQUIRED
    if system is not None and deducted != system:
        return MSG_DEDUCTED_MISMATCH.format(file=show_amount(deducted), system=show_amount(system))
    return None


def _plan_change(
    planned: PlannedRow,
    settlement: Settlement | None,
    period: Period,
    employee_id: int,
    amount: Decimal,
    note: str,
) -> None:
    """A valid row's change: a new settlement, an updated one, or the one kept unchanged."""
    planned.amount, planned.note, planned.employee_id = amount, note, employee_id
    if settlement is None:
        planned.change, planned.period = NEW, period  # its Settlement made when asked
        return
    settlement.period = period  # cached, so that str(settlement) needs no query
    planned.settlement = settlement
    if settlement.amount == amount and settlement.note == note:
        planned.change = UNCHANGED
        return
    planned.change = UPDATED
    planned.old_amount, planned.old_note = settlement.amount, settlement.note
    settlement.amount, settlement.note = amount, note
