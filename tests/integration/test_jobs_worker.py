"""Background jobs on a real worker process (Redis, PostgreSQL): the admin's 计算 button starts
a job the worker runs, as the person who pressed it, recording progress and result; the page's
JSON shows them; a refusal on the worker is recorded in Chinese (docs/background-jobs.md)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from appraisal.jobs import ERROR_PERIOD_GONE
from appraisal.models import Line, Period
from jobs.models import Job
from jobs.reporting import STARTED
from jobs.services import job_start
from notices.models import Notice

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_finished(job: Job, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job.pk} still {job.status} after {timeout}s")


def test_the_compute_button_runs_the_job_on_the_worker(
    client, hr, worker_processes, period_with_confirmed_cases
):
    worker = worker_processes()
    period = period_with_confirmed_cases
    client.force_login(hr)

    response = client.post(reverse("admin:appraisal_period_compute", args=[period.pk]))

    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    # Not run in this process (a broker is configured): the page says it runs in the background.
    page = client.get(response["Location"])
    assert any(STARTED.format(what="计算考核结果") in str(m) for m in page.context["messages"])
    status_url = reverse("jobs:status", args=[job.pk])
    deadline = time.monotonic() + 60
    while not (data := client.get(status_url).json())["finished"]:
        assert time.monotonic() < deadline, f"still {data['status_display']}"
        time.sleep(0.2)

    job.refresh_from_db()
    assert (data["status"], data["progress"], data["error"]) == ("done", 100, "")
    assert data["result_text"] == job.result_text
    assert job.result_text.startswith(f"{period.code} 已计算：")
    assert (job.result["lines"], job.result["deducted"]) == (20, "60.00")
    assert job.started_at is not None
    assert job.finished_at >= job.started_at
    assert Line.objects.filter(period=period).count() == 20
    period.refresh_from_db()
    assert (period.state, period.computed_by) == (Period.State.COMPUTED, hr)
    assert Notice.objects.filter(recipient=hr, subject_key=f"job:{job.pk}").exists()
    assert "jobs.run[" in worker.log.read_text()  # the worker process ran it


def test_a_refusal_on_the_worker_is_recorded_in_chinese(hr, worker_processes):
    worker_processes()
    job = job_start(kind=Job.Kind.PERIOD_COMPUTE, actor=hr, params={"period_id": 0})
    assert job.status == Job.Status.PENDING  # queued, not run here
    job = wait_finished(job)
    assert (job.status, job.error) == (Job.Status.FAILED, ERROR_PERIOD_GONE)
