"""Finance's settlement sheet in django-import-export: the admin's import, with its preview.

The rows are checked and planned by appraisal.services.settlements before import-export
touches them (``settlement_plan``), and written by the same service (``settlement_apply``),
so that the admin and ``manage.py import_appraisal`` give the same messages and write the
same rows. What import-export adds is its two-step page: a preview (a dry run) that lists
every row as new / updated (old → new amount) / unchanged, then the confirmation.

Configured for speed (docs/performance.md, "Finance import"): ``use_bulk`` (no savepoint and
no save() per row), ``skip_diff`` (no deepcopy and no field-by-field diff per row: the preview
cells come from the plan), and instances from the plan's prefetched dicts instead of the instance loader's query
per row. All or nothing whatever the caller passes: one transaction, rolled back on any
error, and nothing written unless every row is valid.

Which period: the user picks it (``SettlementImportForm`` and ``SettlementConfirmImportForm``
carry it); the resource takes it from the form import-export hands it, or ``period=``.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources
from import_export.forms import ConfirmImportForm

from appraisal.exceptions import AppraisalError
from appraisal.models import Period, Settlement
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
        use_bulk = True
        skip_diff = True
        skip_unchanged = True  # decided by the plan (skip_row), since there is no diff
        report_skipped = True
        clean_model_instances = False  # the plan checked every cell
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
        self._planned: settlements.PlannedRow | None = None
        self._row_numbers: list[int] = []
        self._created_rows: list = []  # (RowResult, Settlement) of new rows: ids after writing

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
        self.plan, self.settlement_import, self._created_rows = None, None, []
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
            table = Table(
                headers=list(dataset.headers or []),
                rows=[
                    Row(number, list(values))
                    for number, values in zip(self._row_numbers, dataset, strict=True)
                ],
            )
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

    # --- row by row: everything comes from the plan ---------------------------------------
    def before_import_row(self, row, **kwargs) -> None:
        self._planned = self.plan.rows[kwargs["row_number"] - 1]

    def get_or_init_instance(self, instance_loader, row):
        planned = self._planned
        if planned.errors:  # reported by import_instance()
            return Settlement(period=self.plan.period), True
        settlement = planned.instance()
        if not Settlement.employee.is_cached(settlement):
            # str(settlement) names the employee (preview, admin log): no query per row, and
            # the employee as a partly loaded row (from_db: no default computed per field).
            settlement.employee = Employee.from_db(
                settlement._state.db,
                [Employee._meta.pk.attname, "employee_no", "name"],
                [settlement.employee_id, planned.employee_no, planned.name],
            )
        return settlement, planned.change == settlements.NEW

    def import_instance(self, instance, row, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        for (column, _), line in zip(
            self._planned.errors, self._planned.error_lines(), strict=True
        ):
            errors.setdefault(column or NON_FIELD_ERRORS, []).append(line)
        if errors:
            raise ValidationError(errors)
        # Nothing to set: the plan put the new amount and note on the instance.

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        return not import_validation_errors and self._planned.change == settlements.UNCHANGED

    def after_import_row(self, row, row_result, **kwargs) -> None:
        planned = self._planned
        if planned.errors or planned.amount is None:
            return
        amount, note = planned.amount, planned.note
        if planned.change == settlements.UPDATED and planned.old_amount != amount:
            amount_cell = f"{planned.old_amount:.2f} → {amount:.2f}"
        else:
            amount_cell = f"{amount:.2f}"
        if planned.change == settlements.UPDATED and planned.old_note != note:
            note_cell = f"“{planned.old_note}” → “{note}”"
        else:
            note_cell = note
        row_result.diff = [planned.employee_no, planned.name, amount_cell, note_cell]
        if planned.change == settlements.NEW:
            self._created_rows.append((row_result, planned.instance()))

    def get_diff_headers(self) -> list[str]:
        return PREVIEW_HEADERS

    # --- writing: settlement_apply() writes the plan once every row is known to be valid ---
    def bulk_create(self, *args, **kwargs) -> None:
        self.create_instances.clear()

    def bulk_update(self, *args, **kwargs) -> None:
        self.update_instances.clear()

    def bulk_delete(self, *args, **kwargs) -> None:
        self.delete_instances.clear()

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
        for row_result, settlement in self._created_rows:
            row_result.object_id = settlement.pk  # unknown until written in bulk
        super().after_import(dataset, result, **kwargs)

    def _sheet_row(self, index: int) -> int:
        if 1 <= index <= len(self._row_numbers):
            return self._row_numbers[index - 1]
        return index + 1
