"""Starting reconciliations: from the admin (queued), the nightly schedule, the shell."""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from groups.models import ChatGroup, ReconciliationRun, RosterSnapshot
from groups.services.reconcile import ReconcileResult, snapshot_reconcile


def run_reconciliation(
    *, snapshot: RosterSnapshot, run: ReconciliationRun | None = None
) -> ReconcileResult:
    """snapshot_reconcile, recording a failure on the run before re-raising it."""
    try:
        return snapshot_reconcile(snapshot=snapshot, run=run)
    except Exception as exc:
        if run is not None:
            ReconciliationRun.objects.filter(pk=run.pk).update(
                status=ReconciliationRun.Status.FAILED,
                error=f"{type(exc).__name__}: {exc}",
                finished_at=timezone.now(),
            )
        raise


@transaction.atomic
def reconcile_start(*, snapshot: RosterSnapshot, actor=None) -> ReconciliationRun:
    """Queue a reconciliation of ``snapshot``; the task runs after this transaction commits."""
    from groups.tasks import reconcile_group  # tasks import services: import late

    run = ReconciliationRun.objects.create(
        group_id=snapshot.group_id, snapshot=snapshot, started_by=actor
    )
    transaction.on_commit(lambda: reconcile_group.delay(snapshot.pk, run.pk))
    return run


def latest_snapshots(groups=None) -> list[RosterSnapshot]:
    """The latest snapshot of each active group (of ``groups`` if given), in group order."""
    qs = ChatGroup.objects.filter(is_active=True).order_by("code")
    if groups is not None:
        qs = qs.filter(pk__in=[g.pk for g in groups])
    qs = qs.annotate(
        latest_snapshot=Subquery(
            RosterSnapshot.objects.filter(group=OuterRef("pk"))
            .order_by("-taken_at", "-pk")
            .values("pk")[:1]
        )
    )
    ids = [g.latest_snapshot for g in qs if g.latest_snapshot]
    by_id = RosterSnapshot.objects.select_related("group").in_bulk(ids)
    return [by_id[pk] for pk in ids]


@transaction.atomic
def reconcile_start_all(*, actor=None) -> list[ReconciliationRun]:
    """Queue a run for the latest snapshot of every active group (the nightly job)."""
    return [reconcile_start(snapshot=s, actor=actor) for s in latest_snapshots()]


def reconcile_now(*, groups=None, actor=None) -> list[ReconcileResult]:
    """Reconcile the latest snapshots here and now (the `reconcile` command)."""
    results = []
    for snapshot in latest_snapshots(groups):
        run = ReconciliationRun.objects.create(
            group_id=snapshot.group_id, snapshot=snapshot, started_by=actor
        )
        results.append(run_reconciliation(snapshot=snapshot, run=run))
    return results
