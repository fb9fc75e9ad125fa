"""Celery tasks: load ids, call a service (idempotent: the period's rows are replaced)."""

from __future__ import annotations

from celery import shared_task

from appraisal.models import Period
from appraisal.services import period_compute
from common.actors import SystemActor

COMPUTE_TASK = "appraisal.compute_period"


@shared_task(name=COMPUTE_TASK)
def compute_period(period_id: int) -> dict:
    period = Period.objects.get(pk=period_id)
    summary = period_compute(period=period, actor=SystemActor(f"task:{COMPUTE_TASK}"))
    return {
        "period": summary.period,
        "employees": summary.employees,
        "lines": summary.lines,
        "adjustments": summary.adjustments,
        "deducted": str(summary.deducted),
    }
