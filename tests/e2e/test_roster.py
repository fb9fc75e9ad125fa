"""HR in a browser on a group's page: log in, upload member lists (xlsx, GBK csv), reconcile
again, confirm who a display name is (§4, §5.1, §5.3)."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.models import ChatGroup, MemberIdentity, ReconciliationRun
from groups.naming import suggested_display_name
from groups.selectors import eligible_employees
from members.models import Employee
from tests.e2e.conftest import admin_login, pick_autocomplete, shot
from tests.factories import csv_bytes, xlsx_bytes

HEADER = ["群昵称", "微信号", "备注"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def display(employee: Employee, group: ChatGroup) -> str:
    return suggested_display_name(
        real_name=employee.name,
        department_name=employee.department.name,
        convention=group.naming_convention,
    )


def findings(page: Page) -> dict[str, str]:
    """The group page's open findings: {kind heading without its count: the table's text}."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#roster-status h3')].map(
            h => [h.textContent.replace(/（\\d+）\\s*$/, '').trim(),
                  h.nextElementSibling ? h.nextElementSibling.innerText : '']))"""
    )


def group_page(page: Page, group: ChatGroup) -> None:
    page.goto(f"/admin/groups/chatgroup/{group.pk}/change/")
    expect(page.locator("#roster-status")).to_be_visible()


def upload(page: Page, group: ChatGroup, name: str, data: bytes, mime: str) -> None:
    group_page(page, group)
    page.locator(".object-tools").get_by_role("link", name="上传成员名单").click()
    page.get_by_label("成员名单文件").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    page.get_by_role("button", name="上传并核对").click()


def progress_finishes(page: Page) -> None:
    """The run page's bar reaches 100 % and says what changed."""
    expect(page).to_have_url(re.compile(r"/admin/groups/chatgroup/runs/\d+/$"))
    expect(page.locator("#run-progress")).to_have_attribute("value", "100")
    expect(page.locator("#run-status")).to_have_text(ReconciliationRun.Status.DONE.label)
    expect(page.locator("#run-result")).to_contain_text("新增问题")


def test_01_hr_logs_in_through_the_login_page(open_page, demo):
    page = open_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.get_by_role("button", name="登录")).to_be_visible()

    admin_login(page, demo.hr)

    expect(page.locator("#content")).to_contain_text("微信群")
    shot(page, "01-login-hr")


def test_02_roster_upload_reconcile_and_identity(open_page, demo):
    group = ChatGroup.objects.get(code="work")  # 俊马工作群: every 行管 employee (§4)
    staff = list(
        eligible_employees(group)
        .filter(user__isnull=True, headed_departments__isnull=True)  # plain colleagues
        .select_related("department")
        .order_by("employee_no")
    )
    late, renamed, leaver = staff[-1], staff[-2], staff[-3]
    everyone = list(eligible_employees(group).select_related("department"))
    page = open_page()
    admin_login(page, demo.hr)

    # 1. The xlsx list: one colleague not yet in, a supplier's rep who should not be.
    rows = [[display(e, group), "", ""] for e in everyone if e != late]
    xlsx = xlsx_bytes([HEADER, *rows, ["路人甲", "lurenjia", "供应商"]])
    upload(page, group, "工作群成员.xlsx", xlsx, XLSX)
    progress_finishes(page)
    shot(page, "02-roster-xlsx-progress")
    group_page(page, group)
    shown = findings(page)
    assert "路人甲" in shown["无关人员"]
    assert late.name in shown["应入群未入群"]
    shot(page, "03-roster-xlsx-findings")

    # 2. A GBK csv (Excel's plain "CSV" on a Chinese Windows) a day later: the colleague
    # joined, the outsider was removed, someone renamed themselves "Lily".
    rows = [[display(e, group), "", ""] for e in everyone if e != renamed]
    gbk = csv_bytes([HEADER, *rows, ["Lily", "lily_2026", ""]], encoding="gbk")
    upload(page, group, "工作群成员.csv", gbk, "text/csv")
    progress_finishes(page)
    shot(page, "04-roster-csv-progress")
    group_page(page, group)
    shown = findings(page)
    assert "路人甲" not in shown.get("无关人员", "")
    assert late.name not in shown.get("应入群未入群", "")
    assert "Lily" in shown["无关人员"]
    assert renamed.name in shown["应入群未入群"]
    assert leaver.name not in shown.get("离职人员仍在群", "")
    shot(page, "05-roster-csv-findings")

    # 3. HR records that someone left today, then reconciles the latest list again.
    leaver.status, leaver.left_on = Employee.Status.LEFT, timezone.localdate()
    leaver.save()
    runs = ReconciliationRun.objects.count()
    page.get_by_role("button", name="重新核对最新快照").click()
    progress_finishes(page)
    assert ReconciliationRun.objects.count() == runs + 1
    shot(page, "06-reconcile-progress")
    group_page(page, group)
    assert leaver.name in findings(page)["离职人员仍在群"]
    shot(page, "07-reconcile-findings")

    # 4. "Lily" is the colleague who seemed missing: 确认身份 on her row.
    lily = page.locator("#roster-status tr", has_text="Lily")
    lily.get_by_role("link", name="确认身份").click()
    expect(page).to_have_url(re.compile(r"/admin/groups/memberidentity/add/"))
    expect(page.get_by_label("群昵称")).to_have_value("Lily")
    pick_autocomplete(page, "employee", renamed.name, renamed.employee_no)
    page.get_by_label("说明").fill("本人确认，微信昵称未改")
    shot(page, "08-identity-form")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("已记住该群昵称对应的员工")

    identity = MemberIdentity.objects.get(group=group, display_name="Lily")
    assert (identity.employee, identity.decided_by.username) == (renamed, demo.hr)
    group_page(page, group)
    shown = findings(page)
    assert "Lily" not in shown.get("无关人员", "")
    assert renamed.name not in shown.get("应入群未入群", "")
    shot(page, "09-identity-findings")
