"""What the page that started a job tells its user (a message on the next page)."""

from __future__ import annotations

from django.contrib import messages
from django.urls import reverse
from django.utils.html import format_html

from jobs.models import Job

STARTED = "{what}已在后台开始，完成后会通知你；可以离开本页，稍后在"


def job_report(request, job: Job) -> None:
    """The result when the job already ended (no broker: it ran in the request), otherwise
    that it runs in the background, with a link to 我的任务."""
    if job.status == Job.Status.DONE:
        messages.success(request, job.result_text)
    elif job.status == Job.Status.FAILED:
        messages.error(request, job.error)
    else:
        messages.info(
            request,
            format_html(
                '{}<a href="{}">我的任务</a>中查看结果。',
                STARTED.format(what=job.get_kind_display()),
                reverse("jobs:mine"),
            ),
        )
