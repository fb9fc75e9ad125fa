"""Benchmark: reconciling every group of a 20,000-person company (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/reconcile.py [--employees 20000] [--db /tmp/bench-reconcile.sqlite3]

It builds the demo company in a fresh SQLite database (or reuses one built
before with the same size), captures a roster for every group — the four groups
of §4, split into WeChat-sized families (≤ 500 members each) — then times
`reconcile_now()` over all groups, and counts the SQL queries of one group's
reconciliation at 50 and at 500 members. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="/tmp/bench-reconcile.sqlite3")  # noqa: S108
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    args = parser.parse_args()

    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from common.actors import SystemActor
    from company.demo.build import demo_company_build
    from company.demo.rosters import demo_rosters_apply
    from company.demo.write import demo_company_apply
    from groups.models import ChatGroup, RosterMember, RosterSnapshot
    from groups.services import reconcile_now
    from groups.services.roster import RosterRow, roster_snapshot_create

    call_command("migrate", verbosity=0)
    call_command("seed_policy", stdout=open(os.devnull, "w"))
    t0 = time.perf_counter()
    company = demo_company_build(
        employees=args.employees, seed=args.seed, today=timezone.localdate()
    )
    demo_company_apply(company=company, password=None)
    t1 = time.perf_counter()
    demo_rosters_apply(seed=args.seed, reconcile=False)
    t2 = time.perf_counter()
    groups = ChatGroup.objects.filter(is_active=True).count()
    latest = [
        RosterSnapshot.objects.filter(group=g).order_by("-taken_at", "-pk").first()
        for g in ChatGroup.objects.filter(is_active=True)
    ]
    members = sum(s.member_count for s in latest if s)
    biggest = max(s.member_count for s in latest if s)
    print(f"company: {args.employees} employees, built in {t1 - t0:.1f} s")
    print(
        f"rosters: {groups} groups, {members} members in the latest snapshots "
        f"(largest {biggest}), captured in {t2 - t1:.1f} s"
    )

    for run in (1, 2):
        start = time.perf_counter()
        results = reconcile_now(actor=SystemActor("bench"))
        elapsed = time.perf_counter() - start
        findings = sum(r.opened for r in results)
        print(
            f"reconcile_now() run {run}: {len(results)} groups, {elapsed:.2f} s, "
            f"{elapsed / members * 10_000:.2f} s per 10,000 members, {findings} findings opened"
        )

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
        print(f"queries for one group of {len(rows)} members: {len(ctx.captured_queries)}")


def latest_of(group):
    return group.snapshots.order_by("-taken_at", "-pk").first()


if __name__ == "__main__":
    main()
