"""Benchmark: joiners, movers and leavers of a 20,000-person company re-imported (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/lifecycle.py [--employees 20000] [--changes 500] [--fresh]
    .venv/bin/python bench/lifecycle.py --database postgres [--pg postgres://postgres@127.0.0.1:5432]

It builds the demo company in a SQLite database, or a PostgreSQL one (ANALYZEd after the bulk
load, as a deployment would after an import), kept and reused for the same size, captures
and reconciles a roster for every group (so every family can be judged at once), then
re-imports the whole employee sheet through members.importing.employee_import_file, as the
command and the admin do, with ``--changes`` leavers, movers (department and category) and
joiners, on a copy of that database each time (``--one-by-one``: each event applied at its
row's save instead of once for the sheet, for comparison). It prints the whole import's time and the
share spent recording the events (members.signals) and making the groups follow them
(groups.services.lifecycle); the target is all events applied in at most 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = [
    "工号",
    "姓名",
    "部门",
    "岗位",
    "职级",
    "人员类别",
    "状态",
    "离职日期",
    "微信号",
    "手机号",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=500, help="leavers, movers, joiners each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="/tmp/bench-lifecycle.sqlite3")  # noqa: S108
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL")
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="apply each event at its row's save, as before the sheet was batched (for comparison)",
    )
    args = parser.parse_args()
    if args.database == "postgres":
        main_postgres(args)
        return

    base = Path(f"{args.db}.{args.employees}.base")
    if args.fresh:
        base.unlink(missing_ok=True)
    work = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    built = base.exists()
    if built:
        shutil.copy(base, work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    import django

    django.setup()
    from django.db import connection

    if not built:
        build(args)
        connection.close()
        shutil.copy(work, base)  # the WAL is checkpointed on close
    run(args)


def main_postgres(args) -> None:
    """The same on PostgreSQL: the company built once in a template database, each run on a
    fresh copy of it (CREATE DATABASE … TEMPLATE)."""
    import psycopg

    base, work = f"bench_lifecycle_{args.employees}_base", "bench_lifecycle"

    def server(sql: str, params: tuple = ()) -> list:
        # Database names are ours (``base``, ``work``: digits and letters), never user input.
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            cursor = conn.execute(sql, params)  # type: ignore[call-overload]
            return cursor.fetchall() if cursor.description else []

    if args.fresh:
        server(f"DROP DATABASE IF EXISTS {base}")
    built = bool(server("SELECT 1 FROM pg_database WHERE datname = %s", (base,)))
    if not built:
        server(f"CREATE DATABASE {base}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{base}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    from django.db import connection

    if not built:
        build(args)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    server(f"DROP DATABASE IF EXISTS {work}")
    server(f"CREATE DATABASE {work} TEMPLATE {base}")
    connection.settings_dict["NAME"] = work
    run(args)
    connection.close()


def build(args) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from common.actors import SystemActor
    from company.demo.build import demo_company_build
    from company.demo.rosters import demo_rosters_apply
    from company.demo.write import demo_company_apply
    from groups.services import reconcile_now

    call_command("migrate", verbosity=0)
    call_command("seed_policy", stdout=open(os.devnull, "w"))
    t0 = time.perf_counter()
    company = demo_company_build(
        employees=args.employees, seed=args.seed, today=timezone.localdate()
    )
    demo_company_apply(company=company, password=None)
    demo_rosters_apply(seed=args.seed, reconcile=False)
    results = reconcile_now(actor=SystemActor("bench"))
    print(
        f"company: {args.employees} employees, {len(results)} groups reconciled, "
        f"built in {time.perf_counter() - t0:.1f} s"
    )


def sheet_rows(args) -> tuple[list[list], dict[str, int]]:
    """The whole employee sheet as HR would export it, with the changes typed in."""
    from django.utils import timezone

    from groups.models import ChatGroup
    from members.models import Department, Employee

    rng = random.Random(args.seed)
    employees = list(
        Employee.objects.select_related("department", "position").order_by("employee_no")
    )
    active = [e for e in employees if e.is_active]
    rows = {
        e.employee_no: [
            e.employee_no,
            e.name,
            e.department.path,
            e.position.name if e.position else "",
            e.rank,
            e.get_category_display(),
            e.get_status_display(),
            e.left_on.isoformat() if e.left_on else "",
            e.wechat_id,
            e.phone,
        ]
        for e in employees
    }
    # Group creators among the leavers, so that succession (离职继承) is timed too.
    creators = set(ChatGroup.objects.exclude(creator=None).values_list("creator_id", flat=True))
    pool = [e for e in active if e.pk not in creators]
    rng.shuffle(pool)
    leavers = [e for e in active if e.pk in creators][:3]
    leavers += pool[: args.changes - len(leavers)]
    movers = pool[args.changes : 2 * args.changes]
    paths = list(Department.objects.values_list("path", flat=True))
    today = timezone.localdate().isoformat()
    for e in leavers:
        rows[e.employee_no][6:8] = ["离职", today]
    for e in movers:
        row = rows[e.employee_no]
        row[2] = rng.choice([p for p in paths if p != row[2]])
        row[5] = "生产" if row[5] == "行管" else "行管"
    for n in range(args.changes):
        department = rng.choice(paths)
        category = rng.choice(["行管", "生产"])
        rows[f"NEW{n:05d}"] = [
            f"NEW{n:05d}",
            f"新员工{n}",
            department,
            "",
            1,
            category,
            "在职",
            "",
            "",
            "",
        ]
    return list(rows.values()), {
        "leavers": len(leavers),
        "movers": len(movers),
        "joiners": args.changes,
    }


def run(args) -> None:
    from common.actors import SystemActor
    from common.spreadsheets import write_xlsx
    from groups import signals as group_signals
    from groups.models import Finding, GroupSuccession, RosterAction
    from members import importing
    from members import signals as member_signals
    from members.models import PersonnelEvent

    if args.one_by_one:
        import contextlib

        from members import resources

        resources.personnel_events_batched = contextlib.nullcontext  # type: ignore[assignment]
    rows, counts = sheet_rows(args)
    data = write_xlsx(HEADERS, rows, title="员工")
    print(
        f"sheet: {len(rows)} rows, {len(data) // 1024} KB xlsx, "
        f"{counts['leavers']} leavers, {counts['movers']} movers, {counts['joiners']} joiners"
    )
    spent = {"record": 0.0, "apply": 0.0}

    def timed(name, function):
        def wrapper(*a, **kw):
            start = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    # What the receivers call, looked up at call time: detection and the groups' reaction
    # (which runs inside the recording, so it is taken out of it below).
    member_signals.personnel_change = timed("record", member_signals.personnel_change)
    group_signals.personnel_events_apply = timed("apply", group_signals.personnel_events_apply)

    before = (PersonnelEvent.objects.count(), Finding.objects.count(), RosterAction.objects.count())
    start = time.perf_counter()
    report = importing.employee_import_file(
        data=data, actor=SystemActor("bench"), filename="x.xlsx"
    )
    total = time.perf_counter() - start
    assert not report.errors, report.errors[:5]
    events = spent["record"] + spent["apply"]
    after = (PersonnelEvent.objects.count(), Finding.objects.count(), RosterAction.objects.count())
    print(f"import: {report.summary}")
    print(
        f"whole import: {total:.2f} s; events: {events:.2f} s ({events / total:.0%}) — "
        f"detected {spent['record']:.2f} s, applied to the groups {spent['apply']:.2f} s "
        "(target ≤ 10 s)"
    )
    by_kind = dict(PersonnelEvent.objects.values_list("kind").annotate(n=django_count()).order_by())
    print(
        f"events: {after[0] - before[0]} ({by_kind}); findings +{after[1] - before[1]}, "
        f"to-dos +{after[2] - before[2]}, successions {GroupSuccession.objects.count()}"
    )
    spent.update(record=0.0, apply=0.0)
    start = time.perf_counter()
    report = importing.employee_import_file(
        data=data, actor=SystemActor("bench"), filename="x.xlsx"
    )
    again = (PersonnelEvent.objects.count(), Finding.objects.count(), RosterAction.objects.count())
    print(
        f"the same sheet again: {time.perf_counter() - start:.2f} s, {report.summary}; "
        f"new events/findings/to-dos: {tuple(a - b for a, b in zip(again, after, strict=True))}"
    )


def django_count():
    from django.db.models import Count

    return Count("pk")


if __name__ == "__main__":
    main()
