"""Celery tasks: a few lines each; the service is idempotent (a second run proposes nothing)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from common.actors import SystemActor
from directives.services import directives_follow_up


@shared_task(name="directives.follow_up")
def follow_up() -> dict:
    """§7.2/§9.9: reminders before the deadlines, proposed cases after them."""
    return asdict(directives_follow_up(actor=SystemActor("task:directives.follow_up")))
