"""Benchmark: the admin's front page (工作台, dashboard/) for each role (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/dashboard.py [--employees 20000] [--cases 100000] [--runs 5]
    .venv/bin/python bench/dashboard.py --database postgres [--pg postgres://postgres@127.0.0.1:5432]

It builds (once per size, ANALYZEd: bench/_db.py) the demo company with its rosters, cases,
periods and persona logins, plus ``--cases`` cases over the last twelve months, those months'
periods computed and the oldest settled, as bench/admin_load.py does; then fetches /admin/
through Django's test client as each persona:
the best render time of ``--runs`` (after one warming fetch), the range, the queries' own
time and their number. The promise (issue 14): under 300 ms at 20,000 employees.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import (  # noqa: E402 — after the path is set
    add_database_arguments,
    database_label,
    load_average,
    open_database,
)

PASSWORD = "bench-dashboard"  # noqa: S105 — the benchmark's own throwaway persona logins
PERSONAS = ["admin", "hr", "leader", "head", "creator", "groupadmin", "finance"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=100_000, help="cases filed in bulk")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="build the base and stop")
    add_database_arguments(parser)
    args = parser.parse_args()

    def build() -> None:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_policy", stdout=open(os.devnull, "w"))
        os.environ["DEMO_PASSWORD"] = PASSWORD
        os.environ["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
        call_command("demo", "--employees", str(args.employees), stdout=open(os.devnull, "w"))
        call_command("ensure_admin", stdout=open(os.devnull, "w"))
        from bench.admin_load import compute_periods, file_cases, settle

        file_cases(args.cases, seed=1)
        compute_periods()
        settle()

    name = f"dashboard_{args.employees}_{args.cases}"
    open_database(args, name=name, build=build, copy=not args.build_only)
    if args.build_only:
        return
    print(
        f"{database_label(args)}, {args.employees} employees, {args.cases} bulk cases, "
        f"{load_average()}"
    )
    for persona, ms, sql, queries in _measure(args.runs):
        print(
            f"{persona:11} {min(ms):6.0f} ms ({min(ms):.0f}–{max(ms):.0f})  "
            f"SQL {sql:5.0f} ms  {queries:3} queries"
        )
    print(load_average())


def _measure(runs: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {u.username: u for u in get_user_model().objects.filter(username__in=PERSONAS)}
    for persona in PERSONAS:
        client = Client(HTTP_HOST="localhost")
        client.force_login(users[persona])
        times, sql = [], []
        for run in range(runs + 1):  # the first warms the caches, not counted
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get("/admin/")
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (persona, response.status_code)
            assert b'id="dashboard"' in response.content, persona
            if run:
                times.append(elapsed)
                sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        yield persona, times, min(sql), len(queries)


if __name__ == "__main__":
    main()
