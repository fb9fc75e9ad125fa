"""Starting reconciliations: from the admin (queued), the nightly schedule, the shell."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from groups.models import ChatGroup, ReconciliationRun, RosterSnapshot
from groups.services.reconcile import ReconcileResult, snapshot_reconcile

logger = logging.getLogger(__name__)

# issue 9, point 5: what a run says when the queue refused it, and when the sweeper
# found it stuck. The tests reuse these.
QUEUE_DOWN = "任务队列暂不可用，核对尚未开始；队列恢复后将自动核对（无需重新上传）。"
STALE_RETRIED = "超过 {minutes} 分钟未完成（任务队列或执行进程中断），已标记失败并自动重新核对一次（核对 #{retry}）。"
QUEUE_DOWN_RETRIED = "任务队列曾不可用，核对未能开始；队列已恢复，已自动重新核对（核对 #{retry}）。"
STALE_NOT_RETRIED = "超过 {minutes} 分钟未完成（任务队列或执行进程中断），已标记失败；已自动重试过一次，不再重试，请检查后重新核对。"

UNFINISHED = (ReconciliationRun.Status.PENDING, ReconciliationRun.Status.RUNNING)


def _send(runs: list[ReconciliationRun], send: Callable[[], object]) -> None:
    """Queue a task; if the broker cannot take it, say so on its runs instead of failing.

    Called on commit, so the snapshot and the runs are kept whatever happens here
    (issue 9, point 5: never a bare 500 for an upload when Redis is down).
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
    transaction.on_commit(lambda: _send([run], lambda: reconcile_group.delay(snapshot.pk, run.pk)))
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
        if run is None or run.status not in UNFINISHED:
            continue  # a redelivered task: the sweeper gave this run up and retried it
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
        transaction.on_commit(
            lambda runs=runs, ids=run_ids: _send(runs, lambda: reconcile_family.delay(ids))
        )
        all_runs += runs
    return all_runs


def reconcile_now(*, groups=None, actor=None) -> list[ReconcileResult]:
    """Reconcile the latest snapshots here and now, family by family (the `reconcile` command)."""
    results = []
    for family in by_family(latest_snapshots(groups)):
        results += reconcile_runs([run.pk for run in _create_runs(family, actor)])
    return results


@dataclass
class SweepResult:
    failed: list[int] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)


@transaction.atomic
def runs_sweep_stale(*, now: dt.datetime | None = None) -> SweepResult:
    """issue 9, point 5: no run stays pending or running forever.

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
            transaction.on_commit(
                lambda retry=retry: _send(
                    [retry], lambda: _reconcile_group().delay(retry.snapshot_id, retry.pk)
                )
            )
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
