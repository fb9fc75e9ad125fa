"""Starting reconciliations: from the admin (queued), the nightly schedule, the shell."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from groups.models import ChatGroup, ReconciliationRun, RosterSnapshot
from groups.services.reconcile import ReconcileResult, snapshot_reconcile

logger = logging.getLogger(__name__)


def run_reconciliation(
    *,
    snapshot: RosterSnapshot,
    run: ReconciliationRun | None = None,
    judge_missing: bool = True,
) -> ReconcileResult:
    """snapshot_reconcile, recording a failure on the run before re-raising it."""
    try:
        return snapshot_reconcile(snapshot=snapshot, run=run, judge_missing=judge_missing)
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
    """The latest snapshot of each active group (of ``groups`` if given), family by family:
    a family's first group, then its other groups."""
    qs = ChatGroup.objects.filter(is_active=True)
    if groups is not None:
        qs = qs.filter(pk__in=[g.pk for g in groups])
    qs = qs.annotate(
        latest_snapshot=Subquery(
            RosterSnapshot.objects.filter(group=OuterRef("pk"))
            .order_by("-taken_at", "-pk")
            .values("pk")[:1]
        ),
        family_code=Coalesce("family__code", "code"),
    ).order_by("family_code", F("family").asc(nulls_first=True), "code")
    ids = [g.latest_snapshot for g in qs if g.latest_snapshot]
    by_id = RosterSnapshot.objects.select_related("group__family").in_bulk(ids)
    return [by_id[pk] for pk in ids]


def by_family(snapshots: list[RosterSnapshot]) -> list[list[RosterSnapshot]]:
    """Split latest_snapshots() into families, keeping their order."""
    families: dict[int, list[RosterSnapshot]] = {}
    for snapshot in snapshots:
        families.setdefault(snapshot.group.rules_group.pk, []).append(snapshot)
    return list(families.values())


def reconcile_runs(run_ids: list[int]) -> list[ReconcileResult]:
    """Reconcile one family's runs in order; the family-wide MISSING question is asked
    once, by the last run, when every other group of the family is reconciled.

    A group that fails is recorded as FAILED on its run; the others go on.
    """
    runs = ReconciliationRun.objects.select_related("snapshot__group").in_bulk(run_ids)
    results = []
    for index, run_id in enumerate(run_ids):
        run = runs.get(run_id)
        if run is None:
            continue
        try:
            results.append(
                run_reconciliation(
                    snapshot=run.snapshot, run=run, judge_missing=index == len(run_ids) - 1
                )
            )
        except Exception:
            logger.exception("reconciliation run %s failed", run_id)
    return results


def _create_runs(family: list[RosterSnapshot], actor) -> list[ReconciliationRun]:
    return [
        ReconciliationRun.objects.create(group_id=s.group_id, snapshot=s, started_by=actor)
        for s in family
    ]


@transaction.atomic
def reconcile_start_all(*, actor=None) -> list[ReconciliationRun]:
    """The nightly job: a run for the latest snapshot of every active group, queued as one
    task per family (a short task each, PITFALLS.md; MISSING judged once per family)."""
    from groups.tasks import reconcile_family  # tasks import services: import late

    all_runs = []
    for family in by_family(latest_snapshots()):
        runs = _create_runs(family, actor)
        run_ids = [run.pk for run in runs]
        transaction.on_commit(lambda ids=run_ids: reconcile_family.delay(ids))
        all_runs += runs
    return all_runs


def reconcile_now(*, groups=None, actor=None) -> list[ReconcileResult]:
    """Reconcile the latest snapshots here and now, family by family (the `reconcile` command)."""
    results = []
    for family in by_family(latest_snapshots(groups)):
        results += reconcile_runs([run.pk for run in _create_runs(family, actor)])
    return results
