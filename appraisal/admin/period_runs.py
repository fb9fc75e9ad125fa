"""A period's moves in the admin (§7.1): the 计算 and 锁定 buttons and list actions, and
the timeline of its moves.

Every way to compute or lock calls one service per period (appraisal.services: the moves are
checked and recorded there, appraisal.services.periods) and shows its refusal as it is.
Computing runs as a background job (appraisal.jobs, docs/background-jobs.md): the button
and the action lead to its progress page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from appraisal.models import Period, PeriodTransition
from appraisal.services import AppraisalError, period_lock
from appraisal.services.periods import check_move, check_permission
from common.admin import TimelineInline
from jobs.models import Job
from jobs.reporting import job_report
from jobs.services import job_start, job_url
from members.selectors import person_label

LOCKED = "考核期间 {code} 已锁定。"


def change_url(period: Period) -> str:
    return reverse("admin:appraisal_period_change", args=[period.pk])


def period_job_start(request, kind: str, period: Period) -> Job:
    """A background job of ``kind`` about ``period`` for the requesting user, with what it
    came to (or that it runs) as the next page's message (docs/background-jobs.md)."""
    job = job_start(
        kind=kind,
        actor=request.user,
        params={"period_id": period.pk},
        subject=f"考核期间 {period.code}",
    )
    job_report(request, job)
    return job


class PeriodTransitionInline(TimelineInline):
    """The period's timeline: each move with who made it (系统: a task or a command) and why,
    shown to whoever may open the period, as the case page's."""

    model = PeriodTransition
    verbose_name_plural = "计算与锁定记录"


class PeriodRunActions:
    """Mixed into PeriodAdmin: compute (appraisal.compute_period) and lock
    (appraisal.lock_period), from the list's actions or the page's buttons."""

    def has_compute_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.compute_period")

    def has_lock_permission(self, request) -> bool:
        return request.user.has_perm("appraisal.lock_period")

    def _posted_period(self, request, object_id, allowed: bool) -> Period:
        if not allowed:
            raise PermissionDenied
        period = self.get_object(request, unquote(object_id))
        if period is None:
            raise Http404
        return period

    def compute_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        period = self._posted_period(request, object_id, self.has_compute_permission(request))
        job = self._compute_one(request, period)
        return redirect(job_url(job) if job is not None else change_url(period))

    def lock_view(self, request, object_id):
        """The page's 锁定 button: the list action's confirmation first, then the lock."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        period = self._posted_period(request, object_id, self.has_lock_permission(request))
        return self._lock_confirmed(request, [period], page=period) or redirect(change_url(period))

    def _compute_one(self, request, period: Period) -> Job | None:
        """A computation job for ``period``, run as the requesting user (the period records
        who computed it); a move the period refuses (locked, no right) is said at once and
        starts no job. Recomputing replaces the rows (idempotent)."""
        try:
            check_permission(request.user, Period.State.COMPUTED)
            check_move(period, Period.State.COMPUTED)
        except AppraisalError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        return period_job_start(request, Job.Kind.PERIOD_COMPUTE, period)

    def _lock_one(self, request, period: Period) -> None:
        try:
            period_lock(period=period, actor=request.user)
        except AppraisalError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, LOCKED.format(code=period.code), messages.SUCCESS)

    @admin.action(description="计算所选考核期间", permissions=["compute"])
    def compute_periods(self, request, queryset):
        jobs = [self._compute_one(request, period) for period in queryset.order_by("starts_on")]
        started = [job for job in jobs if job is not None]
        if len(started) == 1:  # one period: its progress page
            return redirect(job_url(started[0]))
        return redirect("jobs:mine") if started else None

    def _lock_confirmed(
        self, request, periods: list[Period], page: Period | None = None
    ) -> TemplateResponse | None:
        """§7.1: a lock is irreversible, so every way to lock (the list action, the page's
        button) shows the periods first; the confirmation posts ``apply`` back to the same
        URL, and only that locks. Returns the confirmation page, or None once locked."""
        if "apply" not in request.POST:
            for period in periods:
                period.computed_by_label = person_label(period.computed_by)
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "锁定考核期间",
                "periods": periods,
                "page": page,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/appraisal/period/lock_confirm.html", context)
        for period in periods:
            self._lock_one(request, period)
        return None

    @admin.action(description="锁定所选考核期间（锁定后不再改变）", permissions=["lock"])
    def lock_periods(self, request, queryset):
        return self._lock_confirmed(request, list(queryset.order_by("starts_on")))
