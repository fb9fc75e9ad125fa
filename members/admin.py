from __future__ import annotations

import base64

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from import_export.admin import ImportExportMixin
from import_export.forms import ConfirmImportForm, ExportForm

from common.admin import ClerkImportMixin, HistoryAdmin, QuickCheckboxMixin, RowVersionGuardMixin
from common.downloads import XLSX_CONTENT_TYPE, file_response, name_download
from common.import_files import import_file_to_private_media, previewed_rows
from common.importing import import_summary
from common.spreadsheets import SPREADSHEET_FORMATS, SpreadsheetImportForm, write_xlsx
from jobs.models import Job
from jobs.reporting import job_report
from jobs.services import job_start, job_url
from members import importing, selectors, services
from members.admin_events import PersonnelEventInline
from members.models import (
    Department,
    Employee,
    LoginFailure,
    LoginLockout,
    Position,
)
from members.resources import EmployeeResource

EXPORT_FILENAME = "员工-{date}.{extension}"
INVITES_FILENAME = "设置密码链接-{date}.xlsx"
INVITES_HEADERS = ("工号", "姓名", "部门", "登录账号", "设置密码链接", "有效期至", "结果")


class EmployeeConfirmImportForm(ConfirmImportForm):
    # The preview's row count, signed with the rest (common.import_files.ConfirmationMixin):
    # the confirmation decides request or background job without reading the file.
    rows = forms.IntegerField(widget=forms.HiddenInput(), min_value=0)


@admin.register(Department)
class DepartmentAdmin(HistoryAdmin):
    list_display = ["path", "head", "employee_count"]
    search_fields = ["name", "path"]
    autocomplete_fields = ["parent", "head"]
    list_select_related = ["head"]

    def get_queryset(self, request):
        # Ordered again: Meta.ordering is dropped once Count groups the rows (the autocomplete pages).
        return (
            super()
            .get_queryset(request)
            .annotate(_employee_count=Count("employees"))
            .order_by("path")
        )

    @admin.display(description="人数", ordering="_employee_count")
    def employee_count(self, obj: Department) -> int:
        return obj._employee_count


@admin.register(Position)
class PositionAdmin(QuickCheckboxMixin, RowVersionGuardMixin, admin.ModelAdmin):
    list_display = ["name", "rank"]
    search_fields = ["name"]
    list_filter = ["rank"]


class HasLoginFilter(admin.SimpleListFilter):
    title = "登录账号"
    parameter_name = "has_login"

    def lookups(self, request, model_admin):
        return [("yes", "已开通"), ("no", "未开通")]  # strings: facet counts compare them

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(user__isnull=self.value() == "no")
        return queryset

    def get_facet_counts(self, pk_attname, filtered_qs):
        # 显示计数: the test on the row itself; SimpleListFilter's default counts
        # "pk IN (the filtered list)", a second pass over every employee per choice.
        return {
            f"{i}__c": Count(pk_attname, filter=Q(user__isnull=value == "no"))
            for i, (value, _) in enumerate(self.lookup_choices)
        }


class RankFilter(admin.SimpleListFilter):
    """职级 1 to the highest any employee has: the plain filter lists the ranks in use by a
    SELECT DISTINCT over every employee; the highest is one aggregate (index-served once
    members has an index on rank)."""

    title = "职级"
    parameter_name = "rank"

    def lookups(self, request, model_admin):
        # Asked once per request: 显示计数 builds the filters again for each filter's counts.
        memo = request.__dict__.setdefault("_admin_answers", {})
        if "highest_rank" not in memo:
            memo["highest_rank"] = Employee.objects.aggregate(highest=Max("rank"))["highest"] or 0
        return [(str(rank), f"{rank} 级") for rank in range(1, memo["highest_rank"] + 1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(rank=int(value))
        return queryset

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {
            f"{i}__c": Count(pk_attname, filter=Q(rank=int(value)))
            for i, (value, _) in enumerate(self.lookup_choices)
        }


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
        "login_name",
    ]
    list_display_links = ["employee_no", "name"]
    list_filter = ["status", "category", RankFilter, "department", HasLoginFilter]
    search_fields = ["name", "employee_no", "wechat_id", "phone", "user__username"]
    autocomplete_fields = ["department", "position", "user"]
    ordering = ["employee_no"]
    list_per_page = 50
    show_full_result_count = False  # one COUNT a page, not a second over every employee
    actions = ["invite_logins"]
    inlines = [PersonnelEventInline]
    fieldsets = [
        (None, {"fields": ["employee_no", "name", "department", "position", "rank", "category"]}),
        ("状态", {"fields": ["status", "left_on"]}),
        ("联系方式与账号", {"fields": ["wechat_id", "phone", "user"]}),
    ]

    # Shown as text to a viewer who may not open the target: Django's read-only display of a
    # foreign key links to the target's admin page without asking (a 403 for that viewer).
    PLAIN_FOREIGN_KEYS = {"department": "department_text", "position": "position_text"}

    def get_fieldsets(self, request, obj=None):
        # Picking any login needs the user admin, which is the superuser's alone; HR links
        # logins through the employee sheet's 登录账号 column or the invite action.
        swap = {} if request.user.is_superuser else {"user": "login_name"}
        if not self.has_change_permission(request, obj):
            for field, display in self.PLAIN_FOREIGN_KEYS.items():
                target = self.admin_site.get_model_admin(
                    self.model._meta.get_field(field).related_model
                )
                if not target.has_view_or_change_permission(request):
                    swap[field] = display
        return [
            (name, {**options, "fields": [swap.get(f, f) for f in options["fields"]]})
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "login_name", *self.PLAIN_FOREIGN_KEYS.values()]

    @admin.display(description="部门")
    def department_text(self, obj: Employee) -> str:
        return str(obj.department)

    @admin.display(description="岗位")
    def position_text(self, obj: Employee) -> str:
        return str(obj.position) if obj.position_id else "—"

    @admin.display(description="登录账号", ordering="user__username")
    def login_name(self, obj: Employee) -> str:
        # The login itself, as text: a link to the user admin would answer 403 to all but
        # a superuser.
        return obj.user.get_username() if obj.user_id else "—"

    def has_invite_permission(self, request) -> bool:
        return request.user.has_perm(services.INVITE_PERMISSION)

    @admin.action(description="开通登录账号并生成设置密码链接", permissions=["invite"])
    def invite_logins(self, request, queryset):
        invites = services.employee_logins_invite(employees=queryset, actor=request.user)
        linked = [invite for invite in invites if invite.link]
        self.message_user(
            request,
            f"已处理 {len(invites)} 位员工，生成 {len(linked)} 条设置密码链接。",
            messages.SUCCESS if linked else messages.WARNING,
        )
        today = timezone.localdate()
        rows = [
            (
                invite.employee.employee_no,
                invite.employee.name,
                invite.employee.department.path,
                invite.username,
                request.build_absolute_uri(invite.link) if invite.link else "",
                timezone.localtime(invite.expires_at).strftime("%Y-%m-%d %H:%M")
                if invite.expires_at
                else "",
                invite.outcome,
            )
            for invite in invites
        ]
        workbook = write_xlsx(INVITES_HEADERS, rows, title="设置密码链接")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "设置密码链接",
            "headers": INVITES_HEADERS,
            "rows": rows,
            "xlsx_filename": INVITES_FILENAME.format(date=today.isoformat()),
            "xlsx_data": base64.b64encode(workbook).decode(),
            "xlsx_type": XLSX_CONTENT_TYPE,
        }
        response = TemplateResponse(request, "admin/members/employee/login_invites.html", context)
        add_never_cache_headers(response)  # the links are shown once, never kept anywhere
        return response

    # Import/export (docs/security.md, 10): gated by members.import_employee /
    # members.export_employee (IMPORT_EXPORT_*_PERMISSION_CODE); files read through common.spreadsheets, so that CSV
    # in UTF-8 or GBK and xlsx all work and hostile files are refused; all columns always, so
    # that an export imports back as it is.
    resource_classes = [EmployeeResource]
    import_formats = SPREADSHEET_FORMATS
    export_formats = SPREADSHEET_FORMATS
    import_form_class = SpreadsheetImportForm
    confirm_form_class = EmployeeConfirmImportForm
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
        return file_response(
            importing.employee_import_template(), filename=importing.TEMPLATE_FILENAME
        )

    def get_export_filename(self, request, queryset, file_format):
        return EXPORT_FILENAME.format(
            date=timezone.localdate().isoformat(), extension=file_format.get_extension()
        )

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # The library writes filename="员工-….xlsx" as it is, which is not valid for a
        # non-ASCII name (RFC 6266): browsers then save "Employee" or garbage.
        response = super()._do_file_export(file_format, request, queryset, export_form)
        name_download(response, self.get_export_filename(request, queryset, file_format))
        return response

    def get_import_data_kwargs(self, **kwargs):
        # One bad row and nothing is written — in the confirm step as in the preview.
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.setdefault("use_transactions", True)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return kwargs

    def add_success_message(self, result, request):
        messages.success(request, f"导入完成：{import_summary(result)}。")

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["rows"] = previewed_rows() or 0
        return initial

    def process_import(self, request, **kwargs):
        """The confirmation: here for a sheet of up to JOBS_BACKGROUND_ROWS rows, else a
        background job (members.jobs.employee_import_job; docs/background-jobs.md) whose
        progress page the clerk is sent to. The preview's file moves to private media for it."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if (
            not confirm_form.is_valid()  # the library's own page, with the form's errors
            or confirm_form.cleaned_data["rows"] <= settings.JOBS_BACKGROUND_ROWS
        ):
            return super().process_import(request, **kwargs)
        file_name = confirm_form.cleaned_data.get("original_file_name") or "员工.xlsx"
        job = job_start(
            kind=Job.Kind.EMPLOYEE_IMPORT,
            actor=request.user,
            params={
                "upload": import_file_to_private_media(
                    name=confirm_form.cleaned_data["import_file_name"]
                ),
                "file_name": file_name,
            },
            subject=f"员工表 {file_name[:100]}（{confirm_form.cleaned_data['rows']} 行）",
        )
        job_report(request, job)
        return redirect(job_url(job))


User = get_user_model()
admin.site.unregister(User)


class PasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    # Django appends this warning to the help text as a plain English string (no catalogue
    # entry reaches it); the rest of the help text is translated.
    usable_password_help_text = auth_forms.SetUnusablePasswordMixin.usable_password_help_text + (
        '<ul id="id_unusable_warning" class="messagelist"><li class="warning">'
        "关闭后，该用户当前的密码将失效。</li></ul>"
    )


@admin.register(User)
class UserAdmin(QuickCheckboxMixin, RowVersionGuardMixin, auth_admin.UserAdmin):
    """Django's user admin, for superusers alone (auth.change_user lets one make oneself
    superuser); HR opens logins from the employee list. Each login shows its person."""

    list_display = ["username", "person", "is_staff", "is_superuser", "is_active", "last_login"]
    list_select_related = ["employee"]
    change_password_form = PasswordChangeForm
    search_fields = [*auth_admin.UserAdmin.search_fields, "employee__name", "employee__employee_no"]

    @admin.display(description="员工", ordering="employee__employee_no")
    def person(self, obj) -> str:
        employee = getattr(obj, "employee", None)
        return str(employee) if employee else "—"

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


class _AxesRowAdmin(QuickCheckboxMixin, admin.ModelAdmin):
    """django-axes' rows as read-only lists with Chinese column names (axes' are English)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="登录账号", ordering="username")
    def login(self, obj) -> str:
        return obj.username or "—"

    @admin.display(description="来源地址", ordering="ip_address")
    def address(self, obj) -> str:
        return obj.ip_address or "—"

    @admin.display(description="时间", ordering="attempt_time")
    def when(self, obj):
        return obj.attempt_time

    @admin.display(description="登录页面")
    def page(self, obj) -> str:
        return obj.path_info

    @admin.display(description="浏览器")
    def browser(self, obj) -> str:
        return obj.user_agent


@admin.register(LoginLockout)
class LoginLockoutAdmin(_AxesRowAdmin):
    """docs/security.md, 6: HR sees who is locked out of logging in, and releases them.

    Rows are django-axes' own (written on each failed login); HR only reads and releases.
    Releasing, by the action or by deleting, goes through services.login_lockouts_release.
    """

    list_display = ["login", "address", "failures", "locked", "when", "page"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["release"]
    fields = readonly_fields = ["login", "address", "failures", "locked", "when", "page"]

    @admin.display(description="失败次数", ordering="failures_since_start")
    def failures(self, obj: LoginLockout) -> int:
        return obj.failures_since_start

    @admin.display(description="状态")
    def locked(self, obj: LoginLockout) -> str:
        if obj.failures_since_start < settings.AXES_FAILURE_LIMIT:
            return "未锁定"
        # axes forgets an expired row only at the next attempt: past the cool-off it is over.
        if obj.attempt_time + settings.AXES_COOLOFF_TIME <= timezone.now():
            return "已过期（已自动解除）"
        return "已锁定"

    @admin.action(description="解除所选登录锁定", permissions=["delete"])
    def release(self, request, queryset):
        names = "、".join(sorted(_lockout_names(queryset)))
        services.login_lockouts_release(lockouts=queryset, actor=request.user)
        self.message_user(request, MESSAGE_LOCKOUTS_RELEASED.format(names=names), messages.SUCCESS)

    def delete_model(self, request, obj) -> None:
        services.login_lockouts_release(lockouts=[obj], actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        services.login_lockouts_release(lockouts=queryset, actor=request.user)


MESSAGE_LOCKOUTS_RELEASED = "已解除登录锁定：{names}。他们现在可以重新登录。"


def _lockout_names(lockouts) -> set[str]:
    return {lockout.username or lockout.ip_address or "—" for lockout in lockouts}


class LockedOutFilter(admin.SimpleListFilter):
    title = "是否导致锁定"
    parameter_name = "locked_out"

    def lookups(self, request, model_admin):
        return [("yes", "是"), ("no", "否")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(locked_out=self.value() == "yes")
        return queryset


@admin.register(LoginFailure)
class LoginFailureAdmin(_AxesRowAdmin):
    """docs/security.md, 6: every failed login — who, when, from where — for HR to read."""

    list_display = ["when", "login", "address", "page", "caused_lockout"]
    list_filter = [LockedOutFilter]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = readonly_fields = ["when", "login", "address", "page", "browser", "caused_lockout"]

    @admin.display(description="是否导致锁定", boolean=True)
    def caused_lockout(self, obj: LoginFailure) -> bool:
        return obj.locked_out

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
