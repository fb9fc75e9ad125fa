from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.urls import path
from django.utils.http import content_disposition_header
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm

from common.admin import ClerkImportMixin, HistoryAdmin
from common.importing import import_summary
from common.spreadsheets import SPREADSHEET_FORMATS, SpreadsheetImportForm
from members import importing, selectors
from members.models import Department, Employee, Position
from members.resources import EmployeeResource


@admin.register(Department)
class DepartmentAdmin(HistoryAdmin):
    list_display = ["path", "head", "employee_count"]
    search_fields = ["name", "path"]
    autocomplete_fields = ["parent", "head"]
    list_select_related = ["head"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_employee_count=Count("employees"))

    @admin.display(description="人数", ordering="_employee_count")
    def employee_count(self, obj: Department) -> int:
        return obj._employee_count


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["name", "rank"]
    search_fields = ["name"]
    list_filter = ["rank"]


@admin.register(Employee)
class EmployeeAdmin(ClerkImportMixin, ImportExportMixin, HistoryAdmin):
    list_display = [
        "employee_no",
        "name",
        "department",
        "position",
        "rank",
        "category",
        "head_flag",
        "status",
        "left_on",
        "wechat_id",
    ]
    list_display_links = ["employee_no", "name"]
    list_filter = ["status", "category", "rank", "department"]
    search_fields = ["name", "employee_no", "wechat_id", "phone"]
    autocomplete_fields = ["department", "position", "user"]
    ordering = ["employee_no"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["employee_no", "name", "department", "position", "rank", "category"]}),
        ("状态", {"fields": ["status", "left_on"]}),
        ("联系方式与账号", {"fields": ["wechat_id", "phone", "user"]}),
    ]

    # Import/export (PITFALLS.md): gated by members.import_employee / members.export_employee
    # (IMPORT_EXPORT_*_PERMISSION_CODE); files read through common.spreadsheets, so that CSV
    # in UTF-8 or GBK and xlsx all work and hostile files are refused; all columns always, so
    # that an export imports back as it is.
    resource_classes = [EmployeeResource]
    import_formats = SPREADSHEET_FORMATS
    export_formats = SPREADSHEET_FORMATS
    import_form_class = SpreadsheetImportForm
    export_form_class = ExportForm
    import_template_name = "admin/members/employee/import.html"
    import_export_change_list_template = "admin/members/employee/change_list.html"

    def get_queryset(self, request):
        # The export builds its queryset from this too, with the changelist's filters.
        return selectors.employees_for_list()

    @admin.display(description="部门负责人", boolean=True, ordering="is_head")
    def head_flag(self, obj: Employee) -> bool:
        return obj.is_department_head

    def get_urls(self):
        template_url = path(
            "import/template/",
            self.admin_site.admin_view(self.import_template_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_import_template",
        )
        return [template_url, *super().get_urls()]

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(
            importing.employee_import_template(), content_type=SPREADSHEET_FORMATS[0].CONTENT_TYPE
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=importing.TEMPLATE_FILENAME
        )
        return response

    def get_import_data_kwargs(self, **kwargs):
        # One bad row and nothing is written — in the confirm step as in the preview.
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.setdefault("use_transactions", True)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return kwargs

    def add_success_message(self, result, request):
        messages.success(request, f"导入完成：{import_summary(result)}。")
