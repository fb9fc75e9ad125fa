"""Faults never strand a run (docs/security.md, 5): the broker down, a run stuck for good.

The broker-down tests publish to a real, unreachable Redis address (nothing listens on
port 1), with the connect timeouts and publish-retry policy of config/settings/base.py:
no mock stands in for kombu.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from groups.models import Finding, ReconciliationRun, RosterSnapshot
from groups.services import reconcile_start
from groups.services.runs import (
    QUEUE_DOWN,
    QUEUE_DOWN_RETRIED,
    STALE_NOT_RETRIED,
    STALE_RETRIED,
    runs_sweep_stale,
)
from groups.tasks import reconcile_group
from tests.groups.conftest import SYSTEM, capture, compliant_rows
from tests.groups.test_roster_admin import post_file, xlsx_bytes
from tests.integration.conftest import _forget_broker_connections

ROWS = [(name, "") for name in compliant_rows()]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down():
    """Tasks really go to a broker, and nothing answers at its address."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=UNREACHABLE_BROKER, task_always_eager=False)
    _forget_broker_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_broker_connections()


def _stale_limit() -> dt.timedelta:
    return dt.timedelta(seconds=settings.RECONCILE_STALE_AFTER_SECONDS)


def _age(run: ReconciliationRun, by: dt.timedelta) -> None:
    """created_at is auto_now_add: move it back the way time would."""
    ReconciliationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - by)


# -- the broker is down --------------------------------------------------------------


# Transactional: the view's own commit sends the task, as in production (no ATOMIC_REQUESTS).
@pytest.mark.django_db(transaction=True)
def test_upload_with_the_broker_down_keeps_the_snapshot_and_says_checking_waits(
    client, hr_user, company, broker_down
):
    client.force_login(hr_user)
    started = time.monotonic()
    response = post_file(client, company.office, "群成员.xlsx", xlsx_bytes(ROWS))
    elapsed = time.monotonic() - started

    assert response.status_code == 302  # not a bare 500
    assert elapsed < 5, f"the upload waited {elapsed:.1f} s for a dead broker"
    snapshot = RosterSnapshot.objects.get()
    assert snapshot.members.count() == len(compliant_rows())
    run = ReconciliationRun.objects.get()
    assert (run.status, run.progress, run.dispatch_failed) == (
        ReconciliationRun.Status.PENDING,
        0,
        True,
    )
    assert run.error == QUEUE_DOWN
    page = client.get(response["Location"])
    messages = [str(m) for m in page.context["messages"]]
    assert messages == [f"已保存 {len(ROWS)} 名成员的快照，{QUEUE_DOWN}"]
    assert QUEUE_DOWN in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_reconcile_button_with_the_broker_down_says_checking_waits(
    client, hr_user, company, broker_down
):
    capture(company.office, *compliant_rows())
    client.force_login(hr_user)
    url = reverse("admin:groups_chatgroup_reconcile", args=[company.office.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    run = ReconciliationRun.objects.get()
    assert run.dispatch_failed
    assert run.status == ReconciliationRun.Status.PENDING
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [QUEUE_DOWN]
    assert QUEUE_DOWN in response.content.decode()


def test_a_run_the_queue_refused_is_retried_at_the_next_sweep(
    company, broker_down, django_capture_on_commit_callbacks
):
    snapshot = capture(company.office, *compliant_rows(), "快递小哥")
    with django_capture_on_commit_callbacks(execute=True):
        run = reconcile_start(snapshot=snapshot, actor=SYSTEM)
    assert ReconciliationRun.objects.get(pk=run.pk).dispatch_failed

    # The queue is back (in-process here): the sweep, which beat sends through it, retries.
    app.conf.update(task_always_eager=True)
    with django_capture_on_commit_callbacks(execute=True):
        result = runs_sweep_stale()

    run.refresh_from_db()
    assert result.failed == [run.pk]
    assert run.status == ReconciliationRun.Status.FAILED
    retry = run.retry
    assert run.error == QUEUE_DOWN_RETRIED.format(retry=retry.pk)
    assert (retry.status, retry.snapshot_id) == (ReconciliationRun.Status.DONE, snapshot.pk)
    assert Finding.objects.filter(group=company.office, status="open").count() == 1  # 快递小哥


# -- the sweeper -------------------------------------------------------------------------


def test_a_stuck_run_is_failed_with_its_reason_and_retried_once(
    company, django_capture_on_commit_callbacks
):
    snapshot = capture(company.office, *compliant_rows(), "快递小哥")
    stuck = ReconciliationRun.objects.create(
        group=company.office, snapshot=snapshot, status=ReconciliationRun.Status.RUNNING, progress=5
    )
    _age(stuck, _stale_limit() + dt.timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = runs_sweep_stale()

    stuck.refresh_from_db()
    retry = ReconciliationRun.objects.get(retry_of=stuck)
    assert result.failed == [stuck.pk]
    assert result.retries == [retry.pk]
    minutes = settings.RECONCILE_STALE_AFTER_SECONDS // 60
    assert stuck.status == ReconciliationRun.Status.FAILED
    assert stuck.finished_at is not None
    assert stuck.error == STALE_RETRIED.format(minutes=minutes, retry=retry.pk)
    assert (retry.status, retry.progress) == (
        ReconciliationRun.Status.DONE,
        100,
    )  # eager here: the retry ran


def test_a_retry_that_gets_stuck_too_is_failed_and_never_retried_again(
    company, django_capture_on_commit_callbacks
):
    snapshot = capture(company.office, *compliant_rows())
    first = ReconciliationRun.objects.create(
        group=company.office, snapshot=snapshot, status=ReconciliationRun.Status.FAILED
    )
    retry = ReconciliationRun.objects.create(
        group=company.office,
        snapshot=snapshot,
        status=ReconciliationRun.Status.RUNNING,
        retry_of=first,
    )
    _age(retry, _stale_limit() * 2)

    with django_capture_on_commit_callbacks(execute=True):
        result = runs_sweep_stale()
        again = runs_sweep_stale()

    retry.refresh_from_db()
    assert result.failed == [retry.pk]
    assert result.retries == []
    assert again.failed == again.retries == []
    assert retry.status == ReconciliationRun.Status.FAILED
    assert retry.error == STALE_NOT_RETRIED.format(
        minutes=settings.RECONCILE_STALE_AFTER_SECONDS // 60
    )
    assert ReconciliationRun.objects.count() == 2


def test_runs_within_the_limit_and_finished_runs_are_left_alone(company):
    snapshot = capture(company.office, *compliant_rows())
    fresh = ReconciliationRun.objects.create(
        group=company.office, snapshot=snapshot, status=ReconciliationRun.Status.RUNNING
    )
    _age(fresh, _stale_limit() - dt.timedelta(minutes=1))
    old_done = ReconciliationRun.objects.create(
        group=company.office, snapshot=snapshot, status=ReconciliationRun.Status.DONE, progress=100
    )
    _age(old_done, _stale_limit() * 10)

    assert runs_sweep_stale().failed == []
    statuses = dict(ReconciliationRun.objects.values_list("pk", "status"))
    assert statuses == {
        fresh.pk: ReconciliationRun.Status.RUNNING,
        old_done.pk: ReconciliationRun.Status.DONE,
    }


def test_the_task_redelivered_after_its_run_was_given_up_does_nothing(company):
    snapshot = capture(company.office, *compliant_rows(), "快递小哥")
    given_up = ReconciliationRun.objects.create(
        group=company.office,
        snapshot=snapshot,
        status=ReconciliationRun.Status.FAILED,
        error="超过 15 分钟未完成",
    )
    report = reconcile_group.delay(snapshot.pk, given_up.pk).get()
    given_up.refresh_from_db()
    assert report["skipped"] == "run already failed"
    assert given_up.status == ReconciliationRun.Status.FAILED
    assert given_up.summary == {}


def test_a_redelivered_family_task_skips_the_runs_given_up(company):
    from groups.tasks import reconcile_family

    snapshot = capture(company.office, *compliant_rows(), "快递小哥")
    given_up = ReconciliationRun.objects.create(
        group=company.office,
        snapshot=snapshot,
        status=ReconciliationRun.Status.FAILED,
        error="超过 15 分钟未完成",
    )
    assert reconcile_family.delay([given_up.pk]).get() == []
    given_up.refresh_from_db()
    assert (given_up.status, given_up.summary) == (ReconciliationRun.Status.FAILED, {})


def test_a_late_worker_finishing_a_run_given_up_leaves_it_failed(company):
    """The sweeper failed the run (and queued its retry) while a slow worker still had it:
    when that worker finishes, the run must not turn 完成 beside "已自动重新核对"."""
    from groups.services.runs import run_execute

    snapshot = capture(company.office, *compliant_rows(), "快递小哥")
    run = ReconciliationRun.objects.create(group=company.office, snapshot=snapshot)
    in_worker = ReconciliationRun.objects.get(pk=run.pk)  # what the worker loaded, still pending
    ReconciliationRun.objects.filter(pk=run.pk).update(
        status=ReconciliationRun.Status.FAILED, error="超过 15 分钟未完成"
    )

    run_execute(snapshot=snapshot, run=in_worker)

    run.refresh_from_db()
    assert (run.status, run.error) == (ReconciliationRun.Status.FAILED, "超过 15 分钟未完成")


def test_the_sweeper_is_scheduled_and_the_visibility_timeout_fits_the_longest_task():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stale-runs"]
    assert entry["task"] == "groups.sweep_stale_runs"
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    # The longest task measured takes seconds (docs/performance.md); an hour stranded
    # a killed task's run at "running 5%".
    assert 60 <= visibility <= 600
    assert settings.RECONCILE_STALE_AFTER_SECONDS > visibility
