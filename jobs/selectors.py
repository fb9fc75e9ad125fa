"""Reads: a person's own jobs, and the reconciliation runs they started (我的任务).

Nobody sees another person's job, the superuser included: a job holds what its owner
computed, exported or imported with their own permissions (docs/background-jobs.md).
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import QuerySet
from django.http import Http404

from jobs.models import Job

LISTED = 50  # the latest jobs 我的任务 shows
RUNS_LISTED = 20  # the latest reconciliation runs it shows


def jobs_of(user) -> QuerySet[Job]:
    """``user``'s own jobs, the latest first."""
    return Job.objects.filter(owner_id=user.pk).order_by("-created_at", "-pk")


def job_of(user, pk: int) -> Job:
    """``user``'s job ``pk``; another person's job is answered as if it did not exist."""
    job = jobs_of(user).filter(pk=pk).first()
    if job is None:
        raise Http404("没有这个任务。")
    return job


def reconciliation_runs_of(user) -> list:
    """The reconciliation runs ``user`` started, the latest first, with their group.

    Reconciliation keeps its own progress record (groups.ReconciliationRun, with its page);
    groups sits above this app (docs/architecture.md), so its model is looked up by label,
    never imported, and the list links to the run's own page."""
    run = apps.get_model("groups", "ReconciliationRun")
    return list(
        run.objects.filter(started_by_id=user.pk)
        .select_related("group")
        .order_by("-created_at", "-pk")[:RUNS_LISTED]
    )
