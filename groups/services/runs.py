"""Reconciliation runs: one door per use, each recording a ReconciliationRun.

- ``reconcile_start(snapshot=, actor=)`` — the admin's upload and button, HR's identity
  decisions: the run is queued for the worker; ``in_process=True`` (import_roster) runs it here;
- ``reconcile_start_all(actor=)`` — the nightly schedule: every active group, one task a family;
- ``reconcile_now(actor=, groups=)`` — the `reconcile` command and the demo: here and now.

The worker executes queued runs with ``run_execute``/``runs_execute`` (groups.tasks), and
``runs_sweep_stale`` fails and retries the runs that never finish (docs/security.md, 5).
The pipeline itself is ``groups.services.reconcile.snapshot_reconcile``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from common.actors import Actor, actor_user, require_actor
from groups.models import ChatGroup, ReconciliationRun, RosterSnapshot
from groups.services.reconcile import ReconcileResult, snapshot_reconcile

logger = logging.getLogger(__name__)

# docs/security.md, 5: what a run says when the queue refused it, and when the sweeper
# found it stuck. The tests reuse these.
QUEUE_DOWN = "任务队列暂不可用，核对尚未开始；队列恢复后将自动核对（无需重新上传）。"
STALE_RETRIED = "超过 {minutes} 分钟未完成（任务队列或执行进程中断），已标记失败并自动重新核对一次（核对 #{retry}）。"
QUEUE_DOWN_RETRIED = "任务队列曾不可用，核对未能开始；队列已恢复，已自动重新核对（核对 #{retry}）。"
STALE_NOT_RETRIED = "超过 {minutes} 分钟未完成（任务队列或执行进程中断），已标记失败；已自动重试过一次，不再重试，请检查后重新核对。"

UNFINISHED = (ReconciliationRun.Status.PENDING, ReconciliationRun.Status.RUNNING)


def _send(runs: list[ReconciliationRun], send: Callable[[], object]) -> None:
    """Queue a task; if the broker cannot take it, say so on its runs instead of failing.

    Called on commit, so the snapshot and the runs are kept whatever happens here
    (docs/security.md, 5: never a bare 500 for an upload when Redis is down).
    """
    from config.celery import app  # the app imports settings: import late

    if app.conf.task_always_eager:  # in-process: its errors are the run's own, raise them
        send()
        return
    try:
        send()
    except (KombuOperationalError, RedisError, OSError):  # the kinds an unreachable broker raises
        logger.exception("could not queue reconciliation runs %s", [r.pk for r in runs])
        ReconciliationRun.objects.filter(pk__in=[r.pk for r in runs], status__in=UNFINISHED).update(
            dispatch_failed=True, error=QUEUE_DOWN
        )
        for run in runs:
            run.dispatch_failed, run.error = True, QUEUE_DOWN


# --- The three doors: one per use ------------------------------------------------------


def reconcile_start(
    *, snapshot: RosterSnapshot, actor: Actor, in_process: bool = False
) -> ReconciliationRun:
    """Record a run of ``snapshot`` and reconcile it: queued for the worker (the admin's
    upload and button, HR's identity decisions), or here and now with ``in_process=True``
    (the import_roster command, which prints the result). Either way the run shows on the
    group's page with who started it; a run that fails is recorded FAILED and, in process,
    its error raised."""
    if in_process:
        run = _create_runs([snapshot], actor)[0]
        run_execute(snapshot=snapshot, run=run)
        return run
    return _queue(snapshot, actor)


@transaction.atomic
def reconcile_start_all(*, actor: Actor) -> list[ReconciliationRun]:
    """The nightly job: a run for the latest snapshot of every active group, queued as one
    task per family (a short task each; MISSING judged once per family)."""
    from groups.tasks import reconcile_family  # tasks import services: import late

    require_actor(actor)  # also when there is no group to reconcile
    all_runs = []
    for family in _by_family(latest_snapshots()):
        runs = _create_runs(family, actor)
        run_ids = [run.pk for run in runs]
        transaction.on_commit(partial(_send, runs, partial(reconcile_family.delay, run_ids)))
        all_runs += runs
    return all_runs


def reconcile_now(*, actor: Actor, groups=None) -> list[ReconcileResult]:
    """Reconcile the latest snapshots of ``groups`` (all active groups when None) here and
    now, family by family, each as a recorded run (the `reconcile` command, the demo)."""
    require_actor(actor)  # also when there is no group to reconcile
    results = []
    for family in _by_family(latest_snapshots(groups)):
        results += runs_execute([run.pk for run in _create_runs(family, actor)])
    return results


# --- The worker's side (groups.tasks): a recorded run executed -------------------------


def run_execute(
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


def runs_execute(run_ids: list[int]) -> list[ReconcileResult]:
    """Reconcile one family's runs in order; the family-wide MISSING question is asked
    once, by the last run, when every other group of the family is reconciled.

    A group that fails is recorded as FAILED on its run; the others go on.
    """
    runs = ReconciliationRun.objects.select_related("snapshot__group").in_bulk(run_ids)
    results = []
    for index, run_id in enumerate(run_ids):
        run = runs.get(run_id)
        if run is None or run.status not in UNFINISHED:
            continue  # a redelivered task: the sweeper gave this run up and retried it
        try:
            results.append(
                run_execute(snapshot=run.snapshot, run=run, judge_missing=index == len(run_ids) - 1)
            )
        except Exception:
            logger.exception("reconciliation run %s failed", run_id)
    return results


# --- Which snapshots, and the runs recorded for them -----------------------------------


@transaction.atomic
def _queue(snapshot: RosterSnapshot, actor: Actor) -> ReconciliationRun:
    """One run, its task sent after this transaction commits."""
    run = _create_runs([snapshot], actor)[0]
    transaction.on_commit(
        lambda: _send([run], lambda: _reconcile_group().delay(snapshot.pk, run.pk))
    )
    return run


def _create_runs(snapshots: list[RosterSnapshot], actor: Actor) -> list[ReconciliationRun]:
    started_by = actor_user(actor)  # the system (a task, a command) is stored as no one
    # One INSERT for the family (a hundred groups at 50,000 employees), keys returned in order.
    return ReconciliationRun.objects.bulk_create(
        ReconciliationRun(group_id=s.group_id, snapshot=s, started_by=started_by) for s in snapshots
    )


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


def _by_family(snapshots: list[RosterSnapshot]) -> list[list[RosterSnapshot]]:
    """Split latest_snapshots() into families, keeping their order."""
    families: dict[int, list[RosterSnapshot]] = {}
    for snapshot in snapshots:
        families.setdefault(snapshot.group.rules_group.pk, []).append(snapshot)
    return list(families.values())


@dataclass
class SweepResult:
    failed: list[int] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)


@transaction.atomic
def runs_sweep_stale(*, now: dt.datetime | None = None) -> SweepResult:
    """No run stays pending or running forever (docs/security.md, 5).

    Guarantees: a run still pending/running ``RECONCILE_STALE_AFTER_SECONDS`` after it
    was created — or one the queue refused (``dispatch_failed``), at the first sweep —
    is marked FAILED with a Chinese reason; each such run is retried once as a new run
    (``retry_of``, a one-to-one key, so never twice), and a retry is never retried.
    Rows are locked and ones another sweep holds are skipped: two sweeps at once
    retry nothing twice. The retries are queued after commit.
    """
    now = now or timezone.now()
    limit = settings.RECONCILE_STALE_AFTER_SECONDS
    minutes = max(1, limit // 60)
    stale = list(
        ReconciliationRun.objects.select_for_update(skip_locked=True)
        .filter(status__in=UNFINISHED)
        .filter(
            Q(created_at__lt=now - dt.timedelta(seconds=limit))
            | Q(dispatch_failed=True, status=ReconciliationRun.Status.PENDING)
        )
        .order_by("pk")
    )
    already_retried = set(
        ReconciliationRun.objects.filter(retry_of__in=stale).values_list("retry_of_id", flat=True)
    )
    result = SweepResult()
    for run in stale:
        run.status = ReconciliationRun.Status.FAILED
        run.finished_at = now
        if run.retry_of_id is None and run.pk not in already_retried:
            retry = ReconciliationRun.objects.create(
                group_id=run.group_id,
                snapshot_id=run.snapshot_id,
                started_by_id=run.started_by_id,
                retry_of=run,
            )
            reason = QUEUE_DOWN_RETRIED if run.dispatch_failed else STALE_RETRIED
            run.error = reason.format(minutes=minutes, retry=retry.pk)
            send = partial(_reconcile_group().delay, retry.snapshot_id, retry.pk)
            transaction.on_commit(partial(_send, [retry], send))
            result.retries.append(retry.pk)
        else:
            run.error = STALE_NOT_RETRIED.format(minutes=minutes)
        run.save(update_fields=["status", "finished_at", "error"])
        result.failed.append(run.pk)
        logger.warning("reconciliation run %s stuck: %s", run.pk, run.error)
    return result


def _reconcile_group():
    from groups.tasks import reconcile_group  # tasks import services: import late

    return reconcile_group
