"""A whole worker SIGKILLed mid-task: a new worker finishes the work (docs/security.md, 5).

Real worker processes (``celery -A config worker``, prefork) on Redis and PostgreSQL.
To kill *inside* a task, not before or after it, the test holds a row lock the task
needs halfway through, waits until PostgreSQL shows the worker waiting for it, and then
kills the worker's whole process group. The broker gives the unacknowledged task to the
next worker after the visibility timeout (KILL_TEST_VISIBILITY_TIMEOUT here; 5 minutes
in production, config/settings/base.py).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from appraisal.models import Line, Period, Result
from appraisal.services import period_compute
from appraisal.tasks import compute_period
from common.actors import SystemActor
from groups.models import ChatGroup, Finding, ReconciliationRun, RosterAction
from groups.services import reconcile_start
from groups.services.reconcile import snapshot_reconcile
from groups.services.runs import STALE_RETRIED, runs_sweep_stale
from tests.groups.conftest import SYSTEM, capture, compliant_rows
from tests.integration.conftest import KILL_TEST_VISIBILITY_TIMEOUT, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@contextmanager
def row_locked(table: str, where: str, params: list):
    """Hold a row lock from another connection until the block ends.

    FOR NO KEY UPDATE: it blocks the task's FOR UPDATE and DELETE, not this test's own
    inserts that reference the row (their foreign-key check takes FOR KEY SHARE).
    """
    with psycopg.connect(worker_database_url()) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE {where} FOR NO KEY UPDATE", params)  # noqa: S608
        yield
        other.rollback()


def _wait_until_a_worker_waits_for_the_lock(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.1)
    pytest.fail(f"no worker reached the locked row in {timeout}s")


def _wait_for(predicate, timeout: float = 90.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"not done {timeout}s after the new worker started")


def _open_findings() -> set[tuple]:
    return set(
        Finding.objects.filter(status=Finding.Status.OPEN).values_list(
            "group_id", "kind", "subject"
        )
    )


def test_worker_killed_mid_reconcile_the_next_worker_finishes_like_a_clean_run(
    worker_processes, company
):
    snapshot = capture(company.office, *compliant_rows(), "快递小哥", ("销售部-陈静", "chenjing"))
    first = worker_processes()
    with row_locked(ChatGroup._meta.db_table, "id = %s", [company.office.pk]):
        run = reconcile_start(snapshot=snapshot, actor=SYSTEM)  # committed: queued at once
        _wait_until_a_worker_waits_for_the_lock()
        run.refresh_from_db()
        # What the probe saw for an hour: the run at "running 5%", its worker gone.
        assert (run.status, run.progress) == (ReconciliationRun.Status.RUNNING, 5)
        first.kill()
    killed = time.monotonic()
    assert not Finding.objects.exists()  # the killed transaction left nothing

    worker_processes()
    recovered = _wait_for(
        lambda: ReconciliationRun.objects.get(pk=run.pk).status == ReconciliationRun.Status.DONE
    )
    run.refresh_from_db()
    print(  # the figure for docs/security.md, seen with -s
        f"\nreconcile: killed mid-run; new worker finished it {recovered:.1f} s after it"
        f" started, {time.monotonic() - killed:.1f} s after the kill"
    )

    # Equal to a clean run: everything the snapshot shows was opened once, and
    # reconciling the same snapshot again here finds nothing to change.
    findings = _open_findings()
    assert {kind for _, kind, _ in findings} == {Finding.Kind.STRANGER, Finding.Kind.DEPARTED}
    assert run.summary["opened"] == len(findings)
    actions = RosterAction.objects.count()
    clean = snapshot_reconcile(snapshot=snapshot)
    assert (clean.opened, clean.resolved, clean.kept) == (0, 0, len(findings))
    assert clean.counts == run.summary["counts"]
    assert _open_findings() == findings
    assert RosterAction.objects.count() == actions
    assert ReconciliationRun.objects.count() == 1  # redelivered, not retried: one run


def test_a_run_whose_task_the_broker_lost_is_failed_and_retried_by_the_sweeper(
    worker_processes, redis_broker, company
):
    """Redis restarted without persistence after the kill: no redelivery will ever come."""
    snapshot = capture(company.office, *compliant_rows(), "快递小哥", ("销售部-陈静", "chenjing"))
    first = worker_processes()
    with row_locked(ChatGroup._meta.db_table, "id = %s", [company.office.pk]):
        run = reconcile_start(snapshot=snapshot, actor=SYSTEM)
        _wait_until_a_worker_waits_for_the_lock()
        first.kill()
    redis.Redis.from_url(redis_broker).flushdb()  # the task is gone with the broker's memory
    worker_processes()
    time.sleep(KILL_TEST_VISIBILITY_TIMEOUT + 2)
    run.refresh_from_db()
    assert (run.status, run.progress) == (
        ReconciliationRun.Status.RUNNING,
        5,
    )  # stranded: only the sweeper helps

    ReconciliationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now()
        - dt.timedelta(seconds=settings.RECONCILE_STALE_AFTER_SECONDS + 60)
    )
    swept = runs_sweep_stale()  # what beat's sweep-stale-runs does; the retry goes to Redis
    (retry_pk,) = swept.retries
    recovered = _wait_for(
        lambda: ReconciliationRun.objects.get(pk=retry_pk).status == ReconciliationRun.Status.DONE,
        timeout=60,
    )
    print(  # the figure for docs/security.md, seen with -s
        f"\nsweeper: the retry of the stranded run was done {recovered:.1f} s after the sweep"
    )
    run.refresh_from_db()
    assert run.status == ReconciliationRun.Status.FAILED
    assert run.error == STALE_RETRIED.format(
        minutes=settings.RECONCILE_STALE_AFTER_SECONDS // 60, retry=retry_pk
    )
    findings = _open_findings()
    assert {kind for _, kind, _ in findings} == {Finding.Kind.STRANGER, Finding.Kind.DEPARTED}
    assert ReconciliationRun.objects.get(pk=retry_pk).summary["opened"] == len(findings)


def _rows(period: Period) -> tuple[list, list]:
    results = sorted(
        Result.objects.filter(period=period).values_list(
            "employee_id", "deducted", "warnings", "final_score", "grade"
        )
    )
    lines = sorted(
        Line.objects.filter(period=period).values_list("employee_id", "case_id", "points")
    )
    return results, lines


def test_worker_killed_mid_compute_the_next_worker_gives_the_rows_of_a_clean_run(
    worker_processes, period_with_confirmed_cases
):
    period = period_with_confirmed_cases
    period_compute(period=period, actor=SystemActor("test"))  # the clean run, in this process
    clean = _rows(period)
    clean_at = Period.objects.get(pk=period.pk).computed_at
    assert len(clean[1]) == 20

    # period_compute locks the period, computes every row, then deletes the stored rows that
    # differ from the new ones and inserts those: one Result made stale (a wrong grade) and
    # locked holds it there, with the new rows computed and the delete waiting.
    stale = Result.objects.filter(period=period).values_list("pk", flat=True).first()
    Result.objects.filter(pk=stale).update(grade="X")
    before = _rows(period)
    assert before != clean

    first = worker_processes()
    with row_locked(Result._meta.db_table, "period_id = %s AND id = %s", [period.pk, stale]):
        compute_period.delay(period.pk)
        _wait_until_a_worker_waits_for_the_lock()
        first.kill()
    killed = time.monotonic()
    assert _rows(period) == before  # the killed transaction rolled back

    worker_processes()
    recovered = _wait_for(lambda: Period.objects.get(pk=period.pk).computed_at > clean_at)
    print(  # the figure for docs/security.md, seen with -s
        f"\ncompute: killed mid-run; new worker finished it {recovered:.1f} s after it"
        f" started, {time.monotonic() - killed:.1f} s after the kill"
    )
    assert _rows(period) == clean
    assert Period.objects.get(pk=period.pk).state == Period.State.COMPUTED
