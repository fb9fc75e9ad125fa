"""Benchmark: computing and exporting a 20,000-person period of 100,000 lines
(docs/performance.md, "Appraisal export").

Run by hand, never in the test suite:

    .venv/bin/python bench/appraisal_export.py [--employees 20000] [--lines 100000]
        [--period 2026-10] [--repeat 3] [--compute-runs 3] [--profile]
        [--database sqlite|postgres] [--pg URL] [--fresh]

It builds the demo company (bench/_db.py: once per size, ANALYZEd after the bulk load, a
fresh copy per run), files the period's confirmed cases in bulk (every employee has at
least one, so each has a Result; one in twenty is a §9.8 joint-liability case), then times:

- ``period_compute`` (targets: ≤ 10 s on SQLite, ≤ 5 s on PostgreSQL), ``--compute-runs``
  times — the first writes into empty tables, the others recompute an unchanged period —
  then after one case in twenty is overturned, and after they are confirmed again; each
  with its COMMIT apart and the CPU time of this process and of the PostgreSQL backend
  (what the wall clock is on a quiet machine, less I/O waits); ``--profile`` prints
  cProfile's top functions of one more run;
- ``period_workbook`` to a file, against bare openpyxl write-only writing the same cells as
  plain values from lists in memory (no database, no escaping, no number formats)
  (target: ours ≤ 1.5× bare), and against the same export making a cell per value (the
  "before"); each run in a fresh subprocess, interleaved, best of ``--repeat``, in wall
  clock and in CPU time (which is what to compare when others share the machine);
- the export's peak memory: the growth of the process's peak RSS (ru_maxrss) over the
  export, and tracemalloc's Python-level peak in a separate run (target: < 200 MB).

Every figure is printed with the database it ran on and the machine's load average.
Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._db import (  # noqa: E402 — after the path is set
    _setup_django,
    add_database_arguments,
    database_label,
    load_average,
    open_database,
)

SOURCE_KEY = "bench-export:{period}:{index}"
JOINT_SHARE = 20  # one case in twenty is a joint-liability case
MB = 1024 * 1024
# The 明细 sheet's values, in its columns' order (same_cells).
LINE_FIELDS = (
    "employee__employee_no employee__name department case_id clause rule_title sanction "
    "occurred_on points is_joint corrects__code"
).split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compute-runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one more compute")
    parser.add_argument("--no-export", action="store_true", help="time the compute only")
    add_database_arguments(parser)
    parser.add_argument("--measure", choices=["ours", "bare", "per-cell", "ours-tracemalloc"])
    parser.add_argument("--url", help="(--measure) the database the parent computed into")
    parser.add_argument("--output", default="/tmp/bench-appraisal-export.xlsx")  # noqa: S108
    args = parser.parse_args()

    if args.measure:
        os.environ["DATABASE_URL"] = args.url
        _setup_django()  # this run's copy, as the parent left it
        print(json.dumps(measure(args.measure, args.period, args.output)))
        return
    name = f"appraisal_export_{args.employees}e_{args.lines}l_{args.period.replace('-', '_')}"
    open_database(args, name=name, build=lambda: build(args))
    print(f"database: {database_label(args)}; {load_average()}")
    compute(args)
    if not args.no_export:
        compare(args, url=work_url(args))


def work_url(args) -> str:
    """The URL of the copy this run computed into, for the export's subprocesses."""
    from django.db import connection

    work = connection.settings_dict["NAME"]
    return f"{args.pg}/{work}" if args.database == "postgres" else f"sqlite:///{work}"


# -- building the period -------------------------------------------------------------------


def build(args) -> None:
    """The base database: the demo company and the period's confirmed cases."""
    from django.core.management import call_command
    from django.utils import timezone

    from appraisal.services import period_get_or_create
    from company.demo.build import demo_company_build
    from company.demo.write import demo_company_apply

    call_command("migrate", verbosity=0)
    call_command("seed_policy", stdout=open(os.devnull, "w"))
    t0 = time.perf_counter()
    company = demo_company_build(
        employees=args.employees, seed=args.seed, today=timezone.localdate()
    )
    demo_company_apply(company=company, password=None)
    t1 = time.perf_counter()
    period = period_get_or_create(code=args.period)
    file_cases(period, lines=args.lines, seed=args.seed)
    t2 = time.perf_counter()
    print(
        f"built: {args.employees} employees in {t1 - t0:.1f} s, {args.lines} cases in {t2 - t1:.1f} s"
    )


def compute(args) -> None:
    """Time period_compute; its COMMIT (where PostgreSQL runs the deferred foreign-key
    checks of every inserted row) is timed on its own by wrapping the call in an outer
    transaction, which then is the one that commits."""
    from django.db import transaction

    from appraisal.models import Line, Period, Result
    from appraisal.services import period_compute
    from common.actors import SystemActor

    period = Period.objects.get(code=args.period)
    times, cpus = [], []

    def timed(run: int, kind: str):
        start, cpu, server = time.perf_counter(), time.process_time(), backend_cpu()
        with transaction.atomic():
            summary = period_compute(period=period, actor=SystemActor("bench"))
            before_commit, server_body = time.perf_counter(), backend_cpu()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        commit, server_commit = time.perf_counter() - before_commit, backend_cpu() - server_body
        server_body -= server
        times.append(elapsed)
        cpus.append(cpu + server_body + server_commit)
        backend = (
            f", PostgreSQL backend {server_body:.2f} + {server_commit:.2f} s CPU"
            if args.database == "postgres"
            else ""
        )
        print(
            f"period_compute() run {run} ({kind}): {elapsed:.2f} s, of which COMMIT "
            f"{commit:.2f} s (this process {cpu:.2f} s CPU{backend})"
            f" — {summary.employees} results, {summary.lines} lines, "
            f"{summary.adjustments} adjustments; {load_average()}"
        )
        return summary

    for run in range(1, args.compute_runs + 1):
        summary = timed(run, "empty tables" if run == 1 else "nothing changed")
    # A recomputation after appeals: one case in twenty overturned, then confirmed again
    # (so that the export below has the period's 100,000 lines).
    overturned = flip_some(period, share=20, overturn=True)
    timed(args.compute_runs + 1, f"{len(overturned)} cases overturned")
    flip_some(period, share=20, overturn=False, ids=overturned)
    summary = timed(args.compute_runs + 2, f"the {len(overturned)} confirmed again")
    print(
        f"period_compute(): best {min(times):.2f} s, range {min(times):.2f}–{max(times):.2f} s "
        f"wall clock; CPU (this process + database backend) {min(cpus):.2f}–{max(cpus):.2f} s"
    )
    assert Result.objects.filter(period=period).count() == summary.employees
    assert Line.objects.filter(period=period).count() == summary.lines
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        period_compute(period=period, actor=SystemActor("bench"))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (the server is local: its
    process's /proc/<pid>/stat); 0 on SQLite, which runs in this process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def flip_some(period, *, share: int, overturn: bool, ids: list[int] | None = None) -> list[int]:
    """One confirmed case in ``share`` of the period overturned (state only, as the bench
    filed them), or ``ids`` confirmed again: what a recomputation after appeals sees."""
    from violations.models import Case

    if ids is None:
        prefix = SOURCE_KEY.format(period=period.code, index="")
        cases = Case.objects.filter(source_key__startswith=prefix, state=Case.State.CONFIRMED)
        ids = list(cases.order_by("pk").values_list("pk", flat=True))[::share]
    state = Case.State.OVERTURNED if overturn else Case.State.CONFIRMED
    Case.objects.filter(pk__in=ids).update(state=state)
    return ids


def file_cases(period, *, lines: int, seed: int) -> bool:
    """The period's confirmed cases, made directly in bulk (no workflow, no history rows).
    False when an earlier run made them already."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from members.models import Employee
    from violations.models import Case, Rule

    prefix = SOURCE_KEY.format(period=period.code, index="")
    existing = Case.objects.filter(source_key__startswith=prefix).count()
    if existing == lines:
        return False
    if existing:
        raise SystemExit(f"{existing} cases of another size exist: run again with --fresh")
    rng = random.Random(seed)
    confirmer, _ = get_user_model().objects.get_or_create(username="bench-hr")
    employees = list(Employee.objects.order_by("employee_no").values_list("pk", flat=True))
    heads = dict(Employee.objects.values_list("pk", "department__head_id"))
    rules = list(Rule.objects.filter(is_active=True))
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.starts_on, dt.time.min, tzinfo=tz)
    seconds = int((period.ends_on - period.starts_on).days + 1) * 86_400

    def case(index: int, employee_id: int, **extra) -> Case:
        rule = rng.choice(rules)
        occurred_at = start + dt.timedelta(seconds=rng.randrange(seconds))
        return Case(
            rule=rule,
            employee_id=employee_id,
            occurred_at=occurred_at,
            source=Case.Source.MANUAL,
            source_key=SOURCE_KEY.format(period=period.code, index=index),
            description="bench",
            state=Case.State.CONFIRMED,
            points=rule.default_points,
            sanction=rule.sanction,
            offence_number=1,
            confirmed_at=occurred_at + dt.timedelta(days=1),
            confirmed_by=confirmer,
            **extra,
        )

    joint = lines // JOINT_SHARE
    own = [
        case(i, employees[i] if i < len(employees) else rng.choice(employees))
        for i in range(lines - joint)
    ]
    Case.objects.bulk_create(own, batch_size=2000)
    with_head = [c for c in own if heads[c.employee_id] not in (None, c.employee_id)]
    offences = rng.sample(with_head, joint)
    Case.objects.bulk_create(
        [
            case(len(own) + i, heads[offence.employee_id], joint_of_id=offence.pk)
            for i, offence in enumerate(offences)
        ],
        batch_size=2000,
    )
    return True


# -- the comparison, each run in its own process -------------------------------------------


def compare(args, *, url: str) -> None:
    def run(kind: str) -> dict:
        command = [sys.executable, __file__, "--measure", kind, "--url", url]
        command += ["--period", args.period, "--output", args.output]
        done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
        return json.loads(done.stdout.strip().splitlines()[-1])

    labels = {
        "ours": "period_workbook()",
        "bare": "bare openpyxl write-only, same cells",
        "per-cell": "variant with a new cell per value (as write_xlsx)",
    }
    runs: dict[str, list[dict]] = {kind: [] for kind in labels}
    for _ in range(args.repeat):  # interleaved, so that a busy moment hits all three
        for kind, results in runs.items():
            results.append(run(kind))
    traced = run("ours-tracemalloc")
    best = {kind: min(r["seconds"] for r in results) for kind, results in runs.items()}
    cpu = {kind: min(r["cpu"] for r in results) for kind, results in runs.items()}
    ours = runs["ours"]
    print(
        f"export: {ours[0]['rows']} rows, {ours[0]['cells']} cells, "
        f"{Path(args.output).stat().st_size / MB:.1f} MB file; best of {args.repeat} runs, "
        f"wall clock (CPU time); {load_average()}"
    )
    for kind, label in labels.items():
        print(
            f"{label}: {best[kind]:.2f} s ({cpu[kind]:.2f} s CPU), "
            f"{best[kind] / best['bare']:.2f}× bare ({cpu[kind] / cpu['bare']:.2f}× in CPU); "
            "runs: " + ", ".join(f"{r['seconds']:.2f}" for r in runs[kind])
        )
    print(
        f"memory of the export: peak RSS +{max(r['rss_growth_mb'] for r in ours):.1f} MB "
        f"(process peak {max(r['rss_peak_mb'] for r in ours):.1f} MB); "
        f"tracemalloc peak {traced['traced_peak_mb']:.1f} MB"
    )


def measure(kind: str, code: str, output: str) -> dict:
    from appraisal.models import Period

    period = Period.objects.get(code=code)
    if kind == "bare":
        sheets = same_cells(period)  # read before the clock starts: bare writes from memory
    before = peak_rss_mb()
    if kind == "ours-tracemalloc":
        tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    if kind == "bare":
        rows, cells = write_bare(sheets, output)
    elif kind == "per-cell":
        rows, cells = write_per_cell(period, output)
    else:
        rows, cells = write_ours(period, output)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    traced_peak = tracemalloc.get_traced_memory()[1] / MB if tracemalloc.is_tracing() else 0
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "cells": cells,
        "rss_growth_mb": peak_rss_mb() - before,
        "rss_peak_mb": peak_rss_mb(),
        "traced_peak_mb": traced_peak,
    }


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux, VmHWM: ru_maxrss survives fork and exec, so a
    subprocess would report its parent's peak (here, that of period_compute)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_ours(period, output: str) -> tuple[int, int]:
    from appraisal.exports import DEPARTMENT_COLUMNS, LINE_COLUMNS, SUMMARY_COLUMNS, period_workbook

    summary = period_workbook(period, output)
    width = len(SUMMARY_COLUMNS) + (1 if has_grades(period) else 0)
    cells = (
        (summary.results + 1) * width
        + (summary.lines + 1) * len(LINE_COLUMNS)
        + (summary.departments + 1) * len(DEPARTMENT_COLUMNS)
    )
    return summary.results + summary.lines + summary.departments, cells


def write_per_cell(period, output: str) -> tuple[int, int]:
    """period_workbook() with the sheet writer swapped for one that makes a cell per value
    (text typed as "s", numbers and dates styled), as common.spreadsheets.write_xlsx does:
    the "before" of docs/performance.md."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    from appraisal import exports

    def write_sheet(workbook, title, columns, rows, *, ready: bool = False) -> int:
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.append([column.header for column in columns])
        count = 0
        for row in rows:
            cells = []
            for column, value in zip(columns, row, strict=True):
                cell = None
                if value is not None:
                    cell = WriteOnlyCell(sheet, value)
                    if isinstance(value, str):
                        cell.data_type = "s"
                    if column.number_format:
                        cell.number_format = column.number_format
                cells.append(cell)
            sheet.append(cells)
            count += 1
        return count

    exports.write_sheet = write_sheet  # type: ignore[assignment]
    return write_ours(period, output + ".per-cell.xlsx")


def has_grades(period) -> bool:
    return period.results.exclude(grade="").exists()


def same_cells(period) -> list[tuple[str, list[str], list[list]]]:
    """The export's sheets as plain values in lists: what bare openpyxl is given to write."""
    from django.db.models import Avg, Count, OuterRef, Subquery, Sum

    from appraisal.exports import (
        DEPARTMENT_COLUMNS,
        GRADE_COLUMN,
        LINE_COLUMNS,
        SANCTION_LABELS,
        SUMMARY_COLUMNS,
    )
    from appraisal.models import Line, Result

    with_grade = has_grades(period)
    fields = ["employee__employee_no", "employee__name", "department_path"]
    fields += ["deducted", "warnings", "final_score"] + (["grade"] if with_grade else [])
    summary = [
        list(row)
        for row in Result.objects.filter(period=period)
        .order_by("employee__employee_no")
        .values_list(*fields)
    ]
    department = Result.objects.filter(period=period, employee=OuterRef("employee")).values(
        "department_path"
    )[:1]
    lines = [
        [
            no,
            name,
            dep,
            case,
            f"§{clause}",
            title,
            SANCTION_LABELS.get(s),
            day,
            points,
            "是" if joint else "否",
            corrects,
        ]
        for no, name, dep, case, clause, title, s, day, points, joint, corrects in Line.objects.filter(
            period=period
        )
        .annotate(department=Subquery(department))
        .order_by("employee__employee_no", "occurred_on", "case_id", "pk")
        .values_list(*LINE_FIELDS)
    ]
    departments = [
        [r["department_path"], r["n"], r["d"], r["w"], r["a"]]
        for r in Result.objects.filter(period=period)
        .order_by("department_path")
        .values("department_path")
        .annotate(n=Count("pk"), d=Sum("deducted"), w=Sum("warnings"), a=Avg("final_score"))
    ]
    headers = [c.header for c in SUMMARY_COLUMNS] + ([GRADE_COLUMN.header] if with_grade else [])
    return [
        ("汇总", headers, summary),
        ("明细", [c.header for c in LINE_COLUMNS], lines),
        ("部门", [c.header for c in DEPARTMENT_COLUMNS], departments),
    ]


def write_bare(sheets, output: str) -> tuple[int, int]:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    rows = cells = 0
    for title, headers, body in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for row in body:
            sheet.append(row)
        rows += len(body)
        cells += (len(body) + 1) * len(headers)
    workbook.save(output + ".bare.xlsx")
    return rows, cells


if __name__ == "__main__":
    main()
