"""Celery tasks: a few lines each; the service is idempotent (a second run proposes nothing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from common.actors import SystemActor
from directives.services import directives_follow_up
from directives.services.directive_notices import assignees_tell


@shared_task(name="directives.follow_up")
def follow_up(now: str | None = None) -> dict:
    """§7.2/§9.9: reminders before the deadlines, proposed cases after them. ``now`` (ISO
    8601 with its offset) for tests and replays; the beat passes none."""
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    return asdict(directives_follow_up(actor=SystemActor("task:directives.follow_up"), now=moment))


@shared_task(name="directives.tell_assignees")
def tell_assignees(
    directive_id: int,
    assignment_ids: list[int],
    exclude_user_id: int | None,
    now: str,
    queued_at: str | None = None,
) -> int:
    """A new directive's assignees told of their parts, after it committed (§7.2); how long
    it waited in the queue counts when telling whether the digest would be too late."""
    return assignees_tell(
        directive_id=directive_id,
        assignment_ids=assignment_ids,
        exclude_user_id=exclude_user_id,
        now=dt.datetime.fromisoformat(now),
        queued_at=dt.datetime.fromisoformat(queued_at) if queued_at else None,
    )
