"""我的任务, a job's progress page (polled), its status as JSON, and its file.

Every view answers only the job's owner (jobs.selectors: another's job is a 404) and is
wrapped by the admin's own login check (jobs.urls): the pages are the admin's pages.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe

from common.downloads import file_response
from jobs.models import Job
from jobs.runners import FILE_ACCESS
from jobs.selectors import LISTED, job_of, jobs_of, reconciliation_runs_of

POLL_SECONDS = 1  # how often the page asks while a job runs (a meta refresh: 3 s)


def _download_url(job: Job) -> str:
    return reverse("jobs:download", args=[job.pk]) if job.result_file else ""


@require_safe
def mine(request) -> TemplateResponse:
    """我的任务: the person's latest jobs and the reconciliation runs they started."""
    jobs = list(jobs_of(request.user)[:LISTED])
    for job in jobs:
        job.download_url = _download_url(job)
    context = {
        **admin.site.each_context(request),
        "title": "我的任务",
        "jobs": jobs,
        "runs": reconciliation_runs_of(request.user),
    }
    return TemplateResponse(request, "jobs/mine.html", context)


@require_safe
def detail(request, pk: int) -> TemplateResponse:
    """One job's progress: polled by a few lines of script, or refreshed without script."""
    job = job_of(request.user, pk)
    context = {
        **admin.site.each_context(request),
        "title": f"{job.get_kind_display()}{'：' + job.subject if job.subject else ''}",
        "job": job,
        "download_url": _download_url(job),
        "status_url": reverse("jobs:status", args=[job.pk]),
        "poll_ms": POLL_SECONDS * 1000,
    }
    return TemplateResponse(request, "jobs/detail.html", context)


@require_safe
def status(request, pk: int) -> JsonResponse:
    job = job_of(request.user, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "progress": job.progress,
            "finished": job.finished,
            "result_text": job.result_text,
            "error": job.error,
            "download_url": _download_url(job),
        }
    )


@require_safe
def download(request, pk: int) -> HttpResponseBase:
    """The job's file, to its owner only, under its Chinese name."""
    job = job_of(request.user, pk)
    if not job.result_file:
        raise Http404("这个任务没有文件。")
    check = FILE_ACCESS.get(job.kind)
    if check is not None and not import_string(check)(request, job):
        raise PermissionDenied  # the right the file needs, lost since the job ran
    try:
        handle = job.result_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件已不存在。") from exc
    response = file_response(handle, filename=job.result_name or job.result_file.name)
    response["Cache-Control"] = "private, no-store"
    return response
