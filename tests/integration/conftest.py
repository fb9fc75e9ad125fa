"""A real Celery worker on a real Redis broker, against a real PostgreSQL database.

Skipped, with the reason, where either is missing — unless REQUIRE_INTEGRATION=1
(what .ci/run sets for its PostgreSQL pass), where a skip would hide a broken
setup and so fails instead.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from appraisal.services import period_get_or_create
from config.celery import app
from tests.factories import ChatGroupFactory, EmployeeFactory
from tests.groups.conftest import company  # noqa: F401 — the same small company
from violations.models import Rule
from violations.services import case_confirm, case_file

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_broker(transactional_db):
    """Tasks sent from this process go to the Redis at REDIS_URL (emptied first)."""
    if connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    redis.Redis.from_url(REDIS_URL).flushdb()  # no task left over from an earlier run
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    # Results on Redis too, so that a test can wait for a task's return value.
    app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False)
    _forget_broker_connections()
    try:
        yield REDIS_URL
    finally:
        app.conf.update(saved)
        _forget_broker_connections()


@pytest.fixture
def celery_worker(redis_broker):
    """Start a worker thread pool consuming from Redis; tasks go through the broker."""
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=20,
    ) as worker:
        yield worker


def _forget_broker_connections() -> None:
    """Drop the connection pools and the result backend Celery caches on first use.

    Eager tests before this one may have made them with the embedded default
    broker; left in place, .delay() would publish there, not to REDIS_URL.
    Celery has no public reset for an app's pools, hence the private names.
    """
    app._pool = None
    app.amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)  # the result backend, cached per thread


# docs/security.md, 5: a killed worker's task comes back after the broker's visibility
# timeout; these short values (seconds, not production's minutes) keep a kill test
# well under a minute. They reach the worker through the environment, as in production.
KILL_TEST_VISIBILITY_TIMEOUT = 3


def worker_database_url() -> str:
    """The test database (test_<name>), on the server and with the login of DATABASE_URL."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))


class WorkerProcess:
    """``celery -A config worker`` as its own process group, on the test database."""

    def __init__(self, broker_url: str, log: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(KILL_TEST_VISIBILITY_TIMEOUT),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        }
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and args
                [
                    sys.executable,
                    *("-m", "celery", "-A", "config", "worker"),
                    *("--pool=prefork", "--concurrency=1", "--loglevel=INFO"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                    f"--hostname=kill-test-{time.monotonic_ns()}@%h",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes every child
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"worker not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool children alike."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_processes(redis_broker, tmp_path):
    """Start real worker processes with ``start()``; every one is stopped at the end."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(redis_broker, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def period_with_confirmed_cases(seeded, hr, hr2):
    """Last month's period with 20 confirmed §9.4 cases (3 points each), not yet computed."""
    group = ChatGroupFactory()
    when = timezone.now().replace(day=1) - dt.timedelta(days=10)  # last month
    for i in range(20):
        case = case_file(
            rule=Rule.objects.get(code="9.4"),
            employee=EmployeeFactory(),
            group=group,
            occurred_at=when,
            description=f"案件{i}",
            actor=hr,
        )
        case_confirm(case=case, actor=hr2)  # four eyes: another HR confirms
    return period_get_or_create(code=f"{when:%Y-%m}")
