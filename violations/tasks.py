"""Celery tasks of violations: load ids, call a service, as the system (common.actors)."""

from __future__ import annotations

from celery import shared_task

from common.actors import SystemActor
from violations.services.roster_cases import roster_actions_handle_overdue

OVERDUE_TASK = "groups.handle_overdue_roster_actions"


# Defined here, not in groups.tasks: escalating an overdue to-do proposes a case, and groups
# never imports violations. It keeps its name, which the beat schedule
# (config/settings/base.py, CELERY_BEAT_SCHEDULE) and the schedules already in the database
# (django-celery-beat) refer to.
@shared_task(name=OVERDUE_TASK)
def handle_overdue_roster_actions() -> dict:
    """Daily (beat): §5.1 reminders, then proposals past the grace period, in one transaction."""
    result = roster_actions_handle_overdue(actor=SystemActor(f"task:{OVERDUE_TASK}"))
    return {
        "reminded": result.reminded,
        "emails": result.emails,
        "proposed": result.proposed_cases,
        "untold_renames": result.untold_renames,
        "reported_renames": result.reported_renames,
    }
