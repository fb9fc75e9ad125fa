"""Finance's settlement sheet in django-import-export: the admin's import, with its preview.

The rows are checked and planned by appraisal.services.settlements before import-export
touches them (``settlement_plan``), and written by the same service (``settlement_apply``),
so that the admin and ``manage.py import_appraisal`` give the same messages and write the
same rows. What import-export adds is its two-step page: a preview (a dry run) that lists
every row as new / updated (old → new amount) / unchanged, then the confirmation.

No row goes through import-export's import_row (docs/performance.md, "Finance import"):
``import_data_inner`` makes each row's RowResult from the plan — new / updated / unchanged,
the preview's cells, the row's errors — with no model instance per row (one is made only
when a RowResult's ``instance`` is read). All or nothing whatever the caller passes: one
transaction, rolled back on any error, and nothing written unless every row is valid.

Which period: the user picks it (``SettlementImportForm`` and ``SettlementConfirmImportForm``
carry it); the resource takes it from the form import-export hands it, or ``period=``.
"""

from __future__ import annotations

from collections import OrderedDict

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import exceptions, fields, resources
from import_export.forms import ConfirmImportForm
from import_export.results import RowResult
from import_export.utils import atomic_if_using_transaction

from appraisal.exceptions import AppraisalError
from appraisal.models import Period, Settlement, SettlementImport
from appraisal.services import settlements
from common.importing import renumber_rows
from common.spreadsheets.formats import CSVFormat, SpreadsheetImportForm, XLSXFormat
from common.spreadsheets.reading import Row, Table
from common.spreadsheets.writing import write_xlsx
from members.models import Employee

ERROR_NO_PERIOD = "请选择考核期间。"
# §7.1: the import page, instead of an empty list, while no period is locked.
NO_LOCKED_PERIOD = (
    "还没有已锁定的考核期间：人力资源部计算并锁定考核期间后，才能导入该期间的财务扣款表。"
)
PREVIEW_HEADERS = ["工号", "姓名", "扣款金额", "备注"]


# ------------------------------------------------------------------------------
# Formats: the file is kept (SettlementImport.file), so the dataset remembers its bytes
# ------------------------------------------------------------------------------
class _KeepsSource:
    def create_dataset(self, in_stream, **kwargs):
        dataset = super().create_dataset(in_stream, **kwargs)
        dataset.source = in_stream.encode("utf-8") if isinstance(in_stream, str) else bytes(in_stream)  # fmt: skip
        return dataset


class SettlementXLSXFormat(_KeepsSource, XLSXFormat):
    pass


class SettlementCSVFormat(_KeepsSource, CSVFormat):
    pass


SETTLEMENT_FORMATS = [SettlementXLSXFormat, SettlementCSVFormat]


# ------------------------------------------------------------------------------
# Forms: the period, chosen on the import page and carried to the confirmation
# ------------------------------------------------------------------------------
class PeriodChoiceField(forms.ModelChoiceField):
    """Offers the locked periods only (§7.1: finance's pay sheet is for a locked period).
    Another period's id, posted anyway, is still read, so that clean_period() refuses it
    by name (ERROR_NOT_LOCKED) rather than as an unknown choice."""

    def label_from_instance(self, obj: Period) -> str:
        return f"{obj.code}（{obj.get_state_display()}）"

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            period = Period.objects.filter(pk=value).first() if str(value).isdigit() else None
            if period is None:
                raise
            return period


class SettlementImportForm(SpreadsheetImportForm):
    period = PeriodChoiceField(
        label="考核期间",
        queryset=Period.objects.filter(state=Period.State.LOCKED).order_by("-starts_on"),
        help_text="财务扣款表是这个考核期间的汇总表；只能导入已锁定的考核期间。",
    )
    field_order = ["period", "resource", "import_file", "format"]
    no_locked_period = NO_LOCKED_PERIOD  # shown by the import page when the list is empty

    def clean_period(self) -> Period:
        period = self.cleaned_data["period"]
        if period.state != Period.State.LOCKED:
            raise forms.ValidationError(settlements.ERROR_NOT_LOCKED.format(code=period.code))
        return period


class SettlementConfirmImportForm(ConfirmImportForm):
    period = forms.ModelChoiceField(queryset=Period.objects.all(), widget=forms.HiddenInput())


# ------------------------------------------------------------------------------
# The resource
# ------------------------------------------------------------------------------
IMPORT_TYPES = {
    settlements.NEW: RowResult.IMPORT_TYPE_NEW,
    settlements.UPDATED: RowResult.IMPORT_TYPE_UPDATE,
    settlements.UNCHANGED: RowResult.IMPORT_TYPE_SKIP,  # skip_unchanged, report_skipped
}


class SettlementRowResult(RowResult):
    """A row of the preview or of the confirmation, made from its PlannedRow. Its settlement
    (``instance``, asked for by the admin's confirmation: retain_instance_in_row_result) is
    made when read: only the admin's log would read it, and SettlementAdmin keeps none
    (skip_admin_log) — 20,000 model instances and their employees were 0.3 s of CPU."""

    def __init__(self) -> None:
        self.planned: settlements.PlannedRow | None = None
        self.employee_id: int | None = None
        self.imported_in: SettlementImport | None = None  # a new row, once written
        self._instance: Settlement | None = None
        super().__init__()

    @property  # type: ignore[override]
    def instance(self) -> Settlement | None:
        if self._instance is None and self.planned is not None:
            self._instance = _settlement_of(self.planned, self.object_id, self.imported_in)
        return self._instance

    @instance.setter
    def instance(self, value: Settlement | None) -> None:
        self._instance = value


def _settlement_of(
    planned: settlements.PlannedRow, pk: int | None, imported_in: SettlementImport | None
) -> Settlement:
    settlement = planned.instance()
    if settlement.pk is None and pk is not None:  # written since the plan was made
        settlement.pk, settlement.imported_in = pk, imported_in
        settlement._state.adding = False
    if not Settlement.employee.is_cached(settlement):
        # str(settlement) names the employee: the employee as a partly loaded row
        # (from_db: no default computed per field), no query.
        settlement.employee = Employee.from_db(
            settlement._state.db,
            [Employee._meta.pk.attname, "employee_no", "name"],
            [settlement.employee_id, planned.employee_no, planned.name],
        )
    return settlement


class SettlementImportError(AppraisalError):
    """A whole-file problem (no period, period not locked, headers): one message."""


class SettlementResource(resources.ModelResource):
    """Finance's sheet for one period: 工号 and 扣分合计 identify and check the row, 扣款金额 and
    备注 are imported; 考核期间, 姓名, 部门, 警告次数, 最终得分 and 等级 may be there too."""

    employee_no = fields.Field(attribute="employee__employee_no", column_name="工号", readonly=True)
    deducted = fields.Field(column_name="扣分合计", readonly=True)
    amount = fields.Field(attribute="amount", column_name="扣款金额")
    note = fields.Field(attribute="note", column_name="备注")

    class Meta:
        model = Settlement
        name = "财务扣款表"
        fields = ("employee_no", "deducted", "amount", "note")
        import_order = fields
        import_id_fields = ("employee_no",)
        # What import_data_inner does without import_row, said to the library as well:
        # no save() per row, no diff (the cells come from the plan), unchanged rows reported
        # as skipped, no full_clean() (the plan checked every cell).
        use_bulk = True
        skip_diff = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False
        use_transactions = True

    def __init__(self, *, period: Period | None = None, form=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if period is None and form is not None:
            period = getattr(form, "cleaned_data", {}).get("period")
        self.period = period
        self.plan: settlements.SettlementPlan | None = None
        self.settlement_import = None
        self._dry_run = True
        self._user = None
        self._file_name = ""
        self._source: bytes | None = None
        self._row_numbers: list[int] = []

    # --- the whole file ------------------------------------------------------------------
    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        # One transaction, rolled back on any row's error, whatever the caller passed.
        self._dry_run = dry_run
        self.plan, self.settlement_import = None, None
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def before_import(self, dataset, **kwargs) -> None:
        self._user = kwargs.get("user")
        self._file_name = kwargs.get("file_name") or ""
        self._source = getattr(dataset, "source", None)
        # The row numbers Excel shows; for a plain Dataset, the header is row 1.
        default_numbers = list(range(2, len(dataset) + 2))
        self._row_numbers = getattr(dataset, "row_numbers", None) or default_numbers
        try:
            settlements.settlement_check_permission(self._user)
            if self.period is None:
                raise SettlementImportError(ERROR_NO_PERIOD)
            periods = Period.objects if self._dry_run else Period.objects.select_for_update()
            table = self._table(dataset)
            self.plan = settlements.settlement_plan(
                period=periods.get(pk=self.period.pk), table=table
            )
            if self.plan.file_errors:
                raise SettlementImportError(" ".join(self.plan.file_errors))
        except Exception:
            dataset.wipe()  # no row can be read: report the file's problem alone
            raise
        # The columns under their Chinese names, whichever alias the file used.
        headers = list(dataset.headers)
        for name, index in self.plan.columns.items():
            headers[index] = settlements.HEADER[name]
        dataset.headers = headers

    def _table(self, dataset) -> Table:
        """The rows to plan: the Table a TableDataset was read from (the plan only reads
        it), or the dataset's rows as one."""
        table = getattr(dataset, "table", None)
        if (
            isinstance(table, Table)
            and len(table.rows) == len(dataset)
            and table.headers == list(dataset.headers or [])
        ):
            return table
        return Table(
            headers=list(dataset.headers or []),
            rows=[
                Row(number, list(values))
                for number, values in zip(self._row_numbers, dataset, strict=True)
            ],
        )

    # --- the rows: straight from the plan ------------------------------------------------
    def import_data_inner(
        self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
    ):
        """import-export's import_data_inner without its loop through import_row: the plan
        has already checked every row and knows its change, so each RowResult is made from
        its PlannedRow. The library's loop (a model instance, its employee, hooks and the
        repr per row) was 1 s of CPU per pass for 20,000 rows, as much as the service's dry
        run (docs/performance.md, "Finance import"). The rest is the library's: the same
        transaction (import_data), before_import and after_import, the result's totals,
        invalid rows and failed rows, raise_errors."""
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        db_connection = self.get_db_connection_name()
        try:
            with atomic_if_using_transaction(using_transactions, using=db_connection):
                self.before_import(dataset, **kwargs)
            self._check_import_id_fields(dataset.headers)
        except Exception as e:
            self.handle_import_error(result, e, raise_errors)
        result.total_rows = len(dataset)  # wiped by before_import when the file is refused
        if collect_failed_rows:
            result.add_dataset_headers(dataset.headers)
        store_instance = bool(kwargs.get("retain_instance_in_row_result"))
        rows = self.plan.rows if self.plan is not None and len(dataset) else []
        period = self.plan.period if self.plan is not None else None
        for i, planned in enumerate(rows, 1):
            row_result = self._row_result(planned, period, store_instance=store_instance)
            result.increment_row_result_total(row_result)
            if row_result.validation_error is not None:
                row = OrderedDict(zip(dataset.headers, dataset[i - 1], strict=True))
                result.append_invalid_row(i, row, row_result.validation_error)
                if collect_failed_rows:
                    result.append_failed_row(row, row_result.validation_error)
                if raise_errors:
                    raise exceptions.ImportError(row_result.validation_error, number=i, row=row)
            result.append_row_result(row_result)  # report_skipped: unchanged rows too
        try:
            with atomic_if_using_transaction(using_transactions, using=db_connection):
                self.after_import(dataset, result, **kwargs)
        except Exception as e:
            self.handle_import_error(result, e, raise_errors)
        return result

    def _row_result(
        self, planned: settlements.PlannedRow, period: Period | None, *, store_instance: bool
    ) -> SettlementRowResult:
        row_result = SettlementRowResult()
        if planned.errors:
            errors: dict[str, list[str]] = {}
            for (column, _), line in zip(planned.errors, planned.error_lines(), strict=True):
                errors.setdefault(column or NON_FIELD_ERRORS, []).append(line)
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            row_result.validation_error = ValidationError(errors)
            return row_result
        row_result.import_type = IMPORT_TYPES[planned.change]
        kept = planned.settlement  # None for a new row (no instance made)
        amount, note = planned.amount, planned.note
        if amount is None:  # the plan gives every row without errors its amount
            raise RuntimeError(f"row {planned.number}: no amount and no error")
        row_result.object_id = kept.pk if kept is not None else None  # new: after_import
        row_result.employee_id = planned.employee_id
        # str(Settlement), "{period} {employee} ¥{amount}", without an instance per row
        shown = kept.amount if kept is not None else amount
        row_result.object_repr = f"{period} {planned.name}（{planned.employee_no}） ¥{shown}"
        if planned.change == settlements.UPDATED and planned.old_amount != amount:
            amount_cell = f"{planned.old_amount:.2f} → {amount:.2f}"
        else:
            amount_cell = f"{amount:.2f}"
        if planned.change == settlements.UPDATED and planned.old_note != note:
            note_cell = f"“{planned.old_note}” → “{note}”"
        else:
            note_cell = note
        row_result.diff = [planned.employee_no, planned.name, amount_cell, note_cell]
        if store_instance:
            row_result.planned = planned
        return row_result

    def get_diff_headers(self) -> list[str]:
        return PREVIEW_HEADERS

    # --- writing: settlement_apply() writes the plan once every row is known to be valid ---
    def after_import(self, dataset, result, **kwargs) -> None:
        renumber_rows(result, self._sheet_row)
        if (
            self._dry_run
            or self.plan is None
            or self.plan.errors
            or result.has_errors()
            or result.has_validation_errors()
        ):
            return
        data = self._source
        if data is None:  # a Dataset made in code: keep what was imported, as a workbook
            data = write_xlsx(dataset.headers or [], dataset)
        self.settlement_import = settlements.settlement_apply(
            plan=self.plan, actor=self._user, data=data, filename=self._file_name
        )
        result.settlement_import = self.settlement_import
        new_rows = [row for row in result.rows if row.import_type == RowResult.IMPORT_TYPE_NEW]
        if new_rows:  # their ids, unknown until written in bulk: one query
            ids = dict(
                Settlement.objects.filter(imported_in=self.settlement_import).values_list(
                    "employee_id", "pk"
                )
            )
            for row_result in new_rows:
                row_result.object_id = ids[row_result.employee_id]
                row_result.imported_in = self.settlement_import
        super().after_import(dataset, result, **kwargs)

    def _sheet_row(self, index: int) -> int:
        if 1 <= index <= len(self._row_numbers):
            return self._row_numbers[index - 1]
        return index + 1
