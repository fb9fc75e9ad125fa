"""Celery tasks: a few lines each; the service is idempotent (a second run proposes nothing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from common.actors import SystemActor
from directives.services import directives_follow_up


@shared_task(name="directives.follow_up")
def follow_up(now: str | None = None) -> dict:
    """§7.2/§9.9: reminders before the deadlines, proposed cases after them. ``now`` (ISO
    8601 with its offset) for tests and replays; the beat passes none."""
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    return asdict(directives_follow_up(actor=SystemActor("task:directives.follow_up"), now=moment))
