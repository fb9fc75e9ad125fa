"""Benchmark: reconciling every group of a 20,000-person company (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/reconcile.py [--employees 20000] [--fresh]
    .venv/bin/python bench/reconcile.py --database postgres --employees 50000
    .venv/bin/python bench/reconcile.py --database postgres --worker 2 [--broker redis://…]

It builds the demo company (bench/_db.py: SQLite or PostgreSQL, built once per size and
ANALYZEd after the bulk load, a fresh copy per run), captures a roster for every group — the
four groups of §4, split into WeChat-sized families (≤ 500 members each) — then times
`reconcile_now()` over all groups twice (the second run finds nothing new: the idempotent
re-run), and counts the SQL queries of one group's reconciliation at 50 and at 500 members.

``--worker N`` times instead the path the nightly job takes where it is deployed:
``reconcile_start_all()`` queues one task per group family on the broker (Redis), and a real
``celery -A config worker --concurrency N`` (the Makefile's and README's 2) started on the
run's database executes them; a run ends when every recorded run has finished. Families are
independent, so N processes reconcile N of them at once (the largest family stays serial).
The CPU reported is then the machine's (every process: the worker, PostgreSQL, this script's
polling), so run it on a quiet machine.

Name matching must stay bounded as the company grows (namesakes multiply with headcount):
the benchmark counts the employee rows the matcher reads (groups.matching._load_employees)
per roster member matched, and the time spent reading them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import (  # noqa: E402 — after sys.path
    add_database_arguments,
    cpu_times,
    database_label,
    load_average,
    open_database,
)


class _Reads:
    """Rows and time of the matcher's employee reads, members it matched."""

    def __init__(self) -> None:
        self.rows = self.members = 0
        self.seconds = 0.0

    def install(self) -> None:
        from groups import matching

        load, match = matching._load_employees, matching.match_members

        def counted_load(*args, **kwargs):
            start = time.perf_counter()
            rows = load(*args, **kwargs)
            self.seconds += time.perf_counter() - start
            self.rows += len(rows)
            return rows

        def counted_match(group, members, *args, **kwargs):
            self.members += len(members)
            return match(group, members, *args, **kwargs)

        matching._load_employees = counted_load
        matching.match_members = counted_match
        # reconcile imported the name; point it at the counting one too.
        import groups.services.reconcile as reconcile

        reconcile.match_members = counted_match

    def take(self) -> str:
        per = self.rows / self.members if self.members else 0.0
        text = (
            f"{self.rows} employee rows read for {self.members} members matched "
            f"({per:.2f} per member, {self.seconds:.2f} s)"
        )
        self.rows = self.members = 0
        self.seconds = 0.0
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--worker",
        type=int,
        metavar="N",
        help="the nightly path: one task per family on a real Celery worker of N processes",
    )
    parser.add_argument(
        "--broker", default="redis://127.0.0.1:6379/14", help="with --worker: the Redis to use"
    )
    add_database_arguments(parser)
    args = parser.parse_args()
    if args.worker and args.database != "postgres":
        parser.error("--worker needs --database postgres (SQLite has one writer at a time)")

    timings: dict[str, float] = {}

    def build() -> None:
        from django.core.management import call_command
        from django.utils import timezone

        from company.demo.build import demo_company_build
        from company.demo.rosters import demo_rosters_apply
        from company.demo.write import demo_company_apply

        call_command("migrate", verbosity=0)
        call_command("seed_policy", stdout=open(os.devnull, "w"))
        t0 = time.perf_counter()
        company = demo_company_build(
            employees=args.employees, seed=args.seed, today=timezone.localdate()
        )
        demo_company_apply(company=company, password=None)
        t1 = time.perf_counter()
        demo_rosters_apply(seed=args.seed, reconcile=False)
        timings["company"], timings["rosters"] = t1 - t0, time.perf_counter() - t1

    open_database(args, name=f"reconcile_{args.employees}_s{args.seed}", build=build)

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.actors import SystemActor
    from groups.models import ChatGroup, RosterMember
    from groups.services import reconcile_now
    from groups.services.roster import RosterRow, roster_snapshot_create
    from members.models import Employee

    # A base built before a later migration (an index) is brought up to date on the copy.
    call_command("migrate", verbosity=0)
    reads = _Reads()
    reads.install()
    print(f"{database_label(args)}, {load_average()}")
    if timings:
        print(
            f"built in {timings['company']:.1f} s (company), {timings['rosters']:.1f} s (rosters)"
        )
    groups = ChatGroup.objects.filter(is_active=True).count()
    latest = [latest_of(g) for g in ChatGroup.objects.filter(is_active=True)]
    members = sum(s.member_count for s in latest if s)
    biggest = max(s.member_count for s in latest if s)
    print(f"company: {Employee.objects.count()} employees")
    print(
        f"rosters: {groups} groups, {members} members in the latest snapshots (largest {biggest})"
    )

    if args.worker:
        with _Worker(args) as worker:
            for run in (1, 2):
                _through_worker(run, members, worker)
        return

    for run in (1, 2):
        own0, server0 = _cpu_seconds(args)
        start = time.perf_counter()
        results = reconcile_now(actor=SystemActor("bench"))
        elapsed = time.perf_counter() - start
        own, server = _cpu_seconds(args)
        own, server = own - own0, server - server0
        findings = sum(r.opened for r in results)
        print(
            f"reconcile_now() run {run}: {len(results)} groups, {elapsed:.2f} s, "
            f"{elapsed / members * 10_000:.2f} s per 10,000 members, {findings} findings opened"
            f" — {load_average()}"
        )
        print(
            f"  CPU: {own:.2f} s Python + {server:.2f} s database server = "
            f"{(own + server) / members * 10_000:.2f} s per 10,000 members"
        )
        print(f"  name matching: {reads.take()}")

    # Queries of one group's reconciliation at 50 and at 500 members.
    group = ChatGroup.objects.get(code="work")
    pool = list(
        RosterMember.objects.filter(snapshot=latest_of(group)).values_list(
            "display_name", "wechat_id"
        )
    )
    for size in (50, 500):
        rows = [RosterRow(i + 2, name, wechat) for i, (name, wechat) in enumerate(pool[:size])]
        roster_snapshot_create(group=group, rows=rows, actor=SystemActor("bench"))
        with CaptureQueriesContext(connection) as ctx:
            reconcile_now(groups=[group], actor=SystemActor("bench"))
        print(
            f"queries for one group of {len(rows)} members: {len(ctx.captured_queries)}; "
            f"{reads.take()}"
        )


class _Worker:
    """``celery -A config worker --concurrency N`` on the run's database, in its own process
    group (stopped at the end, on an error too); this process's tasks go to its broker."""

    LOG = Path("/tmp/bench-reconcile-worker.log")  # noqa: S108 — the benchmark's scratch file

    def __init__(self, args) -> None:
        self.args = args

    def __enter__(self) -> _Worker:
        import signal
        import subprocess

        from django.db import connection

        from config.celery import app

        app.conf.update(broker_url=self.args.broker, task_always_eager=False)
        # The benchmark's own Redis database emptied: a stopped run's waiting and unacknowledged
        # tasks would otherwise come back and reconcile this copy's runs (same ids) as well.
        with app.connection_for_write() as broker:
            broker.default_channel.client.flushdb()
        env = {
            **os.environ,
            "DATABASE_URL": f"{self.args.pg}/{connection.settings_dict['NAME']}",
            "CELERY_BROKER_URL": self.args.broker,
        }
        self.signal = signal
        with self.LOG.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
                [
                    sys.executable,
                    *("-m", "celery", "-A", "config", "worker", "--loglevel=INFO"),
                    f"--concurrency={self.args.worker}",
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                    f"--hostname=bench-reconcile-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 60
            while b" ready." not in self.LOG.read_bytes():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start:\n{self.LOG.read_text()[-2000:]}")
                time.sleep(0.2)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            os.killpg(self.process.pid, self.signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, OSError):
            pass
        except Exception:
            os.killpg(self.process.pid, self.signal.SIGKILL)


def _through_worker(run: int, members: int, worker: _Worker) -> None:
    """One nightly reconciliation through the worker, timed until its last run finished."""
    from common.actors import SystemActor
    from groups.models import ReconciliationRun
    from groups.services import reconcile_start_all
    from groups.services.runs import UNFINISHED

    busy0, total0 = cpu_times()
    start = time.perf_counter()
    ids = [r.pk for r in reconcile_start_all(actor=SystemActor("bench"))]
    deadline = time.monotonic() + 600
    while ReconciliationRun.objects.filter(pk__in=ids, status__in=UNFINISHED).exists():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker stopped:\n{worker.LOG.read_text()[-2000:]}")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    busy, total = cpu_times()
    runs = ReconciliationRun.objects.filter(pk__in=ids)
    failed = runs.filter(status=ReconciliationRun.Status.FAILED).count()
    if failed:
        raise RuntimeError(f"{failed} runs failed:\n{worker.LOG.read_text()[-2000:]}")
    opened = sum((r.summary or {}).get("opened", 0) for r in runs.only("summary"))
    cores = os.cpu_count() or 1
    cpu = (busy - busy0) / os.sysconf("SC_CLK_TCK")
    print(
        f"reconcile_start_all() run {run} on a worker of {worker.args.worker}: {len(ids)} groups, "
        f"{elapsed:.2f} s, {elapsed / members * 10_000:.2f} s per 10,000 members, "
        f"{opened} findings opened — {load_average()}"
    )
    print(
        f"  CPU of the whole machine: {cpu:.2f} s ({(busy - busy0) / max(total - total0, 1):.0%}"
        f" of {cores} cores) = {cpu / members * 10_000:.2f} s per 10,000 members"
    )


def _cpu_seconds(args) -> tuple[float, float]:
    """CPU seconds used so far by this process and by its PostgreSQL backend (0 on SQLite,
    whose work is this process's). With other jobs on the machine the wall-clock time
    measures the queue for the cores as much as the work; CPU time measures the work."""
    own = time.process_time()
    if args.database != "postgres":
        return own, 0.0
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():  # a server on another machine
        return own, 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return own, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def latest_of(group):
    from groups.models import RosterSnapshot

    return RosterSnapshot.objects.filter(group=group).order_by("-taken_at", "-pk").first()


if __name__ == "__main__":
    main()
