"""Periods in the admin: added by code, computed and locked by HR, exported (§7.1)."""

from __future__ import annotations

import tempfile

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from appraisal.exports import XLSX_CONTENT_TYPE, period_workbook, period_workbook_filename
from appraisal.models import GradeBand, Line, Period, Result
from appraisal.services import AppraisalError, period_compute, period_lock
from common.admin import HistoryAdmin

CHANGED_AFTER_COMPUTE = "考核期间 {code} 的计分设置已修改，请重新计算后再锁定。"
PERIOD_FIELDS = ["code", "kind", "starts_on", "ends_on", "state"]
SCORING_FIELDS = ["base_score", "deduction_cap"]
RUN_FIELDS = ["computed_at", "computed_by", "locked_at", "locked_by"]


def _count_per_period(model) -> Coalesce:
    rows = (
        model.objects.filter(period=OuterRef("pk"))
        .order_by()
        .values("period")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


@admin.register(Period)
class PeriodAdmin(HistoryAdmin):
    """A period is added by its code alone (Period.clean fills kind and dates), computed and
    locked by HR through the actions; once locked its page is read-only."""

    list_display = [
        "code",
        "kind",
        "state",
        "result_count",
        "line_count",
        "computed_at",
        "computed_by",
        "locked_at",
        "locked_by",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["code"]
    list_select_related = ["computed_by", "locked_by"]
    actions = ["compute_periods", "lock_periods"]
    add_fieldsets = [(None, {"fields": ["code", *SCORING_FIELDS]})]
    fieldsets = [
        ("考核期间", {"fields": PERIOD_FIELDS}),
        ("计分", {"fields": SCORING_FIELDS}),
        ("计算与锁定", {"fields": RUN_FIELDS}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(result_count=_count_per_period(Result), line_count=_count_per_period(Line))
        )

    @admin.display(description="人数", ordering="result_count")
    def result_count(self, obj: Period) -> int:
        return obj.result_count

    @admin.display(description="扣分明细", ordering="line_count")
    def line_count(self, obj: Period) -> int:
        return obj.line_count

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [*shown, "export_link"] if self.has_export_permission(request) else shown

    @admin.display(description="导出")
    def export_link(self, obj: Period) -> str:
        url = reverse("admin:appraisal_period_export", args=[obj.pk])
        return format_html('<a href="{}">导出 xlsx</a>', url)

    # -- the form: the code, then read-only once computed facts exist -------------------------

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*PERIOD_FIELDS, *RUN_FIELDS]

    def has_change_permission(self, request, obj=None) -> bool:
        # §7.1: a locked period never changes — its page becomes read-only for everyone.
        if obj is not None and obj.state == Period.State.LOCKED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.state == Period.State.LOCKED:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would not ask each period whether it is locked
        return actions

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def revert_allowed(self, request, object_id) -> bool:
        return False  # a revert would change the state behind the services' back

    def save_model(self, request, obj, form, change) -> None:
        if change and obj.state == Period.State.COMPUTED and form.changed_data:
            # New base score or cap: the computed results no longer match, so the
            # period must be computed again before it can be locked (§7.1).
            obj.state = Period.State.OPEN
            super().save_model(request, obj, form, change)
            self.message_user(
                request, CHANGED_AFTER_COMPUTE.format(code=obj.code), messages.WARNING
            )
            return
        super().save_model(request, obj, form, change)

    # -- permissions of the actions and the export ----------------------------------------------

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.export_period")

    def has_compute_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.compute_period")

    def has_lock_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.lock_period")

    # -- the workbook (汇总, 明细, 部门) ------------------------------------------------------------

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<path:object_id>/export/", export, name="appraisal_period_export"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            **(extra_context or {}),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra)

    def export_view(self, request, object_id):
        if not self.has_export_permission(request):
            raise PermissionDenied
        period = self.get_object(request, unquote(object_id))
        if period is None:
            raise Http404
        # Streamed from a temporary file: the workbook of a large company never sits in memory.
        out = tempfile.TemporaryFile()  # FileResponse closes it
        period_workbook(period, out)
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=period_workbook_filename(period),
            content_type=XLSX_CONTENT_TYPE,
        )

    # -- actions: one service call per period ----------------------------------------------------

    @admin.action(description="计算所选考核期间", permissions=["compute"])
    def compute_periods(self, request, queryset):
        # In the request, not on the worker: the result (or the refusal) is reported here
        # and the period records who computed it. Recomputing replaces the rows (idempotent).
        for period in queryset.order_by("starts_on"):
            try:
                summary = period_compute(period=period, actor=request.user)
            except AppraisalError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                f"{summary.period} 已计算：{summary.employees} 名员工，扣分明细 {summary.lines} 条，"
                f"调整 {summary.adjustments} 条，扣分合计 {summary.deducted}。",
                messages.SUCCESS,
            )

    @admin.action(description="锁定所选考核期间（锁定后不再改变）", permissions=["lock"])
    def lock_periods(self, request, queryset):
        periods = list(queryset.order_by("starts_on"))
        if "apply" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "锁定考核期间",
                "periods": periods,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/appraisal/period/lock_confirm.html", context)
        for period in periods:
            try:
                period_lock(period=period, actor=request.user)
            except AppraisalError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"考核期间 {period.code} 已锁定。", messages.SUCCESS)
        return None


@admin.register(GradeBand)
class GradeBandAdmin(admin.ModelAdmin):
    """'Grade if configured': the next computation grades by these bands."""

    list_display = ["grade", "min_score"]
