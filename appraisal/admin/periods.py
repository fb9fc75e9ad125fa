"""Periods in the admin: added by code, computed and locked by HR, exported (§7.1).

The period's page has 计算 and 锁定 buttons (each its own small form, outside the change
form) that call the same services as the list's actions; it links to its results and
lines, and tells HR when a locked period's corrections wait for a period that does not
exist yet, with a button that creates it.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from appraisal.admin.base import EMPTY
from appraisal.admin.fairness import FairnessReportViews
from appraisal.admin.period_runs import (
    PeriodRunActions,
    PeriodTransitionInline,
    change_url,
    period_job_start,
)
from appraisal.exports import period_workbook, period_workbook_filename, period_workbook_rows
from appraisal.models import GradeBand, Line, Period, Result
from appraisal.selectors import WaitingCorrections, corrections_waiting
from appraisal.services import (
    AppraisalError,
    period_change_scoring,
    period_create_for_corrections,
)
from common.admin import HistoryAdmin, RowVersionGuardMixin, ViewerLinksMixin, may_open
from common.downloads import file_response
from jobs.models import Job
from jobs.services import job_url
from members.selectors import person_label

CHANGED_AFTER_COMPUTE = "考核期间 {code} 的计分设置已修改，请重新计算后再锁定。"
# §7.1: corrections of a locked period go to the first not-locked period after it.
WAITING = (
    "考核期间 {locked} 已锁定，之后有 {n} 件案件的扣分改变（{cases}）。更正要计入它之后"
    "第一个未锁定的考核期间，但现在没有这样的期间：请新建考核期间 {needed}，再计算它。"
)
CREATED_NEXT = "已新建考核期间 {code}。请计算它，锁定期间的更正会作为调整计入。"
ALREADY_EXISTS = "考核期间 {code} 已存在。"
PERIOD_FIELDS = ["code", "kind", "starts_on", "ends_on", "state"]
SCORING_FIELDS = ["base_score", "deduction_cap"]
RUN_FIELDS = ["computed_at", "computed_by_name", "locked_at", "locked_by_name"]
PEOPLE = ["computed_by__employee", "locked_by__employee"]


def waiting_message(waiting: WaitingCorrections) -> str:
    cases = "、".join(f"案件 #{pk} {points:+}" for pk, points in waiting.corrections)
    return WAITING.format(
        locked=waiting.locked.code,
        n=len(waiting.corrections),
        cases=cases,
        needed=waiting.needed,
    )


def rows_url(model, period: Period) -> str:
    """The list of ``model`` (Result, Line) filtered by ``period``."""
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{changelist}?period__id__exact={period.pk}"


@admin.register(Period)
class PeriodAdmin(FairnessReportViews, PeriodRunActions, ViewerLinksMixin, HistoryAdmin):
    """A period is added by its code alone (Period.clean fills kind and dates), computed and
    locked by HR through the actions or the page's buttons (PeriodRunActions); once locked
    its page is read-only. Its page ends with the timeline of its moves."""

    empty_value_display = EMPTY
    list_display = [
        "code",
        "kind",
        "state",
        "result_count",
        "line_count",
        "computed_at",
        "computed_by_name",
        "locked_at",
        "locked_by_name",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["code"]
    list_select_related = PEOPLE
    actions = ["compute_periods", "lock_periods"]
    add_fieldsets = [(None, {"fields": ["code", *SCORING_FIELDS]})]
    fieldsets = [
        ("考核期间", {"fields": PERIOD_FIELDS}),
        ("计分", {"fields": SCORING_FIELDS}),
        ("计算与锁定", {"fields": RUN_FIELDS}),
    ]

    def get_queryset(self, request):
        # result_count and line_count are the period's own columns, kept by period_compute.
        return super().get_queryset(request).select_related(*PEOPLE)

    # The counts link to the rows behind them, for whoever may open those lists.
    @admin.display(description="人数", ordering="result_count")
    def result_count_link(self, obj: Period) -> str:
        return format_html('<a href="{}">{}</a>', rows_url(Result, obj), obj.result_count)

    @admin.display(description="扣分明细", ordering="line_count")
    def line_count_link(self, obj: Period) -> str:
        return format_html('<a href="{}">{}</a>', rows_url(Line, obj), obj.line_count)

    @admin.display(description="计算人")
    def computed_by_name(self, obj: Period) -> str:
        return person_label(obj.computed_by)

    @admin.display(description="锁定人")
    def locked_by_name(self, obj: Period) -> str:
        return person_label(obj.locked_by)

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        for model, name in [(Result, "result_count"), (Line, "line_count")]:
            if may_open(request, model, self.admin_site):
                shown[shown.index(name)] = f"{name}_link"
        return [*shown, "export_link"] if self.has_export_permission(request) else shown

    @admin.display(description="导出")
    def export_link(self, obj: Period) -> str:
        url = reverse("admin:appraisal_period_export", args=[obj.pk])
        return format_html('<a href="{}">导出 Excel</a>', url)

    # -- the form: the code, then read-only once computed facts exist -------------------------

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return [] if obj is None else [PeriodTransitionInline]

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
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only the scoring is editable, through the service: it locks the row, so a lock or a
        # computation that landed meanwhile is never written over (the form's row version
        # has already refused a page built before them).
        recompute = period_change_scoring(
            period=obj,
            actor=request.user,
            base_score=form.cleaned_data["base_score"],
            deduction_cap=form.cleaned_data["deduction_cap"],
        )
        obj.refresh_from_db()
        if recompute:
            self.message_user(
                request, CHANGED_AFTER_COMPUTE.format(code=obj.code), messages.WARNING
            )

    # -- permissions of the actions and the export ----------------------------------------------

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.export_period")

    def may_create_next(self, request) -> bool:
        return self.has_add_permission(request) and self.has_compute_permission(request)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/export/", view(self.export_view), name="appraisal_period_export"
            ),
            path(
                "<path:object_id>/compute/",
                view(self.compute_view),
                name="appraisal_period_compute",
            ),
            path("<path:object_id>/lock/", view(self.lock_view), name="appraisal_period_lock"),
            path("create-next/", view(self.create_next_view), name="appraisal_period_create_next"),
            *super().get_urls(),
        ]

    # -- the page: buttons, links to its rows, corrections waiting ----------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                has_export_permission=self.has_export_permission(request),
                can_compute=self.has_compute_permission(request)
                and obj.state != Period.State.LOCKED,
                can_lock=self.has_lock_permission(request) and obj.state == Period.State.COMPUTED,
                results_url=rows_url(Result, obj)
                if may_open(request, Result, self.admin_site)
                else None,
                lines_url=rows_url(Line, obj) if may_open(request, Line, self.admin_site) else None,
                waiting=self.waiting_for(request, only=obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "waiting": self.waiting_for(request)}
        return super().changelist_view(request, extra)

    def waiting_for(self, request, only: Period | None = None) -> list[dict]:
        """What HR is told about corrections waiting for a period (none for the others)."""
        if not self.may_create_next(request):
            return []
        return [
            {"message": waiting_message(w), "needed": w.needed}
            for w in corrections_waiting()
            if only is None or w.locked.pk == only.pk
        ]

    def create_next_view(self, request):
        """HR creates, in one click, the period a locked period's corrections wait for."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.may_create_next(request):
            raise PermissionDenied
        code = request.POST.get("code", "").strip()
        existing = Period.objects.filter(code=code).first()
        if existing is not None:  # a second click, or another HR was quicker
            self.message_user(request, ALREADY_EXISTS.format(code=code), messages.WARNING)
            return redirect(change_url(existing))
        try:
            period = period_create_for_corrections(code=code, actor=request.user)
        except AppraisalError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:appraisal_period_changelist")
        self.message_user(request, CREATED_NEXT.format(code=code), messages.SUCCESS)
        return redirect(change_url(period))

    # -- the workbook (汇总, 明细, 部门) ------------------------------------------------------------

    def export_view(self, request, object_id):
        if not self.has_export_permission(request):
            raise PermissionDenied
        period = self.get_object(request, unquote(object_id))
        if period is None:
            raise Http404
        if period_workbook_rows(period) > settings.JOBS_BACKGROUND_ROWS:
            # A large workbook is written by a background job (appraisal.jobs): its page
            # shows the progress, then the download link (docs/background-jobs.md). The
            # link is a GET, which must not start work: a page with a POST button first.
            if request.method != "POST":
                context = {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "original": period,
                    "title": f"导出考核期间 {period.code}",
                    "rows": period_workbook_rows(period),
                }
                return TemplateResponse(
                    request, "admin/appraisal/period/export_confirm.html", context
                )
            job = period_job_start(request, Job.Kind.PERIOD_EXPORT, period)
            return redirect(job_url(job))
        # Streamed from a temporary file: the workbook of a large company never sits in memory.
        out = tempfile.TemporaryFile()  # FileResponse closes it
        period_workbook(period, out)
        out.seek(0)
        return file_response(out, filename=period_workbook_filename(period))


@admin.register(GradeBand)
class GradeBandAdmin(RowVersionGuardMixin, admin.ModelAdmin):
    """'Grade if configured': the next computation grades by these bands."""

    empty_value_display = EMPTY
    list_display = ["grade", "min_score"]
