"""The appraisal in a browser (§7.1): HR computes and locks last month's period on its page;
finance downloads the workbook and imports it back, with 扣款金额, through preview and confirm.

The employee's case of tests/e2e/test_cases.py stands (appeal upheld) and counts here.
"""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
from playwright.sync_api import Page, expect

from appraisal.exports import DEPARTMENTS_SHEET, LINES_SHEET, SUMMARY_SHEET
from appraisal.models import Line, Period, Result, Settlement, SettlementImport
from appraisal.services import period_compute, period_lock
from tests.e2e.conftest import admin_login, shot
from tests.e2e.test_cases import last_month, upheld, user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POINTS = Decimal("3.00")  # §5.3.d's default, fixed when hr2 confirmed the case
YUAN_PER_POINT = Decimal("10")


def the_period() -> Period:
    """Last month's period: the demo computed it; the case happened in it."""
    return Period.objects.get(code=f"{last_month():%Y-%m}")


def period_page(page: Page, period: Period) -> None:
    page.goto(f"/admin/appraisal/period/{period.pk}/change/")
    expect(page.locator("#content")).to_contain_text(period.code)


def test_17_hr_computes_and_locks_the_period_on_its_page(open_page, demo):
    case = upheld(demo)
    period = the_period()
    page = open_page()
    admin_login(page, demo.hr)
    period_page(page, period)

    page.get_by_role("button", name="计算", exact=True).click()

    expect(page.locator(".messagelist .success")).to_contain_text(f"{period.code} 已计算")
    period.refresh_from_db()
    assert (period.state, period.computed_by.username) == (Period.State.COMPUTED, demo.hr)
    result = Result.objects.get(period=period, employee=demo.worker)
    assert result.deducted == POINTS
    assert Line.objects.get(period=period, employee=demo.worker).case_id == case.pk
    shot(page, "17-period-computed")

    period_page(page, period)
    page.get_by_role("button", name="锁定", exact=True).click()
    confirm = page.get_by_role("button", name="确认锁定")  # a confirmation page, if any
    if confirm.count():
        confirm.click()

    expect(page.locator(".messagelist .success")).to_contain_text(f"{period.code} 已锁定")
    period.refresh_from_db()
    assert (period.state, period.locked_by.username) == (Period.State.LOCKED, demo.hr)
    shot(page, "18-period-locked")


def test_19_finance_downloads_the_workbook_and_imports_it_back(open_page, demo, tmp_path):
    upheld(demo)
    period = the_period()
    period_compute(period=period, actor=user(demo.hr))
    period_lock(period=period, actor=user(demo.hr))
    worker = demo.worker
    page = open_page()
    admin_login(page, demo.finance)
    period_page(page, period)

    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    shot(page, "19-finance-download")

    workbook = openpyxl.load_workbook(saved)
    assert workbook.sheetnames == [SUMMARY_SHEET, LINES_SHEET, DEPARTMENTS_SHEET]
    summary = workbook[SUMMARY_SHEET]
    header = [cell.value for cell in summary[1]]
    rows = [
        dict(zip(header, row, strict=True))
        for row in summary.iter_rows(min_row=2, values_only=True)
    ]
    mine = next(row for row in rows if row["工号"] == worker.employee_no)
    assert (mine["姓名"], mine["部门"], Decimal(str(mine["扣分合计"]))) == (
        worker.name,
        worker.department.path,
        POINTS,
    )
    assert len(rows) == Result.objects.filter(period=period).count()
    lines = list(workbook[LINES_SHEET].iter_rows(min_row=2, values_only=True))
    assert any(line[0] == worker.employee_no for line in lines)

    # Finance adds 扣款金额 and 备注 to 汇总, as payroll would, and sends it back.
    summary.cell(row=1, column=len(header) + 1, value="扣款金额")
    summary.cell(row=1, column=len(header) + 2, value="备注")
    for number, row in enumerate(rows, start=2):
        amount = Decimal(str(row["扣分合计"])) * YUAN_PER_POINT
        summary.cell(row=number, column=len(header) + 1, value=float(amount))
        summary.cell(
            row=number, column=len(header) + 2, value=f"{period.code} 违规扣分" if amount else ""
        )
    returned = io.BytesIO()
    workbook.save(returned)

    page.goto("/admin/appraisal/settlement/import/")
    page.get_by_label("考核期间").select_option(value=str(period.pk))
    page.get_by_label("导入文件").set_input_files(
        {"name": f"扣款表-{period.code}.xlsx", "mimeType": XLSX, "buffer": returned.getvalue()}
    )
    page.get_by_label("格式").select_option(label="xlsx")
    page.get_by_role("button", name="提交").click()

    expect(page.locator("#content")).to_contain_text(f"预览：新增 {len(rows)} / 更新 0 / 未变 0")
    assert not Settlement.objects.exists()  # nothing written before the confirmation
    shot(page, "20-finance-import-preview")
    page.get_by_role("button", name="确认导入").click()

    expect(page.locator(".messagelist .success")).to_contain_text("导入完成")
    settlement = Settlement.objects.get(period=period, employee=worker)
    assert (settlement.amount, settlement.note) == (
        POINTS * YUAN_PER_POINT,
        f"{period.code} 违规扣分",
    )
    assert Settlement.objects.filter(period=period).count() == len(rows)
    assert SettlementImport.objects.get().imported_by.username == demo.finance
    shot(page, "21-finance-imported")
