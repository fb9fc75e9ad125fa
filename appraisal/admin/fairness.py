"""The fairness report of a period in the admin (§7.1): a page reached from the period's
page (公平性报告) and its xlsx download, for whoever holds appraisal.view_fairness_report (HR,
company leaders). The figures are appraisal.fairness' (``fairness_report``); this only shows
them."""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from appraisal.fairness import fairness_filename, fairness_report, fairness_workbook, summary_rows
from appraisal.models import Period
from common.downloads import file_response

if TYPE_CHECKING:
    from django.contrib import admin

    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object

PERMISSION = "appraisal.view_fairness_report"


class FairnessReportViews(_ModelAdmin):
    """Mixed into PeriodAdmin: the report's page and download, and its link on the period's
    page (``can_view_fairness`` in the change form's context)."""

    def has_fairness_permission(self, request) -> bool:
        return request.user.has_perm(PERMISSION)

    def fairness_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/fairness/",
                view(self.fairness_view),
                name="appraisal_period_fairness",
            ),
            path(
                "<path:object_id>/fairness/xlsx/",
                view(self.fairness_xlsx_view),
                name="appraisal_period_fairness_xlsx",
            ),
        ]

    def get_urls(self):
        return [*self.fairness_urls(), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_view_fairness"] = obj is not None and self.has_fairness_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _fairness_period(self, request, object_id) -> Period:
        if not self.has_fairness_permission(request):
            raise PermissionDenied
        period = self.get_object(request, unquote(object_id))
        if period is None:
            raise Http404
        return period

    def fairness_view(self, request, object_id):
        period = self._fairness_period(request, object_id)
        report = fairness_report(period)
        context = {
            **self.admin_site.each_context(request),
            "opts": Period._meta,
            "original": period,
            "title": f"公平性报告：{period.code}",
            "report": report,
            "summary": summary_rows(report),
        }
        return TemplateResponse(request, "admin/appraisal/period/fairness.html", context)

    def fairness_xlsx_view(self, request, object_id):
        period = self._fairness_period(request, object_id)
        report = fairness_report(period)
        out = tempfile.TemporaryFile()  # FileResponse streams it, then closes it
        fairness_workbook(report, out)
        out.seek(0)
        return file_response(out, filename=fairness_filename(report))
