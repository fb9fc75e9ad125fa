"""Benchmark: importing finance's settlement sheet (docs/performance.md, "Finance import").

Run by hand, never in the test suite:

    .venv/bin/python bench/appraisal_import.py [--employees 20000] [--fresh] [--skip-naive]
    .venv/bin/python bench/appraisal_import.py --database postgres [--pg URL] [--skip-naive]
    .venv/bin/python bench/appraisal_import.py --only resource,admin   # some passes only

It builds the demo company (bench/_db.py: SQLite or PostgreSQL, once per size, ANALYZEd after
the bulk load) with four locked periods of a Result per employee (bulk-created directly, the
same 扣分合计 in each), and on a fresh copy of that database writes finance's sheet of one row
per employee (xlsx, openpyxl write-only: the 汇总 columns plus 扣款金额 and 备注), then times
on that same file:

- ours, the service (``manage.py import_appraisal``): dry run, then commit (target: the two
  together ≤ 3 s); then the same file again (nothing changes) and a file in which every
  amount changed (20,000 updates with history);
- ours through django-import-export (``SettlementResource``, what the admin runs): the
  preview (a dry run) and the confirmation;
- the admin's own pages, through Django's test client logged in as a finance clerk: the
  upload POSTed to the import page (the multipart upload read, import-export's temporary
  file written and read back, the dataset, the dry run, the preview page of every row
  rendered) and the confirmation POSTed to process_import (the signed token checked, the
  stored file read again, the import, the redirect) — everything the clerk waits for
  between clicking and seeing the next page, but the network and the browser;
- the library's fastest bulk mode, for scale: a plain ModelResource with ``use_bulk``,
  ``skip_diff`` and ``force_init_instance`` (no check of any row, no history), dry run and commit;
- django-import-export's row-by-row default, for the before/after: a plain ModelResource
  with a ForeignKeyWidget for 工号, the instance loader's query per row, the same 扣分合计
  check as one query per row, no bulk, a save() (and history row) per row.

Each figure is printed with the machine's load average (2 shared cores). Uploaded files are
kept in a temporary MEDIA_ROOT, removed at the end. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import random
import re
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._db import (  # noqa: E402 — after the path is set
    add_database_arguments,
    database_label,
    load_average,
    open_database,
)

PERIODS = {
    "ours": "2031-01",
    "resource": "2031-02",
    "bulk": "2031-03",
    "naive": "2031-04",
    "admin": "2031-05",
}
DEDUCTIONS = [Decimal(points) for points in ("0", "0", "1", "1.5", "2", "3", "4.5", "7.5")]
HEADERS = ["工号", "姓名", "部门", "扣分合计", "警告次数", "最终得分", "扣款金额", "备注"]
TARGET = 3.0  # seconds, dry run + commit of 20,000 rows (issue: "the finance import in seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow baseline")
    parser.add_argument(
        "--only",
        default="",
        help="run only these passes, comma-separated: ours, resource, admin, bulk, naive",
    )
    add_database_arguments(parser)
    args = parser.parse_args()

    media = tempfile.mkdtemp(prefix="bench-appraisal-import-")
    os.environ["DJANGO_MEDIA_ROOT"] = media
    os.environ["IMPORT_TMP_DIR"] = os.path.join(media, "import-previews")
    try:
        t0 = time.perf_counter()
        open_database(args, name=f"appraisal_import_{args.employees}", build=lambda: build(args))
        print(f"database: {database_label(args)}, ready in {time.perf_counter() - t0:.1f} s")
        run(args)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def build(args) -> None:
    from django.core.management import call_command
    from django.utils import timezone

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
    staff = appraised_staff(args.seed)
    for code in PERIODS.values():
        locked_period(code, staff)
    print(f"built: {len(staff)} employees in {t1 - t0:.1f} s, {len(PERIODS)} locked periods of {len(staff)} results each in {time.perf_counter() - t1:.1f} s")  # fmt: skip


def run(args) -> None:
    from appraisal.models import Period

    periods = {path: Period.objects.filter(code=code).first() for path, code in PERIODS.items()}
    for path, code in PERIODS.items():
        if periods[path] is None:  # a base built before this period was added
            periods[path] = locked_period(code, appraised_staff(args.seed))
    staff = period_staff(periods["ours"])
    t0 = time.perf_counter()
    data = finance_sheet(staff, extra=Decimal("0"))
    changed = finance_sheet(staff, extra=Decimal("1"))
    print(f"finance sheet: {len(staff)} rows, {len(data) / 1024:.0f} KB xlsx, written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    print(load_average())

    only = set(filter(None, args.only.split(",")))
    if args.skip_naive:
        only = (only or set(PERIODS)) - {"naive"}
    wanted = only.__contains__ if only else (lambda _: True)
    best = bulk = slow = None
    if wanted("ours"):
        best = ours(periods["ours"], data, changed, rows=len(staff))
    if wanted("resource"):
        through_resource(periods["resource"], data, rows=len(staff))
    if wanted("admin"):
        through_admin(periods["admin"], data, rows=len(staff))
    if wanted("bulk"):
        bulk = library_bulk(periods["bulk"], data, rows=len(staff))
    if best and bulk:
        print(f"ours / library bulk mode: {best[0] / bulk[0]:.2f}× wall, {best[1] / bulk[1]:.2f}× CPU")  # fmt: skip
    if wanted("naive"):
        slow = naive(periods["naive"], data, rows=len(staff))
    if best and slow:
        print(f"row by row / ours: {slow[0] / best[0]:.1f}× wall, {slow[1] / best[1]:.1f}× CPU")


# -- the data ------------------------------------------------------------------------------------


def appraised_staff(seed: int) -> list[tuple[int, str, str, str, Decimal]]:
    """(id, 工号, 姓名, 部门, 扣分合计) per employee, the same 扣分合计 in every period."""
    from members.models import Employee

    rng = random.Random(seed)
    return [
        (pk, employee_no, name, department or "", rng.choice(DEDUCTIONS))
        for pk, employee_no, name, department in Employee.objects.order_by(
            "employee_no"
        ).values_list("pk", "employee_no", "name", "department__path")
    ]


def locked_period(code: str, staff):
    """A locked period with one Result per employee and no settlement yet (made afresh)."""
    from appraisal.models import Period, Result, Settlement, SettlementImport
    from appraisal.services import period_get_or_create

    period = period_get_or_create(code=code)
    Settlement.objects.filter(period=period).delete()
    SettlementImport.objects.filter(period=period).delete()
    Result.objects.filter(period=period).delete()
    Result.objects.bulk_create(
        [
            Result(
                period=period,
                employee_id=pk,
                department_path=department,
                base_score=Decimal("100"),
                deducted=deducted,
                warnings=0,
                final_score=Decimal("100") - deducted,
            )
            for pk, _, _, department, deducted in staff
        ],
        batch_size=2000,
    )
    Period.objects.filter(pk=period.pk).update(state=Period.State.LOCKED)
    period.refresh_from_db()
    return period


def finance_sheet(staff, *, extra: Decimal) -> bytes:
    """The 汇总 sheet with 扣款金额 (10 yuan a point, plus ``extra``) and 备注, write-only."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("汇总")
    sheet.append(HEADERS)
    for _, employee_no, name, department, deducted in staff:
        amount = deducted * 10 + extra
        # A note in every row: django-import-export's own xlsx reader (the baseline) fails
        # with tablib's InvalidDimensions when trailing cells are empty.
        note = "工资扣除" if amount else "无扣款"
        sheet.append([employee_no, name, department, deducted, 0, 100 - deducted, amount, note])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def period_staff(period) -> list[tuple[int, str, str, str, Decimal]]:
    """(id, 工号, 姓名, 部门, 扣分合计) of the period's results, as the 汇总 sheet lists them."""
    from appraisal.models import Result

    return list(
        Result.objects.filter(period=period)
        .order_by("employee__employee_no")
        .values_list(
            "employee_id", "employee__employee_no", "employee__name", "department_path", "deducted"
        )
    )


def settled(period) -> int:
    from appraisal.models import Settlement

    return Settlement.objects.filter(period=period).count()


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far, read from /proc when the
    server runs on this machine (0 on SQLite, which works in this process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(label: str, function):
    """Run ``function`` and print its wall time and the CPU time spent on it — this process's
    and its PostgreSQL backend's: on 2 shared cores the wall time grows with the load, the
    CPU time much less."""
    server, own = backend_cpu(), time.process_time()
    start = time.perf_counter()
    value = function()
    elapsed = time.perf_counter() - start
    own, server = time.process_time() - own, backend_cpu() - server
    cpu = f"CPU {own + server:.2f} s" + (f" = {own:.2f} here + {server:.2f} PostgreSQL" if server else "")  # fmt: skip
    print(f"  {label}: {elapsed:.2f} s ({cpu}; {load_average()})")
    return value, elapsed, own + server


# -- ours: the service ---------------------------------------------------------------------------


def ours(period, data: bytes, changed: bytes, *, rows: int) -> tuple[float, float]:
    from appraisal.services.settlements import settlement_import
    from common.actors import SystemActor

    def call(payload: bytes, dry_run: bool):
        report = settlement_import(
            period=period,
            data=payload,
            filename="扣款表.xlsx",
            actor=SystemActor("bench"),
            dry_run=dry_run,
        )
        assert not report.errors, report.errors[:3]
        return report

    print(f"ours, settlement_import() ({rows} rows):")
    report, dry, dry_cpu = timed("dry run", lambda: call(data, True))
    assert report.new == rows
    assert settled(period) == 0
    report, commit, commit_cpu = timed("commit (all new)", lambda: call(data, False))
    assert report.new == rows
    assert settled(period) == rows
    print(f"  dry run + commit: {dry + commit:.2f} s, CPU {dry_cpu + commit_cpu:.2f} s (target ≤ {TARGET:.0f} s)")  # fmt: skip
    report, _, _ = timed("the same file again (all unchanged)", lambda: call(data, False))
    assert report.unchanged == rows
    report, _, _ = timed("every amount changed (all updated)", lambda: call(changed, False))
    assert report.updated == rows
    return dry + commit, dry_cpu + commit_cpu


# -- ours: through django-import-export (the admin's preview and confirmation) ------------------


def through_resource(period, data: bytes, *, rows: int) -> None:
    from appraisal.resources import SettlementResource, SettlementXLSXFormat
    from common.actors import SystemActor

    def call(dry_run: bool):
        dataset = SettlementXLSXFormat().create_dataset(data)
        result = SettlementResource(period=period).import_data(
            dataset,
            dry_run=dry_run,
            file_name="扣款表.xlsx",
            retain_instance_in_row_result=True,
            user=SystemActor("bench"),
        )
        assert not result.has_errors()
        assert not result.has_validation_errors()
        return result

    print(f"ours, SettlementResource through django-import-export ({rows} rows):")
    _, preview, preview_cpu = timed("preview (dry run)", lambda: call(True))
    assert settled(period) == 0
    _, confirm, confirm_cpu = timed("confirm (commit)", lambda: call(False))
    assert settled(period) == rows
    print(f"  preview + confirm: {preview + confirm:.2f} s, CPU {preview_cpu + confirm_cpu:.2f} s")


# -- ours through the admin's pages: what the clerk waits for ----------------------------------


def finance_clerk():
    """A staff login in the finance role (the demo's personas need a password; this one has
    none and is logged in by the test client)."""
    from django.contrib.auth import get_user_model

    from company.roles import FINANCE, seed_roles

    user, _ = get_user_model().objects.get_or_create(
        username="bench-finance-clerk", defaults={"is_staff": True}
    )
    user.set_unusable_password()
    user.save()
    user.groups.add(seed_roles()[FINANCE])
    return user


def through_admin(period, data: bytes, *, rows: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from appraisal.resources import SETTLEMENT_FORMATS, SettlementXLSXFormat

    client = Client(HTTP_HOST="localhost")
    client.force_login(finance_clerk())
    import_url = "/admin/appraisal/settlement/import/"
    assert client.get(import_url).status_code == 200  # warms the URLconf, templates, caches
    xlsx = str(SETTLEMENT_FORMATS.index(SettlementXLSXFormat))

    def preview():
        upload = SimpleUploadedFile("扣款表.xlsx", data)
        form = {"period": period.pk, "format": xlsx, "resource": "0", "import_file": upload}
        response = client.post(import_url, form)
        assert response.status_code == 200, response.status_code
        page = response.content.decode()
        assert 'name="confirm"' in page, page[:2000]
        return response, page

    def confirm(fields: dict[str, str]):
        done = client.post(
            "/admin/appraisal/settlement/process_import/", {**fields, "confirm": "1"}
        )
        assert done.status_code == 302, (done.status_code, done.content[:2000])
        return done

    print(f"ours, the admin's pages through the test client ({rows} rows):")
    (_, page), shown, shown_cpu = timed("preview (upload, dry run, page)", preview)
    assert settled(period) == 0
    print(f"    the preview page: {len(page.encode()) / 1024:.0f} KB of HTML")
    # The confirm form's hidden fields, as the browser posts them back.
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    fields = {name: html.unescape(value) for name, value in hidden}
    _, done, done_cpu = timed("confirm (commit, redirect)", lambda: confirm(fields))
    assert settled(period) == rows
    print(f"  preview + confirm: {shown + done:.2f} s, CPU {shown_cpu + done_cpu:.2f} s (target ≤ {TARGET:.0f} s)")  # fmt: skip


# -- the library's fastest bulk mode, no checks: the floor the issue compares with --------------


def library_bulk(period, data: bytes, *, rows: int) -> tuple[float, float]:
    from django.core.files.base import ContentFile
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import XLSX

    from appraisal.models import Settlement, SettlementImport
    from members.models import Employee

    record = SettlementImport(period=period, file_name="扣款表.xlsx")
    record.file.save("扣款表.xlsx", ContentFile(data), save=False)
    record.save()
    # Read before the clock starts: the floor has no query per row (ForeignKeyWidget's, or
    # the one str(settlement) makes for an employee not loaded with it).
    employees = {e.employee_no: e for e in Employee.objects.only("employee_no", "name")}

    class EmployeeNoWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            return employees[str(value)]

    class BulkSettlementResource(resources.ModelResource):
        employee = fields.Field(attribute="employee", column_name="工号", widget=EmployeeNoWidget())  # fmt: skip
        amount = fields.Field(attribute="amount", column_name="扣款金额", widget=widgets.DecimalWidget())  # fmt: skip
        note = fields.Field(attribute="note", column_name="备注", widget=widgets.CharWidget())

        class Meta:
            model = Settlement
            fields = ("employee", "amount", "note")
            use_bulk = True
            skip_diff = True
            force_init_instance = True
            batch_size = 1000

        def init_instance(self, row=None):
            return Settlement(period=period, imported_in=record)

    def call(dry_run: bool):
        dataset = XLSX().create_dataset(data)
        result = BulkSettlementResource().import_data(
            dataset, dry_run=dry_run, use_transactions=True
        )
        assert not result.has_errors(), result.base_errors or result.row_errors()[:1]
        return result

    print(f"library: django-import-export's fastest bulk mode, no checks, no history ({rows} rows):")  # fmt: skip
    _, dry, dry_cpu = timed("dry run", lambda: call(True))
    assert settled(period) == 0
    _, commit, commit_cpu = timed("commit (all new)", lambda: call(False))
    assert settled(period) == rows
    print(f"  dry run + commit: {dry + commit:.2f} s, CPU {dry_cpu + commit_cpu:.2f} s")
    return dry + commit, dry_cpu + commit_cpu


# -- before: django-import-export's row-by-row default ------------------------------------------


def naive(period, data: bytes, *, rows: int) -> tuple[float, float]:
    from django.core.files.base import ContentFile
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import XLSX

    from appraisal.models import Result, Settlement, SettlementImport
    from members.models import Employee

    record = SettlementImport(period=period, file_name="扣款表.xlsx")
    record.file.save("扣款表.xlsx", ContentFile(data), save=False)
    record.save()

    class NaiveSettlementResource(resources.ModelResource):
        employee = fields.Field(
            attribute="employee",
            column_name="工号",
            widget=widgets.ForeignKeyWidget(Employee, "employee_no"),
        )
        amount = fields.Field(attribute="amount", column_name="扣款金额", widget=widgets.DecimalWidget())  # fmt: skip
        note = fields.Field(attribute="note", column_name="备注", widget=widgets.CharWidget())

        class Meta:
            model = Settlement
            fields = ("employee", "amount", "note")
            import_id_fields = ("employee",)
            skip_unchanged = True

        def get_queryset(self):
            return Settlement.objects.filter(period=period)

        def init_instance(self, row=None):
            return Settlement(period=period, imported_in=record)

        def before_import_row(self, row, **kwargs):
            # The same 扣分合计 check as ours, the way a row-by-row resource does it.
            deducted = (
                Result.objects.filter(period=period, employee__employee_no=str(row["工号"]))
                .values_list("deducted", flat=True)
                .first()
            )
            if deducted is None or Decimal(str(row["扣分合计"])) != deducted:
                raise ValueError(f"扣分合计 {row['扣分合计']} ≠ {deducted}")

    def call(dry_run: bool):
        dataset = XLSX().create_dataset(data)
        result = NaiveSettlementResource().import_data(
            dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True
        )
        assert not result.has_errors(), result.base_errors or result.row_errors()[:1]
        assert not result.has_validation_errors(), result.invalid_rows[:1]
        return result

    print(f"before: django-import-export row by row ({rows} rows):")
    _, dry, dry_cpu = timed("dry run", lambda: call(True))
    assert settled(period) == 0
    _, commit, commit_cpu = timed("commit (all new)", lambda: call(False))
    assert settled(period) == rows
    print(f"  dry run + commit: {dry + commit:.2f} s, CPU {dry_cpu + commit_cpu:.2f} s")
    return dry + commit, dry_cpu + commit_cpu


if __name__ == "__main__":
    main()
