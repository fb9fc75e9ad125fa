"""Finance's settlement sheet (§7.1): service, command, resource, admin."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone
from import_export.admin import ImportMixin

from appraisal.exceptions import AppraisalError
from appraisal.exports import period_workbook
from appraisal.models import Period, Result, Settlement, SettlementImport
from appraisal.resources import (
    ERROR_NO_PERIOD,
    SETTLEMENT_FORMATS,
    SettlementConfirmImportForm,
    SettlementImportForm,
    SettlementResource,
    SettlementXLSXFormat,
)
from appraisal.services import period_compute, period_get_or_create, period_lock
from appraisal.services.settlements import (
    CHANGE_REASON,
    ERROR_NOT_ALLOWED,
    ERROR_NOT_LOCKED,
    LOCATED_ERROR,
    MSG_DEDUCTED_MISMATCH,
    MSG_DUPLICATE,
    MSG_NEGATIVE,
    MSG_NO_RESULT,
    MSG_NOT_A_NUMBER,
    MSG_NOTE_TOO_LONG,
    MSG_PERIOD_BLANK,
    MSG_REQUIRED,
    MSG_TOO_LARGE,
    MSG_TOO_MANY_DECIMALS,
    MSG_UNKNOWN_EMPLOYEE,
    MSG_WRONG_PERIOD,
    NEW,
    PERMISSION,
    UPDATED,
    SettlementChange,
    settlement_import,
)
from common.actors import SystemActor
from common.importing import import_error_lines, import_summary
from common.spreadsheets.headers import ERROR_MISSING_COLUMNS
from company.roles import FINANCE, HR
from members.services import department_get_or_create_by_path
from tests.factories import (
    ChatGroupFactory,
    EmployeeFactory,
    StaffUserFactory,
    UserFactory,
    csv_bytes,
    xlsx_bytes,
)
from violations.models import Rule
from violations.services import case_confirm, case_file

HEADERS = ["工号", "姓名", "部门", "扣分合计", "警告次数", "最终得分", "扣款金额", "备注"]
# The 汇总 sheet as the system has it (工号: 姓名, 扣分合计), and what finance adds.
STAFF = {
    "E001": ("张三", Decimal("3.00")),
    "E002": ("李四", Decimal("4.50")),
    "E003": ("王五", Decimal("0.00")),
}
AMOUNTS = {"E001": 30, "E002": 45.5, "E003": 0}
# The command line without --user: the system acting (common.actors).
COMMAND_LINE = SystemActor("command:import_appraisal")


def located(row: int, column: str, message: str) -> str:
    return LOCATED_ERROR.format(row=row, column=column, message=message)


@pytest.fixture
def period(db) -> Period:
    """2026-11, locked, with the results of E001–E003; E009 exists but was not appraised."""
    period = period_get_or_create(code="2026-11")
    sales = department_get_or_create_by_path(path="销售部")
    for employee_no, (name, deducted) in STAFF.items():
        employee = EmployeeFactory(employee_no=employee_no, name=name, department=sales)
        Result.objects.create(
            period=period,
            employee=employee,
            department_path="销售部",
            base_score=Decimal("100"),
            deducted=deducted,
            warnings=0,
            final_score=Decimal("100") - deducted,
        )
    EmployeeFactory(employee_no="E009", name="赵六", department=sales)
    period.state = Period.State.LOCKED
    period.save()
    return period


@pytest.fixture
def finance(db):
    return StaffUserFactory(
        username="finance", permissions=["appraisal.view_settlement", "appraisal.import_settlement"]
    )


def finance_row(employee_no: str = "E001", **values) -> list:
    name, deducted = STAFF.get(employee_no, ("", Decimal("0")))
    row = {
        "工号": employee_no,
        "姓名": name,
        "部门": "销售部",
        "扣分合计": float(deducted),
        "警告次数": 0,
        "最终得分": float(100 - deducted),
        "扣款金额": AMOUNTS.get(employee_no, 10),
        "备注": "",
    }
    row.update(values)
    return [row[header] for header in HEADERS]


def sheet(*rows: list, headers: list[str] = HEADERS) -> bytes:
    return xlsx_bytes([headers, *rows])


def three_rows(**e002) -> bytes:
    return sheet(finance_row("E001"), finance_row("E002", **e002), finance_row("E003"))


def run(period, data: bytes, *, actor=COMMAND_LINE, dry_run=False, filename="扣款表.xlsx"):
    return settlement_import(
        period=period, data=data, filename=filename, actor=actor, dry_run=dry_run
    )


def everything() -> tuple[int, int, int]:
    """What an import may write; equal before and after means nothing was written."""
    return (
        Settlement.objects.count(),
        Settlement.history.count(),
        SettlementImport.objects.count(),
    )


def amounts(period) -> dict[str, Decimal]:
    return dict(
        Settlement.objects.filter(period=period).values_list("employee__employee_no", "amount")
    )


# --- a good file --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_commit_records_settlements_and_the_import_with_its_file_and_importer(period, finance):
    data = sheet(finance_row("E001", 备注="十一月"), finance_row("E002"), finance_row("E003"))

    report = run(period, data, actor=finance)

    assert (report.errors, report.new, report.updated, report.unchanged) == ((), 3, 0, 0)
    assert amounts(period) == {
        "E001": Decimal("30.00"),
        "E002": Decimal("45.50"),
        "E003": Decimal("0.00"),
    }
    record = SettlementImport.objects.get()
    assert record == report.settlement_import
    assert (record.period, record.imported_by, record.file_name) == (period, finance, "扣款表.xlsx")
    assert (record.rows, record.created, record.updated, record.unchanged) == (3, 3, 0, 0)
    with record.file.open("rb") as stored:
        assert stored.read() == data
    settlement = Settlement.objects.get(employee__employee_no="E001")
    assert (settlement.note, settlement.imported_in) == ("十一月", record)
    history = Settlement.history.filter(employee__employee_no="E001").get()
    assert (history.history_type, history.history_user) == ("+", finance)
    assert history.history_change_reason == CHANGE_REASON.format(pk=record.pk)


@pytest.mark.django_db
def test_dry_run_reports_every_change_and_writes_nothing(period, finance):
    run(period, sheet(finance_row("E002", 扣款金额=100), finance_row("E003")), actor=finance)
    before = everything()

    report = run(period, three_rows(扣款金额=150, 备注="补扣"), actor=finance, dry_run=True)

    assert (report.errors, report.dry_run, report.unchanged) == ((), True, 1)
    assert report.changes == (
        SettlementChange(2, "E001", "张三", NEW, Decimal("30.00"), ""),
        SettlementChange(
            3, "E002", "李四", UPDATED, Decimal("150.00"), "补扣", Decimal("100.00"), ""
        ),
    )
    assert (
        str(report.changes[1]) == "第3行 E002 李四：更新 扣款金额 100.00 → 150.00，备注“” → “补扣”"
    )
    assert report.settlement_import is None
    assert everything() == before
    assert amounts(period) == {"E002": Decimal("100.00"), "E003": Decimal("0.00")}


@pytest.mark.django_db
def test_the_import_plans_with_the_cyclic_collector_paused_and_resumes_it(
    period, finance, monkeypatch
):
    # Some hundreds of thousands of objects live until the report (common.memory).
    import gc

    from appraisal.services.settlements import apply

    seen = []
    real_plan = apply.settlement_plan

    def plan_and_look(**kwargs):
        seen.append(gc.isenabled())
        return real_plan(**kwargs)

    monkeypatch.setattr(apply, "settlement_plan", plan_and_look)
    assert gc.isenabled()
    report = run(period, three_rows(), actor=finance)

    assert not report.errors
    assert seen == [False]
    assert gc.isenabled()


def test_importing_the_same_file_again_changes_nothing(period, finance):
    data = three_rows()
    first = run(period, data, actor=finance).settlement_import
    history = Settlement.history.count()

    report = run(period, data, actor=finance)

    assert (report.errors, report.new, report.updated, report.unchanged) == ((), 0, 0, 3)
    assert Settlement.history.count() == history  # no history row says "nothing changed"
    assert set(Settlement.objects.values_list("imported_in", flat=True)) == {first.pk}
    # Every committed import is kept, even one that changed nothing (the audit trail).
    second = report.settlement_import
    assert (second.rows, second.created, second.updated, second.unchanged) == (3, 0, 0, 3)


@pytest.mark.django_db
def test_a_changed_amount_updates_that_settlement_with_history(period, finance):
    first = run(period, three_rows(), actor=finance).settlement_import

    report = run(period, three_rows(扣款金额="60.50", 备注="更正"), actor=finance)

    assert (report.new, report.updated, report.unchanged) == (0, 1, 2)
    assert [str(change) for change in report.changes] == [
        "第3行 E002 李四：更新 扣款金额 45.50 → 60.50，备注“” → “更正”"
    ]
    settlement = Settlement.objects.get(employee__employee_no="E002")
    assert (settlement.amount, settlement.note) == (Decimal("60.50"), "更正")
    assert settlement.imported_in == report.settlement_import
    old, new = settlement.history.order_by("history_date", "history_id")
    assert (old.amount, new.amount, new.note, new.history_type, new.history_user) == (
        Decimal("45.50"),
        Decimal("60.50"),
        "更正",
        "~",
        finance,
    )
    assert new.history_change_reason == CHANGE_REASON.format(pk=report.settlement_import.pk)
    # The others are as the first import left them.
    assert amounts(period) == {
        "E001": Decimal("30.00"),
        "E002": Decimal("60.50"),
        "E003": Decimal("0.00"),
    }
    others = Settlement.objects.exclude(pk=settlement.pk)
    assert set(others.values_list("imported_in", flat=True)) == {first.pk}
    assert Settlement.history.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda rows: xlsx_bytes(rows), id="xlsx"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="gbk"), id="gbk-csv"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="utf-8-sig"), id="utf8-bom-csv"),
    ],
)
def test_xlsx_and_csv_in_gbk_or_utf8_are_accepted(period, encode):
    rows = [HEADERS, finance_row("E001", 备注="按月扣除"), finance_row("E002")]

    report = run(period, encode(rows), filename="扣款表.csv")

    assert report.errors == ()
    assert amounts(period) == {"E001": Decimal("30.00"), "E002": Decimal("45.50")}
    assert Settlement.objects.get(employee__employee_no="E001").note == "按月扣除"


@pytest.mark.django_db
def test_english_headers_and_only_the_needed_columns_are_enough(period):
    headers = ["No.", "total_deducted", "deduction_amount", "remarks"]

    report = run(period, xlsx_bytes([headers, ["E002", 4.5, "45.5", "ok"]]))

    assert report.errors == ()
    assert amounts(period) == {"E002": Decimal("45.50")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        (0.1 + 0.2, Decimal("0.30")),  # a formula's float, as Excel shows it
        ("¥1,234.50", Decimal("1234.50")),
        ("12元", Decimal("12.00")),
        ("１２.５", Decimal("12.50")),  # full-width digits typed with a Chinese input method
        (7, Decimal("7.00")),
    ],
)
def test_money_is_read_as_finance_writes_it(period, cell, amount):
    report = run(period, sheet(finance_row("E001", 扣款金额=cell)))

    assert report.errors == ()
    assert amounts(period) == {"E001": amount}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["2026-11", dt.date(2026, 11, 1), "2026/11", "2026年11月"], ids=str
)
def test_a_period_column_naming_the_chosen_period_is_accepted(period, value):
    headers = ["考核期间", *HEADERS]

    report = run(period, sheet([value, *finance_row("E001")], headers=headers))

    assert report.errors == ()


# --- bad rows: every error with its row and column, and nothing written ------------------------
BAD_ROWS = [
    pytest.param(
        {"工号": "E999"},
        located(3, "工号", MSG_UNKNOWN_EMPLOYEE.format(employee_no="E999")),
        id="unknown-employee-no",
    ),
    pytest.param(
        {"工号": "E009"},
        located(3, "工号", MSG_NO_RESULT.format(employee_no="E009", name="赵六", period="2026-11")),
        id="employee-without-result",
    ),
    pytest.param(
        {"工号": "E001", "扣分合计": 3.0},
        located(3, "工号", MSG_DUPLICATE.format(employee_no="E001", first_row=2)),
        id="duplicate-employee-no",
    ),
    pytest.param({"工号": None}, located(3, "工号", MSG_REQUIRED), id="blank-employee-no"),
    pytest.param({"扣款金额": None}, located(3, "扣款金额", MSG_REQUIRED), id="amount-missing"),
    pytest.param(
        {"扣款金额": "四十五"},
        located(3, "扣款金额", MSG_NOT_A_NUMBER.format(value="四十五")),
        id="amount-not-a-number",
    ),
    pytest.param(
        {"扣款金额": -5},
        located(3, "扣款金额", MSG_NEGATIVE.format(value="-5")),
        id="amount-negative",
    ),
    pytest.param(
        {"扣款金额": 45.125},
        located(3, "扣款金额", MSG_TOO_MANY_DECIMALS.format(value="45.125")),
        id="amount-three-decimals",
    ),
    pytest.param(
        {"扣款金额": 100_000_000},
        located(3, "扣款金额", MSG_TOO_LARGE.format(value="100000000")),
        id="amount-too-large",
    ),
    pytest.param(
        {"扣分合计": 3},
        located(3, "扣分合计", MSG_DEDUCTED_MISMATCH.format(file="3.00", system="4.50")),
        id="deducted-differs",
    ),
    pytest.param({"扣分合计": None}, located(3, "扣分合计", MSG_REQUIRED), id="deducted-missing"),
    pytest.param(
        {"扣分合计": "x"},
        located(3, "扣分合计", MSG_NOT_A_NUMBER.format(value="x")),
        id="deducted-not-a-number",
    ),
    pytest.param(
        {"备注": "长" * 256},
        located(3, "备注", MSG_NOTE_TOO_LONG.format(limit=255, length=256)),
        id="note-too-long",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "message"), BAD_ROWS)
def test_a_bad_row_is_reported_with_row_and_column_and_nothing_is_written(
    period, finance, media, bad, message
):
    before = everything()

    report = run(period, three_rows(**bad), actor=finance)

    assert report.errors == (message,)
    assert everything() == before
    assert not (media / "settlements").exists()  # the file is not kept either


@pytest.mark.django_db
def test_the_deducted_mismatch_message_names_row_column_and_both_values(period):
    data = sheet(finance_row("E001"), finance_row("E003"), finance_row("E001", 工号="E003"), finance_row("E002", 扣分合计=3))  # fmt: skip

    report = run(period, data)

    assert "第5行「扣分合计」与系统不符：文件 3.00，系统 4.50" in report.errors


@pytest.mark.django_db
def test_every_error_is_listed_in_row_and_column_order(period):
    data = sheet(
        finance_row("E001", 扣分合计=1, 扣款金额=-1),
        finance_row("E002"),
        finance_row("E999", 扣款金额=None),
    )

    report = run(period, data)

    assert report.errors == (
        located(2, "扣分合计", MSG_DEDUCTED_MISMATCH.format(file="1.00", system="3.00")),
        located(2, "扣款金额", MSG_NEGATIVE.format(value="-1")),
        located(4, "工号", MSG_UNKNOWN_EMPLOYEE.format(employee_no="E999")),
        located(4, "扣款金额", MSG_REQUIRED),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-10", MSG_WRONG_PERIOD.format(period="2026-11", value="2026-10")),
        (None, MSG_PERIOD_BLANK.format(period="2026-11")),
    ],
    ids=["another-period", "blank"],
)
def test_a_period_column_must_name_the_chosen_period(period, value, message):
    headers = ["考核期间", *HEADERS]
    data = sheet(["2026-11", *finance_row("E001")], [value, *finance_row("E002")], headers=headers)

    report = run(period, data)

    assert report.errors == (located(3, "考核期间", message),)
    assert everything() == (0, 0, 0)


@pytest.mark.django_db
def test_missing_columns_are_named_in_one_message(period):
    report = run(period, xlsx_bytes([["工号", "姓名"], ["E001", "张三"]]))

    assert report.errors == (ERROR_MISSING_COLUMNS.format(columns="扣分合计、扣款金额"),)


@pytest.mark.django_db
def test_unknown_columns_are_refused(period):
    report = run(period, sheet([*finance_row("E001"), "x"], headers=[*HEADERS, "发放月份"]))

    assert len(report.errors) == 1
    assert "无法识别的列：「发放月份」" in report.errors[0]


@pytest.mark.django_db
@pytest.mark.parametrize("state", [Period.State.OPEN, Period.State.COMPUTED])
def test_a_period_that_is_not_locked_is_refused_with_one_message(period, state):
    Period.objects.filter(pk=period.pk).update(state=state)
    period.refresh_from_db()

    report = run(period, sheet(finance_row("E001", 扣款金额=-1), finance_row("E999")))

    assert report.errors == (ERROR_NOT_LOCKED.format(code="2026-11"),)
    assert everything() == (0, 0, 0)


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_is_refused(period):
    report = run(period, b"%PDF-1.7\n" + bytes(range(64)), filename="扣款表.xlsx")

    assert report.errors == ("无法识别的文件：请上传 Excel 工作簿（.xlsx）或 CSV 文件。",)


# --- permissions --------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("role", [FINANCE, HR])
def test_finance_and_hr_may_import(seeded, period, role):
    user = UserFactory(username=f"{role}-user", roles=[role])

    report = run(period, three_rows(), actor=user)

    assert report.errors == ()
    assert report.settlement_import.imported_by == user


@pytest.mark.django_db
def test_a_user_without_import_settlement_is_refused(period):
    clerk = StaffUserFactory(username="clerk", permissions=["appraisal.view_settlement"])

    with pytest.raises(PermissionDenied, match="没有导入财务扣款表的权限"):
        run(period, three_rows(), actor=clerk)
    with pytest.raises(PermissionDenied, match="没有导入财务扣款表的权限"):
        run(period, three_rows(), actor=clerk, dry_run=True)
    with pytest.raises(AppraisalError, match="没有导入财务扣款表的权限"):  # the app's refusal too
        run(period, three_rows(), actor=clerk)
    assert everything() == (0, 0, 0)


# --- queries ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_file(period, finance):
    sales = department_get_or_create_by_path(path="销售部")
    for n in range(40):
        employee = EmployeeFactory(employee_no=f"F{n:03d}", department=sales)
        Result.objects.create(period=period, employee=employee, department_path="销售部",
                              base_score=Decimal("100"), deducted=Decimal("0"), final_score=Decimal("100"))  # fmt: skip
    small = sheet(*(finance_row(f"F{n:03d}", 扣分合计=0) for n in range(4)))
    large = sheet(*(finance_row(f"F{n:03d}", 扣分合计=0) for n in range(40)))

    finance.has_perm(PERMISSION)  # the user's permissions are read once, then cached
    counts: dict[str, list[int]] = {"create": [], "update": []}
    for data in (small, large):
        Settlement.objects.all().delete()
        for kind in ("create", "update"):
            with CaptureQueriesContext(connection) as queries:
                assert run(period, data, actor=finance).errors == ()
            counts[kind].append(len(queries))
            Settlement.objects.update(amount=Decimal("1"))

    assert counts["create"][0] == counts["create"][1]
    assert counts["update"][0] == counts["update"][1]


# --- a round trip: compute and lock, the 汇总 sheet out, finance's sheet back in ----------------
def finance_fills_in(workbook_bytes: bytes) -> bytes:
    """What finance does: 扣款金额 (10 yuan a point) and 备注 added to the 汇总 sheet."""
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    summary = workbook.worksheets[0]
    assert [cell.value for cell in summary[1]] == ["工号", "姓名", "部门", "扣分合计", "警告次数", "最终得分"]  # fmt: skip
    summary.cell(1, 7, "扣款金额")
    summary.cell(1, 8, "备注")
    for row in range(2, summary.max_row + 1):
        summary.cell(row, 7, round(summary.cell(row, 4).value * 10, 2))
        summary.cell(row, 8, f"{summary.cell(row, 2).value} 十月")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_round_trip_computed_sheet_with_finance_columns_imports_back(seeded, finance):
    hr = []
    for n in range(2):
        user = UserFactory(username=f"hr{n}", roles=[HR])
        hr.append(user)
    sales = department_get_or_create_by_path(path="销售部")
    li = EmployeeFactory(employee_no="S02", name="李娜", department=sales)
    wang = EmployeeFactory(employee_no="S03", name="王芳", department=sales)
    EmployeeFactory(employee_no="S04", name="陈静", department=sales)
    group = ChatGroupFactory()
    tz = timezone.get_current_timezone()
    for employee, code, day in [(li, "9.4", 5), (li, "9.4", 20), (wang, "9.8", 10)]:
        case = case_file(
            rule=Rule.objects.get(code=code),
            employee=employee,
            group=group,
            occurred_at=dt.datetime(2026, 10, day, 10, tzinfo=tz),
            description=f"§{code}",
            actor=hr[0],
        )
        case_confirm(case=case, actor=hr[1], comment="属实")
    october = period_get_or_create(code="2026-10")
    period_compute(period=october, actor=hr[0])
    period_lock(period=october, actor=hr[0])

    exported = io.BytesIO()
    period_workbook(october, exported)  # the 汇总 sheet first, as HR sends it to finance
    report = run(october, finance_fills_in(exported.getvalue()), actor=finance)

    assert report.errors == ()
    assert report.new == 3
    settled = {
        s.employee.employee_no: (s.amount, s.note)
        for s in Settlement.objects.filter(period=october).select_related("employee")
    }
    expected = {
        r.employee.employee_no: (r.deducted * 10, f"{r.employee.name} 十月")
        for r in Result.objects.filter(period=october).select_related("employee")
    }
    assert settled == expected
    assert settled["S02"][0] == Decimal("75.00")  # 3.00 + 4.50 (the second §9.4 within the month)


# --- command ------------------------------------------------------------------------------------
@pytest.fixture
def sheet_file(tmp_path):
    def write(data: bytes, name: str = "扣款表.xlsx") -> str:
        target = tmp_path / name
        target.write_bytes(data)
        return str(target)

    return write


@pytest.mark.django_db
def test_command_imports_and_prints_the_summary(period, finance, sheet_file):
    out = StringIO()

    call_command("import_appraisal", sheet_file(three_rows()), "--period", "2026-11", "--user", "finance", stdout=out)  # fmt: skip

    record = SettlementImport.objects.get()
    assert out.getvalue().splitlines() == [
        f"导入完成（导入记录 #{record.pk}）：2026-11：新增 3 / 更新 0 / 未变 0。"
    ]
    assert record.imported_by == finance
    assert amounts(period)["E002"] == Decimal("45.50")


@pytest.mark.django_db
def test_command_dry_run_lists_the_changes_and_writes_nothing(period, sheet_file):
    run(period, three_rows())
    before = everything()
    out = StringIO()

    call_command("import_appraisal", sheet_file(three_rows(扣款金额=50)), "--period", "2026-11", "--dry-run", stdout=out)  # fmt: skip

    assert out.getvalue().splitlines() == [
        "第3行 E002 李四：更新 扣款金额 45.50 → 50.00",
        "试运行（没有写入任何数据）：2026-11：新增 0 / 更新 1 / 未变 2。",
    ]
    assert everything() == before


@pytest.mark.django_db
def test_command_lists_new_rows_at_verbosity_2(period, sheet_file):
    out = StringIO()

    call_command("import_appraisal", sheet_file(sheet(finance_row("E001"))), "--period", "2026-11", "--dry-run", "-v", "2", stdout=out)  # fmt: skip

    assert out.getvalue().splitlines()[0] == "第2行 E001 张三：新增 扣款金额 30.00"


@pytest.mark.django_db
def test_command_prints_every_error_and_fails(period, sheet_file):
    err = StringIO()
    data = sheet(finance_row("E001", 扣款金额="abc"), finance_row("E002", 扣分合计=3))

    with pytest.raises(CommandError, match="共 2 处错误"):
        call_command("import_appraisal", sheet_file(data), "--period", "2026-11", stderr=err)

    assert err.getvalue().splitlines() == [
        located(2, "扣款金额", MSG_NOT_A_NUMBER.format(value="abc")),
        "第3行「扣分合计」与系统不符：文件 3.00，系统 4.50",
    ]
    assert everything() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-12"], "考核期间 2026-12 不存在"),
        (["--period", "11月"], "考核期间应写作"),
        (["--period", "2026-11", "--user", "nobody"], "用户“nobody”不存在"),
        (["--period", "2026-11", "--user", "clerk"], "没有导入财务扣款表的权限"),
    ],
    ids=["unknown-period", "bad-code", "unknown-user", "user-without-permission"],
)
def test_command_refuses(period, sheet_file, args, message):
    StaffUserFactory(username="clerk")

    with pytest.raises(CommandError, match=message):
        call_command("import_appraisal", sheet_file(three_rows()), *args)
    assert everything() == (0, 0, 0)


@pytest.mark.django_db
def test_command_refuses_a_period_that_is_not_locked(period, sheet_file):
    Period.objects.filter(pk=period.pk).update(state=Period.State.COMPUTED)
    err = StringIO()

    with pytest.raises(CommandError, match="共 1 处错误"):
        call_command("import_appraisal", sheet_file(three_rows()), "--period", "2026-11", stderr=err)  # fmt: skip

    assert err.getvalue().splitlines() == [ERROR_NOT_LOCKED.format(code="2026-11")]


# --- the resource (what the admin runs) ---------------------------------------------------------
def resource_import(period, data: bytes, *, dry_run: bool, user=COMMAND_LINE):
    resource = SettlementResource(period=period)
    dataset = SettlementXLSXFormat().create_dataset(data)
    result = resource.import_data(dataset, dry_run=dry_run, user=user, file_name="扣款表.xlsx")
    return resource, result


@pytest.mark.django_db
def test_resource_preview_shows_each_row_and_writes_nothing(period, finance):
    run(period, sheet(finance_row("E002", 扣款金额=100), finance_row("E003")))
    before = everything()

    _, result = resource_import(period, three_rows(备注="补扣"), dry_run=True, user=finance)

    assert import_error_lines(result) == []
    assert import_summary(result) == "新增 1 / 更新 1 / 未变 1"
    assert result.diff_headers == ["工号", "姓名", "扣款金额", "备注"]
    assert [(row.import_type, row.diff) for row in result.rows] == [
        ("new", ["E001", "张三", "30.00", ""]),
        ("update", ["E002", "李四", "100.00 → 45.50", "“” → “补扣”"]),
        ("skip", ["E003", "王五", "0.00", ""]),
    ]
    assert everything() == before


@pytest.mark.django_db
def test_resource_commit_writes_through_the_service_with_history_and_the_file(period, finance):
    data = three_rows()

    _resource, result = resource_import(period, data, dry_run=False, user=finance)

    assert import_error_lines(result) == []
    assert amounts(period) == {
        "E001": Decimal("30.00"),
        "E002": Decimal("45.50"),
        "E003": Decimal("0.00"),
    }
    record = SettlementImport.objects.get()
    assert (record.imported_by, record.created, record.file_name) == (finance, 3, "扣款表.xlsx")
    with record.file.open("rb") as stored:
        assert stored.read() == data
    assert Settlement.history.count() == 3
    assert all(row.object_id for row in result.rows)  # the admin logs the saved rows


@pytest.mark.django_db
def test_resource_rows_hold_their_saved_settlement_when_asked(
    period, finance, django_assert_num_queries
):
    # The admin's confirmation asks import-export to keep each row's instance
    # (retain_instance_in_row_result): made from the plan when read, with no query.
    run(period, sheet(finance_row("E002", 扣款金额=100), finance_row("E003")))
    dataset = SettlementXLSXFormat().create_dataset(three_rows(备注="补扣"))
    result = SettlementResource(period=period).import_data(
        dataset, dry_run=False, user=finance, retain_instance_in_row_result=True
    )

    assert import_error_lines(result) == []
    with django_assert_num_queries(0):
        rows = [(row.import_type, row.instance, row.object_id, row.object_repr) for row in result]
    saved = {s.pk: s for s in Settlement.objects.filter(period=period).select_related("employee")}
    assert [import_type for import_type, *_ in rows] == ["new", "update", "skip"]
    for _, instance, object_id, object_repr in rows:
        assert instance.pk == object_id
        assert not instance._state.adding
        assert (instance.amount, instance.note) == (saved[object_id].amount, saved[object_id].note)
        assert object_repr == str(instance) == str(saved[object_id])
    assert rows[0][1].imported_in == result.settlement_import


@pytest.mark.django_db
def test_resource_rows_name_the_settlement_in_a_preview(period, finance):
    run(period, sheet(finance_row("E002", 扣款金额=100)))

    _, result = resource_import(period, three_rows(), dry_run=True, user=finance)

    assert [row.object_repr for row in result.rows] == [
        f"{period} 张三（E001） ¥30.00",
        f"{period} 李四（E002） ¥45.50",
        f"{period} 王五（E003） ¥0.00",
    ]
    assert [row.instance for row in result.rows] == [None, None, None]  # not asked for


@pytest.mark.django_db
def test_resource_and_command_give_the_same_messages(period):
    data = sheet(
        finance_row("E001", 扣款金额=45.125, 备注="x"),
        finance_row("E002", 扣分合计=3),
        finance_row("E001"),
        finance_row("E999", 扣款金额=None),
    )
    before = everything()

    _, result = resource_import(period, data, dry_run=False)

    assert import_error_lines(result) == list(run(period, data).errors)
    assert [invalid.number for invalid in result.invalid_rows] == [2, 3, 4, 5]
    assert everything() == before


@pytest.mark.django_db
def test_resource_reports_a_period_that_is_not_locked_once(period):
    Period.objects.filter(pk=period.pk).update(state=Period.State.COMPUTED)
    period.refresh_from_db()

    _, result = resource_import(period, three_rows(), dry_run=True)

    assert import_error_lines(result) == [ERROR_NOT_LOCKED.format(code="2026-11")]
    assert result.rows == []


@pytest.mark.django_db
def test_resource_without_a_period_or_permission_refuses(period):
    clerk = StaffUserFactory(username="clerk")
    dataset = SettlementXLSXFormat().create_dataset(three_rows())

    no_period = SettlementResource().import_data(dataset, dry_run=True, user=COMMAND_LINE)
    no_permission = resource_import(period, three_rows(), dry_run=False, user=clerk)[1]

    assert import_error_lines(no_period) == [ERROR_NO_PERIOD]
    assert import_error_lines(no_permission) == [ERROR_NOT_ALLOWED]
    assert everything() == (0, 0, 0)


@pytest.mark.django_db
def test_resource_queries_do_not_grow_with_the_file(period, finance):
    sales = department_get_or_create_by_path(path="销售部")
    for n in range(40):
        employee = EmployeeFactory(employee_no=f"F{n:03d}", department=sales)
        Result.objects.create(period=period, employee=employee, department_path="销售部",
                              base_score=Decimal("100"), deducted=Decimal("0"), final_score=Decimal("100"))  # fmt: skip
    finance.has_perm(PERMISSION)  # the user's permissions are read once, then cached
    counts = []
    for size in (4, 40):
        data = sheet(*(finance_row(f"F{n:03d}", 扣分合计=0) for n in range(size)))
        with CaptureQueriesContext(connection) as queries:
            resource_import(period, data, dry_run=False, user=finance)
        counts.append(len(queries))

    assert counts[0] == counts[1]


# --- the admin: ImportMixin wired as appraisal.admin.settlements does ----------------------------
class SettlementImportAdmin(ImportMixin, django_admin.ModelAdmin):
    resource_classes = [SettlementResource]
    import_formats = SETTLEMENT_FORMATS
    import_form_class = SettlementImportForm
    confirm_form_class = SettlementConfirmImportForm

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["period"] = import_form.cleaned_data["period"].pk
        return initial


site = django_admin.AdminSite(name="admin")
site.register(Settlement, SettlementImportAdmin)
urlpatterns = [path("admin/", site.urls)]
XLSX = "0"


@pytest.fixture
def admin_client(client, finance):
    client.force_login(finance)
    return client


def admin_upload(client, period, data: bytes):
    return client.post(
        reverse("admin:appraisal_settlement_import"),
        {
            "period": period.pk,
            "format": XLSX,
            "resource": "0",
            "import_file": SimpleUploadedFile("扣款表.xlsx", data),
        },
    )


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_admin_preview_then_confirm_imports_for_the_chosen_period(admin_client, period, finance):
    data = three_rows()

    preview = admin_client.get(reverse("admin:appraisal_settlement_import"))
    assert preview.status_code == 200
    preview = admin_upload(admin_client, period, data)
    assert preview.status_code == 200
    assert everything() == (0, 0, 0)
    confirm_form = preview.context["confirm_form"]
    assert confirm_form is not None
    assert import_summary(preview.context["result"]) == "新增 3 / 更新 0 / 未变 0"

    done = admin_client.post(
        reverse("admin:appraisal_settlement_process_import"),
        {name: confirm_form.initial[name] for name in confirm_form.fields},
    )

    assert done.status_code == 302
    assert amounts(period) == {
        "E001": Decimal("30.00"),
        "E002": Decimal("45.50"),
        "E003": Decimal("0.00"),
    }
    record = SettlementImport.objects.get()
    assert (record.imported_by, record.created) == (finance, 3)
    with record.file.open("rb") as stored:
        assert stored.read() == data
    assert LogEntry.objects.filter(user=finance).count() == 3


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_admin_shows_every_error_and_offers_no_confirmation(admin_client, period):
    response = admin_upload(admin_client, period, three_rows(扣分合计=3))

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    assert import_error_lines(response.context["result"]) == [
        "第3行「扣分合计」与系统不符：文件 3.00，系统 4.50"
    ]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_admin_form_refuses_a_period_that_is_not_locked(admin_client, period):
    Period.objects.filter(pk=period.pk).update(state=Period.State.COMPUTED)

    response = admin_upload(admin_client, period, three_rows())

    assert response.context["form"].errors["period"] == [ERROR_NOT_LOCKED.format(code="2026-11")]
    assert "result" not in response.context or response.context["result"] is None


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_admin_import_needs_import_settlement(client, period):
    client.force_login(StaffUserFactory(username="viewer", permissions=["appraisal.view_settlement"]))  # fmt: skip

    assert client.get(reverse("admin:appraisal_settlement_import")).status_code == 403


def test_formats_keep_the_uploaded_bytes():
    data = xlsx_bytes([HEADERS, finance_row("E001")])

    dataset = SETTLEMENT_FORMATS[0]().create_dataset(data)

    assert dataset.source == data
    assert dataset.row_numbers == [2]


def test_the_period_choice_shows_the_state():
    field = SettlementImportForm.base_fields["period"]
    period = Period(code="2026-11", state=Period.State.LOCKED)

    assert field.label_from_instance(period) == "2026-11（已锁定）"


def test_workbook_round_trip_helper_reads_decimals():
    # openpyxl writes Decimal as a number, read back as a float the service compares exactly.
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([["a"], [Decimal("4.50")]])))
    assert workbook.active["A2"].value == 4.5
