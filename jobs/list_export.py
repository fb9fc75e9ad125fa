"""导出 Excel of a large admin list in the background (docs/background-jobs.md).

``BackgroundListExportMixin`` (for a ``common.admin_export.ChangeListExportMixin`` admin):
a list of more than JOBS_BACKGROUND_ROWS rows is not written in the request (20,000 cases
took ~9 s of CPU there). The export link then shows the row count and a 在后台导出 button
(a POST: a GET link must not start work), which starts a job with the model's label and
the list's query string.

``list_export_job`` rebuilds the list as its owner: a GET request for the list's query
string, ``user`` the owner, through the same ModelAdmin's ``get_changelist_instance`` — so
the scope, filters, search and order are the list's own, as they are for the download in
the request (common/admin_export.py), never a second filter that could drift from it. The
admin is found through the admin site by the model's label: this app imports no app above it.
"""

from __future__ import annotations

import tempfile

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.models import User
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.urls import reverse

from common.actors import Actor
from common.admin_export import ChangeListExportMixin
from common.exceptions import ServiceError
from jobs.models import Job
from jobs.reporting import job_report
from jobs.runners import JobOutcome, Progress
from jobs.services import job_start, job_url

EXPORTED = "{name}已导出：{rows} 行。"
ERROR_NO_VIEW = "你已没有查看该列表的权限，没有导出。"
ERROR_BAD_LIST = "列表的筛选条件已失效，没有导出。请回到列表重新导出。"
ERROR_NO_LIST = "该列表已不存在，没有导出。"


class ListExportError(ServiceError):
    """A list export that cannot run."""


class BackgroundListExportMixin(ChangeListExportMixin):
    """ChangeListExportMixin whose export of a large list is a background job."""

    def export_large(self, request, changelist):
        rows = changelist.result_count
        if rows <= settings.JOBS_BACKGROUND_ROWS:
            return None
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"导出 {self.export_filename}",
                "rows": rows,
                "action_url": request.get_full_path(),
                "list_url": reverse(f"admin:{self._changelist_url_name}"),
            }
            return TemplateResponse(request, "jobs/list_export_confirm.html", context)
        job = job_start(
            kind=Job.Kind.LIST_EXPORT,
            actor=request.user,
            params={"model": self.opts.label, "query": request.GET.urlencode()},
            subject=f"{self.export_filename}（{rows} 行）",
        )
        job_report(request, job)
        return redirect(job_url(job))


def list_export_file_allowed(request, job: Job) -> bool:
    """The list's file (jobs.views.download): only while its owner may still open the list."""
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(job.params["model"]))
    except (LookupError, NotRegistered, KeyError):
        return False
    return model_admin.has_view_permission(request)


def list_export_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """The list ``params["model"]`` with the query string ``params["query"]``, as ``actor``
    sees it when the job runs (asked again: they may have lost the right meanwhile)."""
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(params["model"]))
    except (LookupError, NotRegistered) as exc:
        raise ListExportError(ERROR_NO_LIST) from exc
    if not isinstance(model_admin, ChangeListExportMixin):
        raise ListExportError(ERROR_NO_LIST)
    if not isinstance(actor, User):  # a job is a person's (jobs.services.job_start)
        raise ListExportError(ERROR_NO_VIEW)
    list_url = reverse(f"admin:{model_admin._changelist_url_name}")
    request = RequestFactory().get(f"{list_url}?{params['query']}")
    request.user = actor
    if not model_admin.has_view_permission(request):
        raise ListExportError(ERROR_NO_VIEW)
    try:
        changelist = model_admin.export_changelist(request)
    except IncorrectLookupParameters as exc:
        raise ListExportError(ERROR_BAD_LIST) from exc
    out = tempfile.TemporaryFile()  # the job stores it, then closes it
    rows = model_admin.export_write(request, changelist, out, progress=progress)
    return JobOutcome(
        text=EXPORTED.format(name=model_admin.export_filename, rows=rows),
        result={"model": params["model"], "rows": rows, "list_url": list_url},
        file=out,
        file_name=model_admin.export_file_name(),
    )
