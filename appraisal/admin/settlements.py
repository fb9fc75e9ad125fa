"""What finance deducted: the imports kept, the settlements, and the import with its preview.

A confirmed sheet of a period with more results than JOBS_BACKGROUND_ROWS is imported by a
background job (appraisal.jobs.settlement_import_job; docs/background-jobs.md): the
confirmation leads to its progress page instead of waiting for the import."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
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
from common.import_files import import_file_to_private_media
from common.importing import import_summary
from jobs.models import Job
from jobs.reporting import job_report
from jobs.services import job_start, job_url
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

    def process_import(self, request, **kwargs):
        """The confirmation: here for a sheet of a few thousand rows at most, else a job.
        The sheet is the period's 汇总 (one row per result), so the period's stored result
        count says how large it is before anything is read."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():  # the library's own page, with the form's errors
            return super().process_import(request, **kwargs)
        period = confirm_form.cleaned_data["period"]
        if period.result_count <= settings.JOBS_BACKGROUND_ROWS:
            return super().process_import(request, **kwargs)
        # The preview's file moves to private storage for the job (the worker may run on
        # another host than the preview's folder), and the preview's copy is deleted.
        name = confirm_form.cleaned_data["import_file_name"]
        upload = import_file_to_private_media(name=name)
        job = job_start(
            kind=Job.Kind.SETTLEMENT_IMPORT,
            actor=request.user,
            params={
                "period_id": period.pk,
                "upload": upload,
                "file_name": confirm_form.cleaned_data.get("original_file_name") or "扣款表.xlsx",
            },
            subject=f"财务扣款表 {period.code}",
        )
        job_report(request, job)
        return redirect(job_url(job))
