"""Celery tasks: a few lines each, calling a service; idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from announcements.services import approvals_escalate
from common.actors import SystemActor


@shared_task(name="announcements.escalate_approvals")
def escalate_approvals() -> dict:
    """Remind the approvers of late steps, escalate the steps a second period late."""
    result = approvals_escalate(
        now=timezone.now(), actor=SystemActor("task:announcements.escalate_approvals")
    )
    return {"reminded": result.reminded, "escalated": result.escalated, "emails": result.emails}
