"""What finance deducted: the imports kept, the settlements, and the import with its preview."""

from __future__ import annotations

from django.contrib import admin, messages
from import_export.admin import ImportMixin

from appraisal.admin.base import ReadOnlyAdmin
from appraisal.models import Settlement, SettlementImport
from appraisal.resources import (
    SETTLEMENT_FORMATS,
    SettlementConfirmImportForm,
    SettlementImportForm,
    SettlementResource,
)
from common.admin import ClerkImportMixin
from common.importing import import_summary
from members.admin_search import EmployeeSearchMixin
from members.selectors import person_label

IMPORT_FIELDS = [
    "period_shown",
    "file_name",
    "imported_by_name",
    "imported_at",
    "rows",
    "created",
    "updated",
    "unchanged",
]
SETTLEMENT_FIELDS = ["period_shown", "employee_shown", "amount", "note", "imported_in_shown"]


@admin.register(SettlementImport)
class SettlementImportAdmin(ReadOnlyAdmin):
    list_display = [
        "period",
        "file_name",
        "imported_by_name",
        "imported_at",
        "rows",
        "created",
        "updated",
        "unchanged",
    ]
    list_filter = ["period"]
    list_select_related = ["period", "imported_by__employee"]
    # The stored file holds everyone's pay: listed by name, not served from here.
    fields = IMPORT_FIELDS
    readonly_fields = IMPORT_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("period", "imported_by__employee")

    @admin.display(description="导入人")
    def imported_by_name(self, obj: SettlementImport) -> str:
        return person_label(obj.imported_by)


@admin.register(Settlement)
class SettlementAdmin(EmployeeSearchMixin, ClerkImportMixin, ImportMixin, ReadOnlyAdmin):
    """What payroll deducted, from finance's sheet: imported (appraisal.import_settlement,
    through IMPORT_EXPORT_IMPORT_PERMISSION_CODE) with a preview, never edited by hand.
    appraisal.resources checks and plans the rows, appraisal.services.settlements writes them."""

    list_display = ["period", "employee", "amount", "note", "imported_in"]
    list_filter = ["period"]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["period", "employee", "imported_in__period"]
    ordering = ["-period_id", "employee_id"]  # settlement_list_idx: no sort through joins
    # A row per employee and imported period: 50 rows a page, one COUNT per page, not two.
    list_per_page = 50
    show_full_result_count = False
    fields = SETTLEMENT_FIELDS
    readonly_fields = SETTLEMENT_FIELDS
    resource_classes = [SettlementResource]
    import_formats = SETTLEMENT_FORMATS
    import_form_class = SettlementImportForm
    confirm_form_class = SettlementConfirmImportForm
    import_template_name = "admin/appraisal/settlement/import.html"
    # SettlementImport is the audit row of each import (who, when, file, counts):
    # no admin LogEntry per row on top (20,000 for one sheet).
    skip_admin_log = True

    @admin.display(description="来自导入")
    def imported_in_shown(self, obj: Settlement) -> str:
        return self.link(obj, obj.imported_in)

    def get_confirm_form_initial(self, request, import_form):
        # The period chosen on the first page goes with the file to the confirmation.
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["period"] = import_form.cleaned_data["period"].pk
        return initial

    def add_success_message(self, result, request):
        record = result.settlement_import
        done = f"导入完成（导入记录 #{record.pk}，{record.period}）：{import_summary(result)}。"
        messages.success(request, done)
