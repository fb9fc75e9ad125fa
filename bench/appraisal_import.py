"""Benchmark: importing finance's settlement sheet (docs/performance.md, "Finance import").

Run by hand, never in the test suite:

    .venv/bin/python bench/appraisal_import.py [--employees 20000]
        [--db /tmp/bench-appraisal-import.sqlite3] [--fresh] [--skip-naive]

It builds the demo company in a SQLite database (or reuses one built before with the same
size), makes three locked periods with a Result per employee (bulk-created directly, with
the same 扣分合计 in each), writes finance's sheet of one row per employee (xlsx, openpyxl
write-only: the 汇总 columns plus 扣款金额 and 备注), then times on that same file:

- ours, the service (``manage.py import_appraisal``): dry run, then commit (target: the two
  together ≤ 20 s); then the same file again (nothing changes) and a file in which every
  amount changed (20,000 updates with history);
- ours through django-import-export (``SettlementResource``, what the admin runs): the
  preview (a dry run) and the confirmation;
- django-import-export's row-by-row default, for the before/after: a plain ModelResource
  with a ForeignKeyWidget for 工号, the instance loader's query per row, the same 扣分合计
  check as one query per row, no bulk, a save() (and history row) per row.

Uploaded files are kept in a temporary MEDIA_ROOT, removed at the end. Figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PERIODS = {"ours": "2031-01", "resource": "2031-02", "naive": "2031-03"}
DEDUCTIONS = [Decimal(points) for points in ("0", "0", "1", "1.5", "2", "3", "4.5", "7.5")]
HEADERS = ["工号", "姓名", "部门", "扣分合计", "警告次数", "最终得分", "扣款金额", "备注"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="/tmp/bench-appraisal-import.sqlite3")  # noqa: S108
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()

    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    media = tempfile.mkdtemp(prefix="bench-appraisal-import-")
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ["DJANGO_MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    import django

    django.setup()
    try:
        run(args)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(args) -> None:
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
    periods = {path: locked_period(code, staff) for path, code in PERIODS.items()}
    t2 = time.perf_counter()
    data = finance_sheet(staff, extra=Decimal("0"))
    changed = finance_sheet(staff, extra=Decimal("1"))
    t3 = time.perf_counter()
    print(f"company: {len(staff)} employees, built in {t1 - t0:.1f} s")
    print(f"periods: {len(periods)} locked, {len(staff)} results each, made in {t2 - t1:.1f} s")
    print(f"finance sheet: {len(staff)} rows, {len(data) / 1024:.0f} KB xlsx, written in {t3 - t2:.1f} s")  # fmt: skip

    ours(periods["ours"], data, changed, rows=len(staff))
    through_resource(periods["resource"], data, rows=len(staff))
    if not args.skip_naive:
        naive(periods["naive"], data, rows=len(staff))


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


def settled(period) -> int:
    from appraisal.models import Settlement

    return Settlement.objects.filter(period=period).count()


def timed(label: str, function):
    start = time.perf_counter()
    value = function()
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s")
    return value, elapsed


# -- ours: the service ---------------------------------------------------------------------------


def ours(period, data: bytes, changed: bytes, *, rows: int) -> None:
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
    report, dry = timed("dry run", lambda: call(data, True))
    assert report.new == rows
    assert settled(period) == 0
    report, commit = timed("commit (all new)", lambda: call(data, False))
    assert report.new == rows
    assert settled(period) == rows
    print(f"  dry run + commit: {dry + commit:.2f} s (target ≤ 20 s)")
    report, _ = timed("the same file again (all unchanged)", lambda: call(data, False))
    assert report.unchanged == rows
    report, _ = timed("every amount changed (all updated)", lambda: call(changed, False))
    assert report.updated == rows


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
    _, preview = timed("preview (dry run)", lambda: call(True))
    assert settled(period) == 0
    _, confirm = timed("confirm (commit)", lambda: call(False))
    assert settled(period) == rows
    print(f"  preview + confirm: {preview + confirm:.2f} s")


# -- before: django-import-export's row-by-row default ------------------------------------------


def naive(period, data: bytes, *, rows: int) -> None:
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
    _, dry = timed("dry run", lambda: call(True))
    assert settled(period) == 0
    _, commit = timed("commit (all new)", lambda: call(False))
    assert settled(period) == rows
    print(f"  dry run + commit: {dry + commit:.2f} s")


if __name__ == "__main__":
    main()
