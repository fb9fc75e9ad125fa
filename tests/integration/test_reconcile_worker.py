"""reconcile_group through a real worker on Redis and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from groups.models import Finding, ReconciliationRun, RosterAction
from groups.services import reconcile_start
from groups.tasks import reconcile_group
from tests.groups.conftest import SYSTEM, capture, compliant_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FINISHED = {
    ReconciliationRun.Status.DONE,
    ReconciliationRun.Status.FAILED,
    ReconciliationRun.Status.SKIPPED,
}


def _wait(runs, timeout: float = 60.0) -> list[ReconciliationRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [ReconciliationRun.objects.get(pk=r.pk) for r in runs]
        if all(r.status in FINISHED for r in fresh):
            return fresh
        time.sleep(0.2)
    pytest.fail(f"runs not finished after {timeout}s: {[(r.pk, r.status) for r in fresh]}")


def test_reconcile_group_runs_on_a_real_worker(celery_worker, company):
    snapshot = capture(company.office, *compliant_rows(), "快递小哥", ("销售部-陈静", "chenjing"))
    with transaction.atomic():
        run = reconcile_start(snapshot=snapshot, actor=SYSTEM)
        # Dispatched on commit: nothing has been sent while the transaction is open.
        assert ReconciliationRun.objects.get(pk=run.pk).status == ReconciliationRun.Status.PENDING
    (run,) = _wait([run])
    assert run.status == ReconciliationRun.Status.DONE, run.error
    assert run.progress == 100
    kinds = set(Finding.objects.filter(status="open").values_list("kind", flat=True))
    assert kinds == {Finding.Kind.STRANGER, Finding.Kind.DEPARTED}


def test_two_runs_of_one_snapshot_at_once_make_no_duplicates(celery_worker, company):
    snapshot = capture(company.office, *compliant_rows()[:3], "快递小哥", "陈静")
    runs = [
        ReconciliationRun.objects.create(group=company.office, snapshot=snapshot) for _ in range(4)
    ]
    for run in runs:  # four at once on a worker with two threads
        reconcile_group.delay(snapshot.pk, run.pk)
    runs = _wait(runs)
    assert {r.status for r in runs} == {ReconciliationRun.Status.DONE}, [r.error for r in runs]
    open_findings = Finding.objects.filter(status="open")
    keys = list(open_findings.values_list("kind", "subject"))
    assert len(keys) == len(set(keys)) == 4  # stranger, departed, two missing
    assert RosterAction.objects.count() == 4
    assert sum(r.summary["opened"] for r in runs) == 4  # opened once, kept thereafter
