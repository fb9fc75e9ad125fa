"""A real Celery worker on a real Redis broker, against a real PostgreSQL database.

Skipped, with the reason, where either is missing — unless REQUIRE_INTEGRATION=1
(what .ci/run sets for its PostgreSQL pass), where a skip would hide a broken
setup and so fails instead.
"""

from __future__ import annotations

import os

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection

from config.celery import app
from tests.groups.conftest import company  # noqa: F401 — the same small company

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def celery_worker(transactional_db):
    """Start a worker thread pool consuming from Redis; tasks go through the broker."""
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
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=20,
        ) as worker:
            yield worker
    finally:
        app.conf.update(saved)
        _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Drop the connection pools and the result backend Celery caches on first use.

    Eager tests before this one may have made them with the embedded default
    broker; left in place, .delay() would publish there, not to REDIS_URL.
    Celery has no public reset for an app's pools, hence the private names.
    """
    app._pool = None
    app.amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)  # the result backend, cached per thread
