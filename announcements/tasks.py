"""Celery tasks: a few lines each, calling a service; idempotent."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from announcements.services import approvals_escalate
from common.actors import SystemActor


@shared_task(name="announcements.escalate_approvals")
def escalate_approvals(now: str | None = None) -> dict:
    """Remind the approvers of late steps, escalate the steps a second period late. ``now``
    (ISO 8601 with its offset) for tests and replays; the beat passes none."""
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    result = approvals_escalate(
        now=moment, actor=SystemActor("task:announcements.escalate_approvals")
    )
    return {"reminded": result.reminded, "escalated": result.escalated, "told": result.told}
