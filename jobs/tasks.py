"""Celery tasks: load the id, call the service."""

from __future__ import annotations

from celery import shared_task

from jobs.services import job_execute
from jobs.sweep import jobs_sweep

RUN_TASK = "jobs.run"


@shared_task(name=RUN_TASK)
def run_job(job_id: int) -> str:
    """Run one job (idempotent: a finished job is left alone); its status is the answer."""
    job = job_execute(job_id)
    return job.status if job is not None else "missing"


@shared_task(name="jobs.sweep")
def sweep_jobs() -> dict:
    """Stuck jobs sent again or failed, old result files deleted (jobs.sweep)."""
    return vars(jobs_sweep())
