"""Exporting a period: sheets, headers, numbers and dates as such, joint
liability and adjustments, department totals, formula escaping, a fixed query count, and the
command."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appraisal.exports import period_workbook
from appraisal.management.commands.export_appraisal import ERROR_UNKNOWN_PERIOD, NOT_FINAL
from appraisal.models import ERROR_PERIOD_CODE, GradeBand
from appraisal.services import period_compute, period_get_or_create, period_lock
from common.actors import SystemActor
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import CaseFactory, ChatGroupFactory, EmployeeFactory, RuleFactory, UserFactory
from violations.models import Case, Rule, Sanction
from violations.services import case_confirm, case_file

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()

SUMMARY_HEADERS = ["工号", "姓名", "部门", "扣分合计", "警告次数", "最终得分"]
LINE_HEADERS = [
    "工号",
    "姓名",
    "部门",
    "案件编号",
    "条款",
    "条款名称",
    "处分",
    "发生日期",
    "扣分",
    "连带责任",
    "调整的期间",
]
DEPARTMENT_HEADERS = ["部门", "人数", "扣分合计", "警告次数", "平均得分"]
HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd"]


def escaped(name: str) -> str:
    """What the cell reads back as: a leading ', and a CR read as LF (XML's line ends)."""
    return ("'" + name).replace("\r", "\n")


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ)


@pytest.fixture
def hr(hr, hr2):
    """The two HR clerks: one files, the other confirms (four eyes)."""
    return [hr, hr2]


@pytest.fixture
def staff():
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(name="郭杰华", employee_no="S01", department=sales)
    department_set_head(department=sales, head=head)
    return {
        "head": head,
        "a": EmployeeFactory(name="李娜", employee_no="S02", department=sales),
        "b": EmployeeFactory(name="王芳", employee_no="S03", department=sales),
        "group": ChatGroupFactory(),
    }


def confirmed(employee, hr, code: str, day: str, group=None) -> Case:
    case = case_file(
        rule=Rule.objects.get(code=code),
        employee=employee,
        group=group,
        occurred_at=at(day),
        description=f"§{code}",
        actor=hr[0],
    )
    return case_confirm(case=case, actor=hr[1], comment="属实")


@pytest.fixture
def october(staff, hr):
    """李娜 S02: §9.4 on 10-05 = 3.00 (warning) and again on 10-20 = 4.50 → 7.50, 2 warnings;
    王芳 S03: §9.8 on 10-10 = 2.00 (warning); 郭杰华 S01, her head: §9.8 joint, 1.00."""
    cases = {
        "a1": confirmed(staff["a"], hr, "9.4", "2026-10-05", staff["group"]),
        "a2": confirmed(staff["a"], hr, "9.4", "2026-10-20", staff["group"]),
        "b1": confirmed(staff["b"], hr, "9.8", "2026-10-10", staff["group"]),
    }
    cases["joint"] = cases["b1"].joint_cases.get()
    period = period_get_or_create(code="2026-10")
    period_compute(period=period, actor=hr[0])
    return period, cases


def export(period) -> openpyxl.Workbook:
    out = io.BytesIO()
    period_workbook(period, out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def line_cells(workbook, case_id: int) -> dict:
    """The 明细 row of ``case_id`` as {header: cell}."""
    sheet = workbook["明细"]
    for row in sheet.iter_rows(min_row=2):
        if row[3].value == case_id:
            return {header: cell for header, cell in zip(LINE_HEADERS, row, strict=True)}
    raise AssertionError(f"no line for case {case_id}")


def test_three_sheets_in_order_with_chinese_frozen_headers(october):
    period, _ = october
    workbook = export(period)
    assert workbook.sheetnames == ["汇总", "明细", "部门"]
    headers = {name: [cell.value for cell in workbook[name][1]] for name in workbook.sheetnames}
    assert headers == {"汇总": SUMMARY_HEADERS, "明细": LINE_HEADERS, "部门": DEPARTMENT_HEADERS}
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.bold
    lines = workbook["明细"]
    assert lines.column_dimensions["F"].width > lines.column_dimensions["A"].width >= 10


def test_summary_has_one_row_per_result_in_employee_number_order(october):
    period, _ = october
    assert rows(export(period)["汇总"]) == [
        ("S01", "郭杰华", "销售部", 1, 1, 99),
        ("S02", "李娜", "销售部", 7.5, 2, 92.5),
        ("S03", "王芳", "销售部", 2, 1, 98),
    ]


def test_grade_column_appears_only_when_a_result_has_a_grade(october, hr):
    period, _ = october
    assert "等级" not in [cell.value for cell in export(period)["汇总"][1]]
    GradeBand.objects.create(grade="A", min_score=Decimal("95"))
    GradeBand.objects.create(grade="B", min_score=Decimal("80"))
    period_compute(period=period, actor=hr[0])
    summary = export(period)["汇总"]
    assert [cell.value for cell in summary[1]] == [*SUMMARY_HEADERS, "等级"]
    assert [row[-1] for row in rows(summary)] == ["A", "B", "A"]


def test_points_and_scores_are_numbers_with_two_decimals(october):
    period, cases = october
    workbook = export(period)
    line = line_cells(workbook, cases["a2"].pk)
    assert line["扣分"].data_type == "n"
    assert line["扣分"].value == 4.5
    assert line["扣分"].number_format == "0.00"
    assert line["案件编号"].data_type == "n"
    total = workbook["汇总"]["D3"]  # 李娜's 扣分合计
    assert (total.data_type, total.value, total.number_format) == ("n", 7.5, "0.00")
    assert workbook["汇总"]["E3"].value == 2  # 警告次数, an integer
    assert workbook["汇总"]["F3"].number_format == "0.00"


def test_the_date_of_a_line_is_a_real_date(october):
    period, cases = october
    cell = line_cells(export(period), cases["a2"].pk)["发生日期"]
    assert cell.is_date
    assert cell.value == dt.datetime(2026, 10, 20)  # noqa: DTZ001 — Excel dates have no zone
    assert cell.number_format == "yyyy-mm-dd"


def test_a_line_shows_clause_title_and_sanction_in_words(october):
    period, cases = october
    line = line_cells(export(period), cases["a1"].pk)
    values = {header: cell.value for header, cell in line.items()}
    assert values["工号"] == "S02"
    assert values["部门"] == "销售部"
    assert values["条款"] == "§9.4"
    assert values["条款名称"] == Rule.objects.get(code="9.4").title_zh
    assert values["处分"] == "警告"
    assert values["调整的期间"] is None


def test_joint_liability_lines_are_marked(october):
    period, cases = october
    workbook = export(period)
    assert line_cells(workbook, cases["joint"].pk)["连带责任"].value == "是"
    assert line_cells(workbook, cases["joint"].pk)["工号"].value == "S01"
    assert line_cells(workbook, cases["b1"].pk)["连带责任"].value == "否"


def test_an_adjustment_line_names_the_period_it_corrects(october, staff, hr):
    period, _ = october
    period_lock(period=period, actor=hr[0])
    late = confirmed(staff["b"], hr, "9.4", "2026-10-25")  # confirmed after October's lock
    current = confirmed(staff["a"], hr, "9.7", "2026-11-02")
    november = period_get_or_create(code="2026-11")
    period_compute(period=november, actor=hr[0])
    workbook = export(november)
    assert line_cells(workbook, late.pk)["调整的期间"].value == "2026-10"
    assert line_cells(workbook, late.pk)["扣分"].value == 3
    assert line_cells(workbook, current.pk)["调整的期间"].value is None


def test_department_totals(october, hr):
    period, _ = october
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    worker = EmployeeFactory(employee_no="W01", department=workshop)
    EmployeeFactory(employee_no="W02", department=workshop)
    confirmed(worker, hr, "9.7", "2026-10-12")  # 1.00, a reminder
    period_compute(period=period, actor=hr[0])
    totals = {row[0]: row[1:] for row in rows(export(period)["部门"])}
    # 销售部: 1.00 + 7.50 + 2.00; warnings 1 + 2 + 1; average of 99, 92.50 and 98.
    assert totals == {"生产部/一车间": (2, 1, 0, 99.5), "销售部": (3, 10.5, 4, 96.5)}
    sheet = export(period)["部门"]
    assert sheet["C2"].number_format == sheet["E2"].number_format == "0.00"


def test_hostile_text_is_escaped_and_written_as_text_never_as_a_formula(october, hr):
    period, _ = october
    department = department_get_or_create_by_path(path="=1+1")
    RuleFactory(
        code="99.1", title_zh="-2+3", default_points=Decimal("1"), sanction=Sanction.REMINDER
    )
    for number, name in enumerate(HOSTILE_NAMES, start=1):
        employee = EmployeeFactory(employee_no=f"H{number:02d}", name=name, department=department)
        confirmed(employee, hr, "99.1", "2026-10-12")
    EmployeeFactory(employee_no="H98", name="#N/A", department=department)
    EmployeeFactory(employee_no="H99", name="李\x01娜", department=department)
    period_compute(period=period, actor=hr[0])
    out = io.BytesIO()
    period_workbook(period, out)
    workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()))

    summary = {row[0].value: row for row in workbook["汇总"].iter_rows(min_row=2)}
    for number, name in enumerate(HOSTILE_NAMES, start=1):
        cell = summary[f"H{number:02d}"][1]
        assert (cell.value, cell.data_type) == (escaped(name), "s")
        assert summary[f"H{number:02d}"][2].value == "'=1+1"
    assert summary["H01"][1].value == '\'=HYPERLINK("http://x","y")'
    assert (summary["H98"][1].value, summary["H98"][1].data_type) == ("#N/A", "s")
    assert summary["H99"][1].value == "李\N{REPLACEMENT CHARACTER}娜"
    hostile_lines = [
        row for row in workbook["明细"].iter_rows(min_row=2) if row[4].value == "§99.1"
    ]
    assert len(hostile_lines) == len(HOSTILE_NAMES)
    assert sorted(row[1].value for row in hostile_lines) == sorted(map(escaped, HOSTILE_NAMES))
    for row in hostile_lines:
        assert row[1].data_type == "s"
        assert (row[2].value, row[5].value) == ("'=1+1", "'-2+3")
    departments = {row[0].value: row for row in workbook["部门"].iter_rows(min_row=2)}
    assert "'=1+1" in departments
    # And not one formula anywhere in the file.
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(member), member


def test_an_open_period_exports_headers_only(seeded):
    period = period_get_or_create(code="2026-12")
    out = io.BytesIO()
    summary = period_workbook(period, out)
    assert (summary.results, summary.lines, summary.departments) == (0, 0, 0)
    assert not summary.locked
    workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert [sheet.max_row for sheet in workbook.worksheets] == [1, 1, 1]


def _company(size: int, rule: Rule, confirmer) -> None:
    department = department_get_or_create_by_path(path=f"部门{size}")
    for i in range(size):
        employee = EmployeeFactory(department=department)
        for day in (3, 17):
            CaseFactory(
                rule=rule,
                employee=employee,
                group=None,
                occurred_at=at(f"2026-10-{day:02d}"),
                state=Case.State.CONFIRMED,
                points=Decimal("1.50"),
                sanction=Sanction.WARNING if i % 2 else Sanction.REMINDER,
                confirmed_at=at("2026-10-28"),
                confirmed_by=confirmer,
            )


def test_query_count_does_not_depend_on_the_number_of_rows(seeded):
    rule = Rule.objects.get(code="9.4")
    confirmer = UserFactory(username="confirmer")
    period = period_get_or_create(code="2026-10")
    GradeBand.objects.create(grade="A", min_score=Decimal("90"))

    def queries() -> tuple[int, int]:
        period_compute(period=period, actor=SystemActor("test"))
        with CaptureQueriesContext(connection) as ctx:
            summary = period_workbook(period, io.BytesIO())
        return len(ctx.captured_queries), summary.lines

    _company(5, rule, confirmer)
    few, few_lines = queries()
    _company(45, rule, confirmer)
    many, many_lines = queries()
    assert (few_lines, many_lines) == (10, 100)
    assert few == many == 4


def test_the_command_writes_the_file_and_says_whether_the_period_is_locked(
    october, hr, tmp_path: Path
):
    period, _ = october
    target = tmp_path / "2026-10.xlsx"
    out = io.StringIO()
    call_command("export_appraisal", "--period", "2026-10", "--output", str(target), stdout=out)
    assert "汇总 3 行，明细 4 行，部门 1 行" in out.getvalue()
    assert NOT_FINAL in out.getvalue()
    assert openpyxl.load_workbook(target).sheetnames == ["汇总", "明细", "部门"]

    period_lock(period=period, actor=hr[0])
    out = io.StringIO()
    call_command("export_appraisal", "--period", "2026-10", "--output", str(target), stdout=out)
    assert "已锁定" in out.getvalue()
    assert NOT_FINAL not in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["2026-10.xlsx"]  # no temporary file left


@pytest.mark.parametrize(
    ("code", "message"),
    [("2026-09", ERROR_UNKNOWN_PERIOD.format(code="2026-09")), ("September", ERROR_PERIOD_CODE)],
)
def test_the_command_refuses_an_unknown_period(october, tmp_path: Path, code, message):
    target = tmp_path / "out.xlsx"
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("export_appraisal", "--period", code, "--output", str(target))
    assert str(error.value) == message
    assert not target.exists()


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u00a0", "\u200d"])
def test_a_formula_behind_a_zero_width_character_is_escaped(october, hr, invisible):
    # docs/security.md, 8: escaping decides on the normalised text.
    period, _ = october
    department = department_get_or_create_by_path(path="销售部")
    EmployeeFactory(employee_no="H01", name=invisible + "=1+1", department=department)
    period_compute(period=period, actor=hr[0])
    out = io.BytesIO()
    period_workbook(period, out)
    workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()))

    summary = {row[0].value: row for row in workbook["汇总"].iter_rows(min_row=2)}
    assert summary["H01"][1].value == "'" + invisible + "=1+1"
