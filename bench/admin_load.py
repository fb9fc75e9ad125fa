"""Benchmark: the admin under 20 HR users, through gunicorn, as deployed (docs/performance.md).

Run by hand, never in the test suite:

    .venv/bin/python bench/admin_load.py --database postgres [--employees 20000] [--cases 100000]
        [--users 20] [--workers 3] [--duration 60] [--think 1.0] [--fresh] [--strict]
    .venv/bin/python bench/admin_load.py --database postgres --diagnose [--explain]

It builds once (bench/_db.py: kept per size, ANALYZEd after the bulk load, a fresh copy per run)
the demo company — departments, rosters captured and reconciled, directives, announcements,
``manage.py demo``'s cases and last month's appraisal — plus ``--cases`` cases filed in bulk over
the twelve months before this one (most confirmed, some proposed and appealed so that HR's queues
are not empty), every one of those months computed, settlements imported for three of them, a
joiner event per employee and a leaver event per leaver, and ``--users`` HR logins (role
人力资源部, staff, each linked to an employee of 人力资源部 as the demo's hr persona is). Then it
migrates the copy (so that indexes added since the build are there), collects the static files,
and starts gunicorn on 127.0.0.1 with the production settings (config.settings.production:
DEBUG off, WhiteNoise, a random 50-character secret key, ALLOWED_HOSTS 127.0.0.1) and README's
worker count (``--workers 3``). This script stands in for the TLS-terminating proxy
(DJANGO_TLS_TERMINATED_BY_PROXY=true, X-Forwarded-Proto: https on every request).

Each user logs in through /admin/login/ (CSRF token, Origin and Referer as a browser sends them),
then, for ``--duration`` seconds, requests the pages below in a shuffled round (a new order each
round), pausing ``--think`` seconds on average (uniformly 0.5–1.5×) between two requests; ids
(a group, a case) and the search term are picked from the database, URLs come from reversing the
admin's names. It prints, per page and overall: requests, errors, and p50/p95/p99/max latency in
ms (from sending the request to the last byte of the body), the load average and the machine's
CPU use during the run, and which pages miss the targets (p95 < 300 ms, p99 < 600 ms, no error).
An error is a status other than 2xx/3xx, or a redirect to the login page (the session was lost).
Exit status 1 on any error; with ``--strict``, 2 when a page misses a target.

gunicorn runs in its own process group and is stopped at the end, on an error or Ctrl-C too.
Only 127.0.0.1 is ever contacted; every request has a timeout and the run ends by itself.

``--diagnose`` starts no server: it requests each page once as one HR user through Django's
test client on the same copy and prints, per page, its queries, the time spent in SQL, the
wall-clock time and its slowest queries (``--explain``: with EXPLAIN ANALYZE of the slowest).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
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

PASSWORD = "bench-load-Passw0rd!"  # noqa: S105 — the benchmark's own logins, on its own database
USERNAME = "load-hr-{:02d}"
SOURCE_KEY = "bench-load:{}"
MONTHS = 12  # the bulk cases' months: the twelve before this one
SETTLED_MONTHS = 3  # the oldest months get a finance import each
PROPOSED_EVERY = 200  # one case in 200 still proposed (HR's queue)
APPEALED_EVERY = 400  # one in 400 appealed
P95_TARGET_MS = 300
P99_TARGET_MS = 600
REQUEST_TIMEOUT_S = 60  # gunicorn's --timeout in README
STATIC_ROOT = "/tmp/bench-admin-load-static"  # noqa: S108 — the benchmark's scratch folder
DIAGNOSE_RUNS = 3  # requests of each page by --diagnose, the fastest reported
EXPLAIN_FROM_MS = 20  # a page's slowest query is explained from this long
EXPLAIN_LINES = 60  # of a plan, printed by --diagnose --explain
PROFILE_LINES = 30  # of a page's profile, printed by --diagnose --profile
GUNICORN_LOG = "/tmp/bench-admin-load-gunicorn.log"  # noqa: S108


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=100_000, help="cases filed in bulk")
    parser.add_argument("--users", type=int, default=20, help="HR users browsing at once")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (README: 3)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of browsing")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between requests, s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server (e.g. DJANGO_CONN_MAX_AGE=0), to compare",
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when a page misses a target")
    parser.add_argument("--diagnose", action="store_true", help="queries per page, no server")
    parser.add_argument("--explain", action="store_true", help="with --diagnose: EXPLAIN ANALYZE")
    parser.add_argument("--profile", action="store_true", help="with --diagnose: cProfile")
    parser.add_argument(
        "--runs",
        type=int,
        default=DIAGNOSE_RUNS,
        help="with --diagnose: requests of each page, the fastest reported (and the median CPU)",
    )
    parser.add_argument(
        "--page", action="append", help="with --diagnose: only pages whose label has this"
    )
    args = parser.parse_args()
    if not 1 <= args.users <= 100 or not 0 < args.duration <= 600:
        parser.error("--users 1..100, --duration up to 600 s")

    name = f"admin_load_{args.employees}_{args.cases}"
    open_database(args, name=name, build=lambda: build(args))
    migrated = migrate_copy()
    pages = discover_pages(args)
    if args.diagnose:
        diagnose(args, pages)
        return 0
    return run_load(args, pages, migrated)


# -- building the database -----------------------------------------------------------------


def build(args) -> None:
    from django.core.management import call_command

    os.environ["DEMO_PASSWORD"] = PASSWORD  # the demo's personas (hr, finance …) and announcements
    call_command("migrate", verbosity=0)
    call_command("seed_policy", stdout=open(os.devnull, "w"))  # the rules, roles, org chart
    start = time.perf_counter()
    call_command("demo", employees=args.employees, seed=args.seed)
    print(f"demo company: {args.employees} employees, built in {time.perf_counter() - start:.1f} s")
    steps = [
        ("HR users", lambda: hr_users(args.users)),
        ("cases", lambda: file_cases(args.cases, seed=args.seed)),
        ("periods computed", compute_periods),
        ("settlements", settle),
        ("personnel events", personnel_events),
        ("notices and their emails", notices),
    ]
    for label, step in steps:
        start = time.perf_counter()
        made = step()
        print(f"{label}: {made}, in {time.perf_counter() - start:.1f} s")


def hr_users(count: int) -> int:
    """``count`` HR logins as the demo makes its hr persona: staff, role 人力资源部, each linked to
    an employee (of 人力资源部 first, then anyone active) who has no login yet."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from company import roles
    from members.models import HR_DEPARTMENT, Employee

    user_model = get_user_model()
    role = Group.objects.get(name=roles.HR)
    hashed = make_password(PASSWORD)  # hashing is slow on purpose: once for all
    free = Employee.objects.filter(user=None, status=Employee.Status.ACTIVE)
    hr_first = list(free.filter(department__path__startswith=HR_DEPARTMENT).order_by("pk"))
    others = list(free.exclude(department__path__startswith=HR_DEPARTMENT).order_by("pk")[:count])
    for index, employee in zip(range(1, count + 1), hr_first + others, strict=False):
        user = user_model.objects.create(
            username=USERNAME.format(index), is_staff=True, password=hashed
        )
        user.groups.add(role)
        employee.user = user
        employee.save(update_fields=["user"])
    return count


class _settable:
    """Lets bulk_create keep the given value of an auto_now_add field (a benchmark's history
    spread over a year instead of stamped with the minute it was loaded)."""

    def __init__(self, model, name: str) -> None:
        self.field = model._meta.get_field(name)

    def __enter__(self) -> None:
        self.field.auto_now_add = False

    def __exit__(self, *exc) -> None:
        self.field.auto_now_add = True


def month_codes() -> list[str]:
    """The twelve months before this one, oldest first ("2025-12" … "2026-11")."""
    from django.utils import timezone

    today = timezone.localdate()
    year, month = today.year, today.month
    codes = []
    for _ in range(MONTHS):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        codes.append(f"{year}-{month:02d}")
    return codes[::-1]


def file_cases(count: int, *, seed: int) -> int:
    """``count`` cases over the twelve months, made directly in bulk (no workflow, no history):
    most confirmed, one in PROPOSED_EVERY proposed, one in APPEALED_EVERY appealed."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from members.models import Employee
    from violations.models import Case, Rule

    rng = random.Random(seed)
    hr = get_user_model().objects.get(username="hr")
    employees = list(
        Employee.objects.filter(status=Employee.Status.ACTIVE).values_list("pk", flat=True)
    )
    rules = list(Rule.objects.filter(is_active=True))
    tz = timezone.get_current_timezone()
    months = []
    for code in month_codes():
        year, month = map(int, code.split("-"))
        first = dt.datetime(year, month, 1, tzinfo=tz)
        following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        months.append((first, int((following - first).total_seconds())))
    cases = []
    for index in range(count):
        rule = rng.choice(rules)
        proposed = index % PROPOSED_EVERY == 0
        first, seconds = months[-1] if proposed else rng.choice(months)
        occurred_at = first + dt.timedelta(seconds=rng.randrange(seconds))
        case = Case(
            rule=rule,
            employee_id=rng.choice(employees),
            occurred_at=occurred_at,
            source=Case.Source.MANUAL,
            source_key=SOURCE_KEY.format(index),
            description=f"群内违规（负载测试 {index}）",
            state=Case.State.CONFIRMED,
            points=rule.default_points,
            sanction=rule.sanction,
            offence_number=1,
            confirmed_at=occurred_at + dt.timedelta(days=1),
            confirmed_by=hr,
            told_at=occurred_at + dt.timedelta(days=1, hours=1),
            told_how="notice",
            created_at=occurred_at + dt.timedelta(hours=2),
        )
        if proposed:
            case.state, case.points, case.sanction, case.offence_number = "proposed", None, "", None
            case.confirmed_at = case.confirmed_by = case.told_at = None
            case.told_how = ""
            case.reported_by = hr
        elif index % APPEALED_EVERY == 1:
            case.state = Case.State.APPEALED
        cases.append(case)
    with _settable(Case, "created_at"):
        Case.objects.bulk_create(cases, batch_size=2000)
    return count


def compute_periods() -> int:
    from appraisal.services import period_compute, period_get_or_create
    from common.actors import SystemActor

    for code in month_codes():
        period_compute(period=period_get_or_create(code=code), actor=SystemActor("bench"))
    return MONTHS


def settle() -> int:
    """A finance import for each of the oldest months: a settlement per employee deducted."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from appraisal.models import Period, Result, Settlement, SettlementImport

    finance = get_user_model().objects.get(username="finance")
    made = 0
    for code in month_codes()[:SETTLED_MONTHS]:
        period = Period.objects.get(code=code)
        deducted = list(
            Result.objects.filter(period=period, deducted__gt=0).values_list(
                "employee_id", "deducted"
            )
        )
        imported = SettlementImport.objects.create(
            period=period,
            file=f"settlements/bench-{code}.xlsx",
            file_name=f"工资扣款-{code}.xlsx",
            imported_by=finance,
            rows=len(deducted),
            created=len(deducted),
        )
        Settlement.objects.bulk_create(
            [
                Settlement(
                    period=period, employee_id=pk, amount=points * Decimal(10), imported_in=imported
                )
                for pk, points in deducted
            ],
            batch_size=2000,
        )
        made += len(deducted)
    return made


def personnel_events() -> int:
    """A joiner event per employee and a leaver event per leaver, as importing the company's
    sheets through members.importing would have recorded them."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from members.models import Employee, PersonnelEvent

    hr = get_user_model().objects.get(username="hr")
    now = timezone.now()
    events = []
    rows = Employee.objects.values_list("pk", "department__path", "status", "left_on")
    for index, (pk, path, status, left_on) in enumerate(rows.order_by("pk")):
        joined = now - dt.timedelta(days=400 - index % 365, minutes=index % 1440)
        changes = {"部门": [None, path], "状态": [None, "在职"]}
        events.append(PersonnelEvent(employee_id=pk, kind="joiner", changes=changes, actor=hr))
        events[-1].at = joined
        if status == Employee.Status.LEFT:
            at = dt.datetime.combine(left_on or now.date(), dt.time(9), tzinfo=now.tzinfo)
            events.append(
                PersonnelEvent(
                    employee_id=pk,
                    kind="leaver",
                    changes={"状态": ["在职", "离职"]},
                    actor=hr,
                    at=at,
                )
            )
    with _settable(PersonnelEvent, "at"):
        PersonnelEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def notices(failed_every: int = 100) -> int:
    """A notice and its email for each confirmed bulk case, as telling the employee makes them
    (notices.services). The bench makes no login per employee: the HR logins stand in as the
    recipients, round robin; nine in ten read, one email in ``failed_every`` failed."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from notices.models import EmailDelivery, Notice
    from violations.models import Case

    users = list(
        get_user_model().objects.filter(username__startswith="load-hr-").order_by("username")
    )
    told = (
        Case.objects.filter(source_key__startswith=SOURCE_KEY.format(""), told_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "told_at")
    )
    made = []
    for index, (pk, told_at) in enumerate(told):
        notice = Notice(
            recipient=users[index % len(users)],
            kind=Notice.Kind.CASE_CONFIRMED,
            title=f"违规已确认：案件 #{pk}",
            body="你的一件违规已确认，可在 7 天内申诉。",
            url=f"/me/cases/{pk}/",
            subject_key=f"case:{pk}:confirmed",
            created_at=told_at,
            read_at=None if index % 10 == 0 else told_at + dt.timedelta(hours=3),
        )
        made.append(notice)
    with _settable(Notice, "created_at"):
        Notice.objects.bulk_create(made, batch_size=2000)
    failed = EmailDelivery.Status.FAILED
    emails = [
        EmailDelivery(
            notice=notice,
            to=f"{notice.recipient.username}@junma.example",
            subject=notice.title,
            body=notice.body,
            status=failed if index % failed_every == 0 else EmailDelivery.Status.SENT,
            attempts=5 if index % failed_every == 0 else 1,
            last_error="SMTP 550" if index % failed_every == 0 else "",
            sent_at=None if index % failed_every == 0 else notice.created_at,
            created_at=notice.created_at,
        )
        for index, notice in enumerate(made)
    ]
    with _settable(EmailDelivery, "created_at"):
        EmailDelivery.objects.bulk_create(emails, batch_size=2000)
    return len(made)


def migrate_copy() -> list[str]:
    """Apply migrations added since the base was built (an index someone just added) to this
    run's copy, ANALYZE if any was applied; the names applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return []
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


# -- the pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    label: str
    urls: tuple[str, ...]  # one picked at random per request (a group, a case …)


def discover_pages(args) -> list[Page]:
    """The pages HR browses, from the admin's URL names; ids and the search term from the data."""
    from django.urls import reverse

    from groups.models import ChatGroup
    from violations.models import Case

    rng = random.Random(args.seed)

    def admin(name: str, *pk: int) -> str:
        return reverse(f"admin:{name}", args=pk)

    groups = list(ChatGroup.objects.filter(is_active=True).values_list("pk", flat=True))
    case_ids = list(Case.objects.values_list("pk", flat=True))
    cases = rng.sample(case_ids, min(200, len(case_ids)))
    proposed = list(Case.objects.filter(state="proposed").values_list("pk", flat=True)[:50])
    searched = Case.objects.filter(pk__in=cases[:20]).values_list("employee__name", flat=True)
    case_list = admin("violations_case_changelist")
    pages = [
        Page("admin index", (admin("index"),)),
        Page("group list", (admin("groups_chatgroup_changelist"),)),
        Page("group page", tuple(admin("groups_chatgroup_change", pk) for pk in groups)),
        Page("findings", (admin("groups_finding_changelist"),)),
        Page("roster snapshots", (admin("groups_rostersnapshot_changelist"),)),
        Page("employees", (admin("members_employee_changelist"),)),
        Page("personnel events", (admin("members_personnelevent_changelist"),)),
        Page("cases", (case_list,)),
        Page("cases: proposed", (f"{case_list}?state__exact=proposed",)),
        Page(
            "cases: search",
            tuple(f"{case_list}?{urllib.parse.urlencode({'q': name})}" for name in searched),
        ),
        Page(
            "case page",
            tuple(admin("violations_case_change", pk) for pk in cases[:100] + proposed[:10]),
        ),
        Page("appraisal periods", (admin("appraisal_period_changelist"),)),
        Page("results", (admin("appraisal_result_changelist"),)),
        Page("lines", (admin("appraisal_line_changelist"),)),
        Page("settlements", (admin("appraisal_settlement_changelist"),)),
        Page("directives", (admin("directives_directive_changelist"),)),
        Page("announcements", (admin("announcements_announcement_changelist"),)),
        Page("notices (emails)", (admin("notices_emaildelivery_changelist"),)),
        Page("/me/", (reverse("me:case_list"),)),
    ]
    return pages


# -- the load ----------------------------------------------------------------------------------


def run_load(args, pages: list[Page], migrated: list[str]) -> int:
    from django.db import connection

    label = database_label(args)
    url = database_url(args)
    connection.close()  # the server's workers are the only clients during the run
    collect_static()
    port = free_port()
    extra = dict(item.split("=", 1) for item in args.server_env)
    server = Gunicorn(port=port, workers=args.workers, database_url=url, extra=extra)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.start()
        host = f"127.0.0.1:{port}"
        check_static(host)
        users = [User(host, USERNAME.format(i)) for i in range(1, args.users + 1)]
        start = time.perf_counter()
        for user in users:  # one after the other: the password hash is slow on purpose
            user.log_in()
        print(f"{len(users)} users logged in, in {time.perf_counter() - start:.1f} s")
        print(f"before: {load_average()}")
        results = browse(users, pages, args, server)
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    print(
        f"admin under load: {label}, {args.employees:,} employees, {args.cases:,} bulk cases; "
        f"gunicorn --workers {args.workers} (config.settings.production), {args.users} HR users, "
        f"{args.duration:g} s, think time {args.think:g} s; {os.cpu_count()} cores"
    )
    if migrated:
        print(f"migrations applied to the copy: {', '.join(migrated)}")
    return report(results, pages, args)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def database_url(args) -> str:
    from django.db import connection

    name = connection.settings_dict["NAME"]
    return f"{args.pg}/{name}" if args.database == "postgres" else f"sqlite:///{name}"


def server_environment(database_url: str) -> dict[str, str]:
    """config.settings.production as README deploys it, behind a TLS-terminating proxy (this
    script) on 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEMO_"))}
    env.pop("CELERY_BROKER_URL", None)  # browsing queues nothing
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_TLS_TERMINATED_BY_PROXY="true",
        DJANGO_STATIC_ROOT=STATIC_ROOT,
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
    )
    return env


def collect_static() -> None:
    start = time.perf_counter()
    subprocess.run(  # noqa: S603 — our own manage.py
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=server_environment("sqlite:///:memory:"),
        cwd=ROOT,
        check=True,
    )
    print(f"collectstatic: {time.perf_counter() - start:.1f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn as README starts it, on 127.0.0.1, in its own process group (stopped with it)."""

    def __init__(self, *, port: int, workers: int, database_url: str, extra: dict) -> None:
        self.port, self.workers, self.database_url = port, workers, database_url
        self.extra = extra
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--timeout", str(REQUEST_TIMEOUT_S)]
        self.log = open(GUNICORN_LOG, "w")  # closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env={**server_environment(self.database_url), **self.extra},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}: {GUNICORN_LOG}")
            try:
                status, _, _ = request("127.0.0.1", self.port, "GET", "/admin/login/")
                if status == 200:
                    settings = " ".join(f"{k}={v}" for k, v in self.extra.items())
                    print(f"gunicorn: {' '.join(command[1:])} {settings} (log: {GUNICORN_LOG})")
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer within 60 s: {GUNICORN_LOG}")

    def cpu_by_process(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds used so far by each gunicorn worker, and by each PostgreSQL backend
        connected to the run's database (persistent connections: DJANGO_CONN_MAX_AGE)."""
        workers = {}
        master = self.process.pid if self.process else None
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent(entry.name) == master:
                workers[int(entry.name)] = process_cpu(entry.name)
        backends = {}
        if self.database_url.startswith("postgres"):
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                ).fetchall()
            backends = {pid: process_cpu(str(pid)) for (pid,) in pids}
        return workers, backends

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log is not None:
            self.log.close()


def _stat(pid: str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rindex(")") + 2 :].split()


def _parent(pid: str) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def process_cpu(pid: str) -> float:
    """User + system CPU seconds of a process (0 once it is gone)."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(
    host: str, port: int, method: str, path: str, *, headers=None, body=None
) -> tuple[int, dict, bytes]:
    """One request over a fresh connection (gunicorn's sync workers close it after each response);
    (status, headers with lowercase names — Set-Cookie as a list —, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        found: dict = {"set-cookie": []}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                found["set-cookie"].append(value)
            else:
                found[name.lower()] = value
        return response.status, found, data
    finally:
        conn.close()


CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class User:
    """One HR user's browser: its cookies, as the proxy forwards it (X-Forwarded-Proto: https)."""

    def __init__(self, host: str, username: str) -> None:
        self.host, self.username = host, username
        self.address, port = host.split(":")
        self.port = int(port)
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, *, body=None, extra=None) -> tuple[int, dict, bytes]:
        headers = {"Host": self.host, "X-Forwarded-Proto": "https", "User-Agent": "admin-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        status, found, data = request(
            self.address, self.port, method, path, headers=headers, body=body
        )
        for line in found["set-cookie"]:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return status, found, data

    def log_in(self) -> None:
        path = "/admin/login/?next=/admin/"
        status, _, page = self.send("GET", path)
        token = CSRF_FIELD.search(page)
        if status != 200 or token is None:
            raise SystemExit(f"{self.username}: the login page answered {status}")
        form = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": self.username,
            "password": PASSWORD,
            "next": "/admin/",
        }
        status, _, _ = self.send(
            "POST",
            path,
            body=urllib.parse.urlencode(form),
            extra={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{self.host}",
                "Referer": f"https://{self.host}{path}",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"{self.username}: login answered {status}, not a redirect")


def check_static(host: str) -> None:
    """The login page's stylesheet, by its hashed name, from WhiteNoise."""
    address, port = host.split(":")
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    _, _, page = request(address, int(port), "GET", "/admin/login/", headers=headers)
    found = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', page)
    if found is None:
        raise SystemExit("the login page links no hashed base.css: static files not collected?")
    status, _, _ = request(address, int(port), "GET", found.group(1).decode(), headers=headers)
    if status != 200:
        raise SystemExit(f"{found.group(1).decode()} answered {status}")


@dataclass
class Sample:
    page: str
    ms: float
    status: int
    error: str = ""


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0
    cpu_busy: float = 0.0  # the machine's, during the run (share of all cores)
    load_after: str = ""
    server_cpu: float = 0.0  # seconds of CPU the gunicorn workers used during the run
    database_cpu: float = 0.0  # and the PostgreSQL backends serving them


def browse(users: list[User], pages: list[Page], args, server: Gunicorn) -> Results:
    results = Results()
    lock = threading.Lock()
    stop = threading.Event()
    login_path = "/admin/login/"

    def walk(user: User, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            order = pages[:]
            rng.shuffle(order)
            for page in order:
                if stop.is_set():
                    return
                path = rng.choice(page.urls)
                started = time.perf_counter()
                try:
                    status, found, _ = user.send("GET", path)
                    error = ""
                    if not 200 <= status < 400:
                        error = f"HTTP {status}"
                    elif login_path in found.get("location", ""):
                        error = "redirected to the login page"
                except OSError as exc:
                    status, error = 0, f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    results.samples.append(Sample(page.label, ms, status, error))
                if args.think:
                    stop.wait(args.think * rng.uniform(0.5, 1.5))

    busy0, total0 = cpu_times()
    server0, database0 = server.cpu_by_process()
    started = time.perf_counter()
    threads = [
        threading.Thread(target=walk, args=(user, args.seed * 1000 + i), daemon=True)
        for i, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
        time.sleep(min(args.think, 1.0) / len(threads))  # users arrive spread over a second
    try:
        deadline = started + args.duration
        while time.perf_counter() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.perf_counter())))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
    results.seconds = time.perf_counter() - started
    busy1, total1 = cpu_times()
    results.cpu_busy = (busy1 - busy0) / max(1, total1 - total0)
    results.load_after = load_average()
    server1, database1 = server.cpu_by_process()
    results.server_cpu = sum(cpu - server0.get(pid, 0.0) for pid, cpu in server1.items())
    results.database_cpu = sum(cpu - database0.get(pid, 0.0) for pid, cpu in database1.items())
    return results


def percentile(sorted_ms: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the samples at or below it."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * share // 1))
    return sorted_ms[int(rank) - 1]


def report(results: Results, pages: list[Page], args) -> int:
    by_page: dict[str, list[Sample]] = {page.label: [] for page in pages}
    for sample in results.samples:
        by_page[sample.page].append(sample)
    width = max(len(label) for label in by_page) + 2
    print(
        f"{'page':<{width}}{'requests':>9}{'errors':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}  ms"
    )
    missed = []

    def line(label: str, samples: list[Sample]) -> None:
        ms = sorted(s.ms for s in samples)
        errors = sum(1 for s in samples if s.error)
        p95, p99 = percentile(ms, 0.95), percentile(ms, 0.99)
        over = p95 >= P95_TARGET_MS or p99 >= P99_TARGET_MS or errors
        mark = "  ✗" if over else ""
        if over and label != "all":
            missed.append(label)
        print(
            f"{label:<{width}}{len(ms):>9}{errors:>7}{percentile(ms, 0.5):>7.0f}"
            f"{p95:>7.0f}{p99:>7.0f}{(ms[-1] if ms else 0):>7.0f}{mark}"
        )

    for label, samples in by_page.items():
        line(label, samples)
    line("all", results.samples)
    total = len(results.samples)
    print(
        f"{total} requests in {results.seconds:.1f} s ({total / results.seconds:.1f}/s); "
        f"CPU busy {results.cpu_busy:.0%} of {os.cpu_count()} cores during the run; "
        f"after: {results.load_after}"
    )
    if total:
        workers, database = results.server_cpu / total * 1000, results.database_cpu / total * 1000
        if database:
            capacity = os.cpu_count() * 1000 / (workers + database)
            print(
                f"server CPU per request: gunicorn workers {workers:.0f} ms + PostgreSQL"
                f" {database:.0f} ms; capacity on {os.cpu_count()} cores ≈ {capacity:.0f} requests/s"
            )
        else:  # a connection per request: its backends were gone before they could be read
            print(
                f"server CPU per request: gunicorn workers {workers:.0f} ms; PostgreSQL not"
                " measured (no persistent connections)"
            )
    errors = [s for s in results.samples if s.error]
    for sample in errors[:10]:
        print(f"error: {sample.page}: {sample.error}")
    if missed:
        print(
            f"over target (p95 < {P95_TARGET_MS} ms, p99 < {P99_TARGET_MS} ms, no error): "
            + ", ".join(missed)
        )
    else:
        print(f"every page within target (p95 < {P95_TARGET_MS} ms, p99 < {P99_TARGET_MS} ms)")
    if errors:
        print(f"{len(errors)} errors; the server's log: {GUNICORN_LOG}")
        return 1
    return 2 if missed and args.strict else 0


# -- diagnosis ---------------------------------------------------------------------------------


def diagnose(args, pages: list[Page]) -> None:
    """Each page once (its first URL) as one HR user through the test client: queries, SQL time,
    wall time, the slowest queries (with --explain their plans; with --profile where Python spent
    the time)."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(f"diagnosis: {database_label(args)}, {load_average()}")
    client = Client(SERVER_NAME="127.0.0.1", raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=USERNAME.format(1)))
    for page in pages:
        if args.page and not any(p in page.label for p in args.page):
            continue
        path = page.urls[0]
        client.get(path)  # warm: the first request of a page fills caches
        runs = []
        for _ in range(max(args.runs, 1)):  # the fastest of a few: the machine is shared
            profile = cProfile.Profile() if args.profile else None
            started, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as queries:
                if profile:
                    profile.enable()
                response = client.get(path)
                if profile:
                    profile.disable()
            wall = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000
            runs.append((wall, cpu, queries, profile, response))
        wall, cpu, queries, profile, response = min(runs, key=lambda run: run[0])
        cpu = min(run[1] for run in runs)
        median_cpu = statistics.median(run[1] for run in runs)
        timed = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
        sql_ms = sum(float(q["time"]) for q in timed) * 1000
        print(
            f"\n== {page.label}: {path} → {response.status_code}, {len(timed)} queries, "
            f"SQL {sql_ms:.0f} ms, wall {wall:.0f} ms, Python CPU {cpu:.0f} ms "
            f"(median of {len(runs)}: {median_cpu:.0f} ms)"
        )
        for query in timed[:3]:
            print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:400]}")
        if args.explain and timed and float(timed[0]["time"]) * 1000 >= EXPLAIN_FROM_MS:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + timed[0]["sql"])
                for (row,) in cursor.fetchall()[:EXPLAIN_LINES]:
                    print(f"    {row}")
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(PROFILE_LINES)
            print(out.getvalue())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: gunicorn stopped, nothing reported")
        sys.exit(130)
