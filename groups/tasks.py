"""Celery tasks: load ids, call a service. Safe to retry and to run twice at once
(the services are idempotent; acks_late redelivers a task whose worker died)."""

from __future__ import annotations

from celery import shared_task

from common.actors import SystemActor
from groups.models import ReconciliationRun, RosterSnapshot
from groups.services import reconcile_start_all
from groups.services.actions import roster_renames_tell
from groups.services.runs import run_execute, runs_execute, runs_sweep_stale
from groups.services.todo_notices import roster_todos_tell_opened


@shared_task(name="groups.reconcile_group")
def reconcile_group(snapshot_id: int, run_id: int | None = None) -> dict:
    snapshot = RosterSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:  # deleted since it was queued: nothing to do
        return {"snapshot": snapshot_id, "skipped": "snapshot not found"}
    run = ReconciliationRun.objects.filter(pk=run_id).first() if run_id else None
    if run is not None and run.status == ReconciliationRun.Status.FAILED and run.error:
        # docs/security.md, 5: a task redelivered after the sweeper gave its run up (and
        # queued the run's one retry): the retry does the work, not this.
        return {"snapshot": snapshot_id, "run": run.pk, "skipped": "run already failed"}
    return run_execute(snapshot=snapshot, run=run).as_dict()


@shared_task(name="groups.reconcile_family")
def reconcile_family(run_ids: list[int]) -> list[dict]:
    """One family's runs in order (queued by reconcile_all)."""
    return [result.as_dict() for result in runs_execute(run_ids)]


@shared_task(name="groups.reconcile_all")
def reconcile_all() -> int:
    """Nightly: a run per group with a snapshot, queued as one task per group family."""
    return len(reconcile_start_all(actor=SystemActor("task:groups.reconcile_all")))


@shared_task(name="groups.tell_renames")
def tell_renames(action_ids: list[int]) -> int:
    """After a reconciliation opened rename to-dos: tell each member once (§5.3.b)."""
    return roster_renames_tell(action_ids=action_ids)


@shared_task(name="groups.tell_todos_opened")
def tell_todos_opened(action_ids: list[int]) -> int:
    """After a reconciliation opened creator to-dos: tell each creator once (§5.1)."""
    return roster_todos_tell_opened(action_ids=action_ids)


# groups.handle_overdue_roster_actions is defined in violations.tasks: past the grace period
# an overdue to-do becomes a proposed case, and groups never imports violations.


@shared_task(name="groups.sweep_stale_runs")
def sweep_stale_runs() -> dict:
    """Every few minutes (beat): fail stuck runs and retry each once (docs/security.md, 5)."""
    result = runs_sweep_stale()
    return {"failed": result.failed, "retries": result.retries}
