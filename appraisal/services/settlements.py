"""Finance's settlement sheet (§7.1; issue 5, "Finance import"): what payroll deducted.

Finance takes the 汇总 sheet of a locked period, adds 扣款金额 (yuan, to the fen) and 备注 to
each row and sends it back. ``settlement_import()`` reads it, checks every row against the
period's results, and records one Settlement per employee — or, on any error, nothing.

What it guarantees:

- Every error is reported, each naming the spreadsheet row and the column
  ("第5行「扣分合计」与系统不符：文件 3.00，系统 4.50"); a period that is not locked gives one
  message and nothing else is read. The command and the admin (appraisal.resources) build
  their messages here, so they say the same.
- The 扣分合计 of each row must equal the system's: a sheet of another period, or of the period
  before a recomputation, is refused rather than paid out.
- All or nothing, in one transaction; a dry run reports exactly what would change (new,
  updated with the old and new amount, unchanged) and writes nothing.
- The same file twice changes nothing the second time: unchanged settlements are not saved
  (no history row). Every committed import is still kept as a SettlementImport with its file,
  its importer and its counts — the audit trail of what finance sent, even when it repeats.
- A fixed number of queries whatever the file's size: the period's results and settlements are
  read into dicts up front, and the writes are bulk ones that keep simple_history's rows
  (bulk_create/bulk_update alone skip history: PITFALLS.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from appraisal.models import Period, Result, Settlement, SettlementImport
from common.db import update_from_values
from common.spreadsheets import (
    XLSX_MAGIC,
    Cell,
    SpreadsheetError,
    Table,
    cell_text,
    map_headers,
    read_table,
    unescape_formula,
)
from members.models import Employee

PERMISSION = "appraisal.import_settlement"  # Finance and HR (members.roles)

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

CENT = Decimal("0.01")
ZERO = Decimal("0")
AMOUNT_LIMIT = Decimal("100000000")  # Settlement.amount: 10 digits, 2 of them decimals
BATCH = 1000  # rows per bulk statement (bulk_update's CASE grows with the batch)

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"

ERROR_NOT_ALLOWED = "没有导入财务扣款表的权限（需要“可以导入财务扣款表”，财务部和人力资源部有）。"
ERROR_NOT_LOCKED = "考核期间 {code} 尚未锁定：财务扣款表只能导入已锁定的考核期间。"
# A row's errors: "第{row}行「{column}」" followed by one of the MSG_* below.
LOCATED_ERROR = "第{row}行「{column}」{message}"
MSG_REQUIRED = "不能为空"
MSG_NOT_A_NUMBER = "应是数字，“{value}”不是"
MSG_NEGATIVE = "不能为负数：{value}"
MSG_TOO_MANY_DECIMALS = "最多两位小数（精确到分）：{value}"
MSG_TOO_LARGE = "超出上限 99999999.99：{value}"
MSG_DEDUCTED_MISMATCH = "与系统不符：文件 {file}，系统 {system}"
MSG_UNKNOWN_EMPLOYEE = "“{employee_no}”不是系统中的工号"
MSG_NO_RESULT = "“{employee_no}”（{name}）在 {period} 没有考核结果"
MSG_DUPLICATE = "“{employee_no}”与第{first_row}行重复：一个工号只能出现一次"
MSG_PERIOD_BLANK = "不能为空：应为 {period}（导入时选择的考核期间）"
MSG_WRONG_PERIOD = "应为 {period}（导入时选择的考核期间），文件中是“{value}”"
MSG_NOTE_TOO_LONG = "最多 {limit} 个字，这里有 {length} 个"

SUMMARY = "{period}：新增 {new} / 更新 {updated} / 未变 {unchanged}"
CHANGE_REASON = "财务扣款表导入 #{pk}"

NOTE_LIMIT = Settlement._meta.get_field("note").max_length
FILE_NAME_LIMIT = SettlementImport._meta.get_field("file_name").max_length

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")  # 1,234.50 as Excel shows money
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")  # 2026-11, 2026/11, 2026年11月
_QUARTER = re.compile(r"(\d{4})\s*-?\s*[Qq]([1-4])")  # 2026-Q4, 2026Q4


# ------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------
def _number(value: Cell) -> Decimal | None:
    """A number cell as a Decimal (None if blank); ValueError if it is not a number.

    Excel keeps 15 significant digits: a float is read as Excel shows it (0.1+0.2 is 0.3).
    Text may carry ¥, 元 and thousands separators, as money copied from a sheet does.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool | date):
        raise ValueError(cell_text(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(cell_text(value))
        return Decimal(format(value, ".15g"))
    text = cell_text(value)
    bare = text.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if _GROUPED.fullmatch(bare):
        bare = bare.replace(",", "")
    if not _NUMBER.fullmatch(bare):
        raise ValueError(text)
    return Decimal(bare)


def _show(number: Decimal) -> str:
    """3 -> '3.00'; a value with more decimals (or too long to round) is shown as written."""
    try:
        return f"{number:.2f}" if number == number.quantize(CENT) else format(number, "f")
    except InvalidOperation:
        return format(number, "f")


def parse_amount(value: Cell) -> Decimal:
    """扣款金额: yuan, not negative, to the fen; ValueError with the message otherwise."""
    try:
        amount = _number(value)
    except ValueError as error:
        raise ValueError(MSG_NOT_A_NUMBER.format(value=error)) from None
    if amount is None:
        raise ValueError(MSG_REQUIRED)
    if amount < ZERO:
        raise ValueError(MSG_NEGATIVE.format(value=cell_text(value)))
    if amount >= AMOUNT_LIMIT:
        raise ValueError(MSG_TOO_LARGE.format(value=cell_text(value)))
    if amount != amount.quantize(CENT):
        raise ValueError(MSG_TOO_MANY_DECIMALS.format(value=cell_text(value)))
    return amount.quantize(CENT) + ZERO  # + 0 turns -0.00 into 0.00


def _text(value: Cell) -> str:
    """Text as our exports write it (a formula-looking text is escaped with ')."""
    return unescape_formula(cell_text(value))


def _period_code(value: Cell) -> str:
    """A 考核期间 cell as a period code: Excel turns a typed 2026-11 into a date."""
    if isinstance(value, date):
        return f"{value.year}-{value.month:02d}"
    text = cell_text(value)
    if match := _MONTH.fullmatch(text):
        return f"{match[1]}-{int(match[2]):02d}"
    if match := _QUARTER.fullmatch(text):
        return f"{match[1]}-Q{match[2]}"
    return text


# ------------------------------------------------------------------------------
# The plan: every row checked, and what it would change
# ------------------------------------------------------------------------------
@dataclass
class PlannedRow:
    """One data row of the sheet: its errors, or the change it makes."""

    number: int  # the row number Excel shows
    employee_no: str
    name: str = ""
    errors: tuple[tuple[str, str], ...] = ()  # (column header, message), one per column
    change: str = ""  # NEW, UPDATED or UNCHANGED when there is no error
    settlement: Settlement | None = None  # what to write (new or updated), or the one kept
    old_amount: Decimal | None = None
    old_note: str = ""

    def error_lines(self) -> list[str]:
        return [
            LOCATED_ERROR.format(row=self.number, column=column, message=message)
            for column, message in self.errors
        ]


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
                amount=row.settlement.amount,
                note=row.settlement.note,
                old_amount=row.old_amount,
                old_note=row.old_note,
            )
            for row in self.rows
            if row.change in (NEW, UPDATED) and row.settlement is not None
        )
        return SettlementReport(
            period=self.period.code,
            dry_run=dry_run,
            changes=changes,
            unchanged=self.count(UNCHANGED),
            settlement_import=settlement_import,
        )


def settlement_check_permission(actor) -> None:
    """Finance or HR (appraisal.import_settlement); ``actor=None`` is the command line."""
    if actor is not None and not actor.has_perm(PERMISSION):
        raise PermissionDenied(ERROR_NOT_ALLOWED)


def _period_error(period: Period) -> str | None:
    if period.state != Period.State.LOCKED:
        return ERROR_NOT_LOCKED.format(code=period.code)
    return None


def settlement_plan(*, period: Period, table: Table) -> SettlementPlan:
    """Check every row of ``table`` against ``period`` and work out what each would change.

    Reads nothing row by row: two queries (three when the file names someone the period has
    no result for), whatever the number of rows. Writes nothing.
    """
    if error := _period_error(period):
        return SettlementPlan(period=period, file_errors=[error])
    try:
        columns = map_headers(table.headers, COLUMNS, required=REQUIRED_COLUMNS)
    except SpreadsheetError as error:
        return SettlementPlan(period=period, file_errors=[str(error)])

    def cell(values: list[Cell], name: str) -> Cell:
        index = columns.get(name)
        return None if index is None else values[index]

    numbers = [_text(cell(row.values, "employee_no")) for row in table.rows]
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

    plan = SettlementPlan(period=period, columns=columns)
    first_row: dict[str, int] = {}
    for row, employee_no in zip(table.rows, numbers, strict=True):
        errors: list[tuple[str, str]] = []
        result = None
        # 工号
        if not employee_no:
            errors.append((HEADER["employee_no"], MSG_REQUIRED))
        elif employee_no in first_row:
            message = MSG_DUPLICATE.format(
                employee_no=employee_no, first_row=first_row[employee_no]
            )
            errors.append((HEADER["employee_no"], message))
        else:
            first_row[employee_no] = row.number
            result = results.get(employee_no)
            if result is None and employee_no in known:
                message = MSG_NO_RESULT.format(
                    employee_no=employee_no, name=known[employee_no], period=period.code
                )
                errors.append((HEADER["employee_no"], message))
            elif result is None:
                errors.append((HEADER["employee_no"], MSG_UNKNOWN_EMPLOYEE.format(employee_no=employee_no)))  # fmt: skip
        # 考核期间, when the sheet has the column: it must be the period chosen.
        if "period" in columns:
            value = cell(row.values, "period")
            code = _period_code(value)
            if not code:
                errors.append((HEADER["period"], MSG_PERIOD_BLANK.format(period=period.code)))
            elif code.casefold() != period.code.casefold():
                message = MSG_WRONG_PERIOD.format(period=period.code, value=cell_text(value))
                errors.append((HEADER["period"], message))
        # 扣分合计: the sheet must be this period's, as computed now.
        value = cell(row.values, "deducted")
        try:
            deducted = _number(value)
        except ValueError:
            errors.append((HEADER["deducted"], MSG_NOT_A_NUMBER.format(value=cell_text(value))))
        else:
            if deducted is None:
                errors.append((HEADER["deducted"], MSG_REQUIRED))
            elif result is not None and deducted != result[2]:
                message = MSG_DEDUCTED_MISMATCH.format(
                    file=_show(deducted), system=_show(result[2])
                )
                errors.append((HEADER["deducted"], message))
        # 扣款金额
        amount = None
        try:
            amount = parse_amount(cell(row.values, "amount"))
        except ValueError as error:
            errors.append((HEADER["amount"], str(error)))
        # 备注
        note = _text(cell(row.values, "note"))
        if len(note) > NOTE_LIMIT:
            message = MSG_NOTE_TOO_LONG.format(limit=NOTE_LIMIT, length=len(note))
            errors.append((HEADER["note"], message))

        planned = PlannedRow(number=row.number, employee_no=employee_no, errors=tuple(errors))
        plan.rows.append(planned)
        if errors or result is None or amount is None:
            continue
        employee_id, planned.name, _ = result
        settlement = settlements.get(employee_id)
        if settlement is None:
            planned.change = NEW
            planned.settlement = Settlement(
                period=period, employee_id=employee_id, amount=amount, note=note
            )
            continue
        settlement.period = period  # cached, so that str(settlement) needs no query
        planned.settlement = settlement
        if settlement.amount == amount and settlement.note == note:
            planned.change = UNCHANGED
            continue
        planned.change = UPDATED
        planned.old_amount, planned.old_note = settlement.amount, settlement.note
        settlement.amount, settlement.note = amount, note
    return plan


# ------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------
def _stored_name(filename: str, data: bytes) -> str:
    """The name the file is kept under: the user's, without any directory, with a suffix."""
    name = PurePath(filename.replace("\\", "/")).name.strip() or "扣款表"
    if not PurePath(name).suffix:
        name += ".xlsx" if data.startswith(XLSX_MAGIC) else ".csv"
    return name


UPDATED_FIELDS = ("amount", "note", "imported_in")


def _write_updates(changed: list[Settlement]) -> None:
    # bulk_update with history: 8.1 s for 20,000 settlements, this 1.6 s (docs/performance.md)
    update_from_values(Settlement, changed, UPDATED_FIELDS, batch=BATCH)


@transaction.atomic
def settlement_apply(
    *, plan: SettlementPlan, actor, data: bytes, filename: str
) -> SettlementImport:
    """Write a plan without errors: the SettlementImport with its file, then the new and
    changed settlements in bulk, with their history (unchanged ones are not touched)."""
    if plan.errors:
        raise ValueError("settlement_apply() needs a plan without errors")
    created = [row.settlement for row in plan.rows if row.change == NEW]
    updated = [row.settlement for row in plan.rows if row.change == UPDATED]
    record = SettlementImport(
        period=plan.period,
        file_name=(filename or _stored_name(filename, data))[:FILE_NAME_LIMIT],
        imported_by=actor,
        rows=len(plan.rows),
        created=len(created),
        updated=len(updated),
        unchanged=plan.count(UNCHANGED),
    )
    # The file reaches storage before the transaction commits; removed again if this fails.
    record.file.save(_stored_name(filename, data), ContentFile(data), save=False)
    try:
        record.save()
        reason = CHANGE_REASON.format(pk=record.pk)
        for settlement in (*created, *updated):
            settlement.imported_in = record
        if created:
            bulk_create_with_history(
                created,
                Settlement,
                batch_size=BATCH,
                default_user=actor,
                default_change_reason=reason,
            )
        if updated:
            _write_updates(updated)
            # What bulk_update_with_history() does after its (slow) bulk_update().
            Settlement.history.bulk_history_create(
                updated,
                batch_size=BATCH,
                update=True,
                default_user=actor,
                default_change_reason=reason,
            )
    except BaseException:
        record.file.delete(save=False)
        raise
    return record


def settlement_import(
    *, period: Period, data: bytes, filename: str, actor, dry_run: bool
) -> SettlementReport:
    """Import finance's sheet (xlsx or CSV bytes) for ``period``: every row, or — on any error
    — none; see the module docstring for what it guarantees.

    Raises PermissionDenied for an ``actor`` without appraisal.import_settlement (None: the
    command line). File and row errors are returned in the report, not raised.
    """
    settlement_check_permission(actor)
    period = Period.objects.get(pk=period.pk)  # its state now, not when the caller read it
    if error := _period_error(period):
        return SettlementReport(period=period.code, dry_run=dry_run, errors=(error,))
    try:
        table = read_table(data, filename=filename)
    except SpreadsheetError as error:
        return SettlementReport(period=period.code, dry_run=dry_run, errors=(str(error),))
    with transaction.atomic():
        # Serialise imports of one period (PostgreSQL; SQLite takes its write lock at BEGIN).
        periods = Period.objects if dry_run else Period.objects.select_for_update()
        period = periods.get(pk=period.pk)
        plan = settlement_plan(period=period, table=table)
        if plan.errors or dry_run:
            return plan.report(dry_run=dry_run)
        record = settlement_apply(plan=plan, actor=actor, data=data, filename=filename)
        return plan.report(dry_run=False, settlement_import=record)
