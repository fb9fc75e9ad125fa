"""Benchmark: the groups and members admin pages, one HR user at a time (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/admin_pages.py [--employees 20000] [--runs 3] [--only 群]
    .venv/bin/python bench/admin_pages.py --database postgres [--pg postgres://postgres@127.0.0.1:5432]

It builds (once per size, ANALYZEd: bench/_db.py) the demo company with its rosters, cases and
the `hr` persona, adds what the demo does not make — a personnel event per employee, 2,000
hand-overs, 3,000 account reports — and fetches each list and page of the groups and members
admin through Django's test client as `hr`: the best time of ``--runs`` (after one warming
fetch), the range, the queries' own time and their number. The load benchmark with 20 users
through gunicorn is bench/admin_load.py; this one says which page costs what, and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

PASSWORD = "bench-admin-pages"  # noqa: S105 — the benchmark's own throwaway persona logins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="only the pages whose label contains this")
    add_database_arguments(parser)
    args = parser.parse_args()

    def build() -> None:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_policy", stdout=open(os.devnull, "w"))
        os.environ["DEMO_PASSWORD"] = PASSWORD
        call_command("demo", "--employees", str(args.employees), stdout=open(os.devnull, "w"))
        _add_history()

    open_database(args, name=f"admin_pages_{args.employees}", build=build)
    print(f"{database_label(args)}, {args.employees} employees, {load_average()}")
    for label, url, ms, sql, queries in _measure(args.runs, args.only):
        print(
            f"{label:26} {min(ms):6.0f} ms ({min(ms):.0f}–{max(ms):.0f})  SQL {sql:5.0f} ms  {queries:3} queries  {url}"
        )
    print(load_average())


def _add_history() -> None:
    """Rows a company gathers over two years that the demo does not make."""
    from django.utils import timezone

    from groups.models import AccountReport, ChatGroup, GroupSuccession
    from members.models import Employee, PersonnelEvent

    now = timezone.now()
    ids = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
    groups = list(ChatGroup.objects.order_by("pk").values_list("pk", flat=True))
    kinds = list(PersonnelEvent.Kind.values)
    PersonnelEvent.objects.bulk_create(
        PersonnelEvent(employee_id=pk, kind=kinds[pk % 3]) for pk in ids
    )
    # auto_now_add: spread over two years afterwards, as time would have.
    for slot in range(10):
        PersonnelEvent.objects.filter(employee_id__in=ids[slot::10]).update(
            at=now - dt.timedelta(days=73 * slot)
        )
    GroupSuccession.objects.bulk_create(
        GroupSuccession(
            group_id=groups[n % len(groups)],
            role=GroupSuccession.Role.CREATOR if n % 5 == 0 else GroupSuccession.Role.ADMIN,
            predecessor_id=ids[n],
            successor_id=ids[n + 5000 if n + 5000 < len(ids) else 0],
            actions_moved=n % 7,
        )
        for n in range(min(2000, len(ids)))
    )
    AccountReport.objects.bulk_create(
        AccountReport(
            employee_id=pk,
            wechat_id=f"wx{pk}",
            kind=AccountReport.Kind.LOST if pk % 2 else AccountReport.Kind.STOLEN,
            status=AccountReport.Status.OPEN if pk % 100 == 0 else AccountReport.Status.CLOSED,
            closed_at=None if pk % 100 == 0 else now,
        )
        for pk in ids[:3000]
    )


def _pages() -> list[tuple[str, str]]:
    from groups.models import ChatGroup, RosterSnapshot

    work = ChatGroup.objects.get(code="work")
    snapshot = RosterSnapshot.objects.filter(group=work).order_by("-member_count").first()
    assert snapshot is not None
    g = "/admin/groups/"
    return [
        ("group list", f"{g}chatgroup/"),
        ("group list, family", f"{g}chatgroup/?family__id__exact={work.pk}"),
        ("group list, counts", f"{g}chatgroup/?_facets=True"),
        ("group page", f"{g}chatgroup/{work.pk}/change/"),
        ("group page, 欢乐谷", f"{g}chatgroup/{ChatGroup.objects.get(code='leisure').pk}/change/"),
        ("findings", f"{g}finding/"),
        ("findings, open", f"{g}finding/?status__exact=open"),
        ("findings, counts", f"{g}finding/?_facets=True"),
        ("snapshots", f"{g}rostersnapshot/"),
        ("snapshot page", f"{g}rostersnapshot/{snapshot.pk}/change/"),
        ("to-dos", f"{g}rosteraction/"),
        ("to-dos, counts", f"{g}rosteraction/?_facets=True"),
        ("runs", f"{g}reconciliationrun/"),
        ("hand-overs", f"{g}groupsuccession/"),
        ("hand-overs, counts", f"{g}groupsuccession/?_facets=True"),
        ("account reports", f"{g}accountreport/"),
        ("account reports, counts", f"{g}accountreport/?_facets=True"),
        ("employees", "/admin/members/employee/"),
        ("employees, counts", "/admin/members/employee/?_facets=True"),
        ("personnel events", "/admin/members/personnelevent/"),
        ("personnel events, counts", "/admin/members/personnelevent/?_facets=True"),
    ]


def _measure(runs: int, only: str):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="hr"))
    for label, url in _pages():
        if only not in label:
            continue
        times, sql = [], []
        for run in range(runs + 1):  # the first warms the caches, not counted
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if run:
                times.append(elapsed)
                sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        yield label, url, times, min(sql), len(queries)


if __name__ == "__main__":
    main()
