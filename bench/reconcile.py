"""Benchmark: reconciling every group of a 20,000-person company (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/reconcile.py [--employees 20000] [--fresh]
    .venv/bin/python bench/reconcile.py --database postgres --employees 50000

It builds the demo company (bench/_db.py: SQLite or PostgreSQL, built once per size and
ANALYZEd after the bulk load, a fresh copy per run), captures a roster for every group — the
four groups of §4, split into WeChat-sized families (≤ 500 members each) — then times
`reconcile_now()` over all groups twice (the second run finds nothing new: the idempotent
re-run), and counts the SQL queries of one group's reconciliation at 50 and at 500 members.

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
    add_database_arguments(parser)
    args = parser.parse_args()

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
