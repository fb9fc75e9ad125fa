"""The guides' pictures (docs/guides.md): each role logs in through the login page and walks the
pages its guide describes; every step asserts what the page must show, then takes a picture.

`make guides` runs these with GUIDE_SCREENSHOTS=docs/img/guides: the pictures replace the
guides' (docs/img/guides/<role>-<NN>-<what>.png, a 1280×800 window, the admin's navigation
sidebar folded as a user can fold it, so that the lists fit). Under `make e2e` the pictures go
to test-artifacts/e2e/ like every other step's, and the docs stay as they are.

The front page is asserted only by what it keeps whatever it shows (the site header, the
user's name): the dashboards of issue 14 replace the model list there, and the pictures
follow by rerunning `make guides`.
"""

from __future__ import annotations

import io
import os
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
from django.contrib.auth import get_user_model
from django.db.models import F
from playwright.sync_api import Page, expect

from announcements.models import Announcement
from announcements.selectors import announcements_waiting_for
from appraisal.exports import SUMMARY_SHEET
from appraisal.models import Period, Result
from appraisal.services import period_lock
from directives.models import Directive, DirectiveAssignment
from directives.selectors import assignments_of
from directives.services import assignment_acknowledge, assignment_done
from groups.models import ChatGroup
from groups.selectors import groups_for_changelist
from screening.selectors import review_queue as screening_queue
from tests.e2e.conftest import PASSWORD, shot
from violations.models import Case
from violations.selectors import proposed_queue

GUIDE_DIR_ENV = "GUIDE_SCREENSHOTS"  # set by `make guides`: where the guides' pictures go
WINDOW = {"width": 1280, "height": 800}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SITE_HEADER = "微信群合规管理"  # config/urls.py: admin.site.site_header
# Django admin keeps the sidebar's state in localStorage (nav_sidebar.js): folded, the
# changelists fit a 1280-px window; the « button unfolds it, as for any user.
FOLD_SIDEBAR = "localStorage.setItem('django.admin.navSidebarIsOpen', 'false')"


def guide_shot(page: Page, name: str) -> Path:
    """The step's picture: docs/img/guides/<name>.png (the window) under `make guides`,
    else test-artifacts/e2e/guide-<name>.png (the whole page) as every e2e step."""
    folder = os.environ.get(GUIDE_DIR_ENV)
    if not folder:
        return shot(page, f"guide-{name}")
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


def window(open_page) -> Page:
    page = open_page()
    page.set_viewport_size(WINDOW)
    page.context.add_init_script(FOLD_SIDEBAR)
    return page


def user(username: str):
    return get_user_model().objects.select_related("employee").get(username=username)


def login_admin_as(page: Page, username: str, role: str, *sections: str) -> None:
    """The admin login page with the name typed in (the first picture), then the front page:
    the 工作台 with the role's ``sections`` (docs/dashboard.md)."""
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    guide_shot(page, f"{role}-01-login")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    front_page(page, username)
    for section in sections:
        expect(page.locator(f"#{section}")).to_be_visible()
    expect(page.locator("#all-models")).to_be_attached()  # the model list, one click away
    guide_shot(page, f"{role}-02-front")


def front_page(page: Page, username: str) -> None:
    """Only what the front page keeps whatever it shows: the site's header and who is in."""
    expect(page.locator("#site-name")).to_contain_text(SITE_HEADER)
    expect(page.locator("#user-tools")).to_contain_text(user(username).employee.name)


def heading(page: Page, text: str) -> None:
    expect(page.locator("#content h1, main h1").first).to_contain_text(text)


# -- HR ---------------------------------------------------------------------------------------


def test_hr_guide(open_page, demo):
    page = window(open_page)
    login_admin_as(page, "hr", "hr", "dashboard-overview", "dashboard-waiting")
    hr = user("hr")

    # A figure on the 工作台 opens the list it counts (docs/dashboard.md).
    figure = page.locator("#dashboard-waiting a.figure").first
    count = int(figure.inner_text())
    figure.click()
    expect(page).to_have_url(re.compile(r"/admin/violations/case/\?"))
    expect(page.locator("#result_list tbody tr")).to_have_count(count)
    page.goto("/admin/")

    # The queue: every proposal and appeal HR may decide, oldest first (hr-guide-cases.md).
    page.goto("/admin/violations/case/queue/")
    heading(page, "待处理")
    queue = list(proposed_queue(hr))
    assert queue, "the demo leaves cases for HR to decide"
    for case in queue:
        expect(page.locator("#queue")).to_contain_text(f"#{case.pk}")
    guide_shot(page, "hr-03-queue")

    # A proposal someone else reported: the 处理 band with 确认 / 驳回 above the case.
    case = next(c for c in queue if c.state == Case.State.PROPOSED)
    page.get_by_role("link", name=f"#{case.pk}", exact=True).first.click()
    expect(page.locator("#content")).to_contain_text(f"#{case.pk}")
    expect(page.get_by_label("处理意见")).to_be_visible()
    expect(page.get_by_role("button", name="确认", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="驳回", exact=True)).to_be_visible()
    guide_shot(page, "hr-04-case")

    # The groups with their latest roster's figures (hr-guide-roster.md).
    page.goto("/admin/groups/chatgroup/")
    for group in ChatGroup.objects.all():
        expect(page.locator("#result_list")).to_contain_text(group.name)
    guide_shot(page, "hr-05-groups")

    work = ChatGroup.objects.get(code="work")
    page.goto(f"/admin/groups/chatgroup/{work.pk}/change/")
    expect(page.get_by_role("link", name="上传成员名单")).to_be_visible()
    expect(page.get_by_role("button", name="重新核对最新快照")).to_be_visible()
    guide_shot(page, "hr-06-group")

    page.get_by_role("link", name="上传成员名单").click()
    expect(page.get_by_role("button", name="上传并核对")).to_be_visible()
    guide_shot(page, "hr-07-upload-roster")

    # The employee list with its import / export (hr-guide-employees.md).
    page.goto("/admin/members/employee/")
    expect(page.get_by_role("link", name="导入", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="导出", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="下载导入模板")).to_be_visible()
    guide_shot(page, "hr-08-employees")

    # Last month's period, computed by the demo: 计算 again or 锁定 (hr-guide-appraisal.md).
    period = Period.objects.get(state=Period.State.COMPUTED)
    page.goto(f"/admin/appraisal/period/{period.pk}/change/")
    expect(page.locator("#content")).to_contain_text(period.code)
    expect(page.get_by_role("button", name="计算", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="锁定", exact=True)).to_be_visible()
    guide_shot(page, "hr-09-period")

    # Chat-log screening (hr-guide-screening.md): the queue of hits waiting, heaviest first.
    page.goto("/admin/screening/hit/")
    waiting = list(screening_queue(hr))
    assert waiting, "the demo's chats leave hits for HR to review"
    expect(page.locator("#result_list tbody tr")).to_have_count(len(waiting))
    expect(page.locator("#result_list mark").first).to_be_visible()  # the match, highlighted
    guide_shot(page, "hr-10-screening-queue")

    # The heaviest hit's page: the message among its neighbours, then 确认 / 驳回.
    page.locator("#result_list tbody tr").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/screening/hit/{waiting[0].pk}/change/$"))
    expect(page.locator("#hit-message mark")).to_be_visible()
    expect(page.locator("#hit-context tbody tr.context").first).to_be_visible()
    expect(page.get_by_role("button", name="驳回（误报）")).to_be_visible()
    page.locator("#hit-context").evaluate("box => box.scrollIntoView()")  # context and 处理
    guide_shot(page, "hr-11-screening-hit")

    # The rules with each one's precision (confirmed ÷ proposed).
    page.goto("/admin/screening/screeningrule/")
    expect(page.locator("#result_list")).to_contain_text("确认 0 / 提出")
    guide_shot(page, "hr-12-screening-rules")

    # The demo's 误报 (废物率, a quality figure) left an allowed-phrase suggestion.
    page.goto("/admin/screening/allowsuggestion/")
    expect(page.locator("#result_list")).to_contain_text("废物率")
    guide_shot(page, "hr-13-screening-suggestions")


# -- approvers: company leaders (announcements, directives) -------------------------------------


def test_approver_guide(open_page, demo):
    page = window(open_page)
    login_admin_as(page, "leader", "approver", "dashboard-overview")
    leader = user("leader")

    # 待我审批: exactly what announcement_approve would accept from them (guide-announcements.md).
    waiting = list(announcements_waiting_for(leader))
    assert waiting, "the demo leaves an announcement waiting for the leader"
    page.goto("/admin/announcements/announcement/?inbox=waiting")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(len(waiting))
    for item in waiting:
        expect(page.locator("#result_list")).to_contain_text(item.title)
    guide_shot(page, "approver-03-inbox")

    item = waiting[0]
    page.get_by_role("link", name=item.title).click()
    expect(page.locator("#announcement-moves")).to_contain_text("处理")
    expect(page.get_by_role("button", name="退回", exact=True)).to_be_visible()
    page.locator("#announcement-moves textarea").fill("同意发布。")
    guide_shot(page, "approver-04-decide")

    page.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text(item.title)
    item.refresh_from_db()
    assert item.state == Announcement.State.APPROVED
    guide_shot(page, "approver-05-approved")

    # Delegation while away: the form for their own delegation.
    page.goto("/admin/announcements/delegation/add/")
    expect(page.get_by_label("代理人")).to_be_visible()
    guide_shot(page, "approver-06-delegation")

    # Directives they gave (§7.2): the list, then the assignees' work to accept.
    page.goto("/admin/directives/directive/")
    issued = Directive.objects.filter(issuer=leader.employee)
    assert issued.exists(), "the demo's leader gave directives"
    expect(page.locator("#result_list tbody tr")).to_have_count(issued.count())
    guide_shot(page, "approver-07-directives")

    # An assignee reports done (on their /me/ page, made here through the service); the
    # leader accepts it in the list, with the action and a comment above it.
    assignment = (
        DirectiveAssignment.objects.filter(
            directive__issuer=leader.employee, state__in=DirectiveAssignment.OPEN_STATES
        )
        .select_related("employee__user")
        .order_by(F("employee__user").asc(nulls_last=True), "pk")  # one with a login first
        .first()
    )
    assignee = assignment.employee.user or leader  # no login: the issuer records it for them
    if assignment.state != DirectiveAssignment.State.ACKNOWLEDGED:
        assignment = assignment_acknowledge(assignment=assignment, actor=assignee)
    assignment_done(assignment=assignment, note="已整理完毕，发在工作群。", actor=assignee)
    page.goto("/admin/directives/directiveassignment/?state__exact=done")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(assignment.employee.name)
    rows.first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="验收所选（人力资源部或下达人）")
    page.get_by_label("意见/回复").fill("已核对，验收。")
    guide_shot(page, "approver-08-accept")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".messagelist")).to_contain_text("验收")
    assignment.refresh_from_db()
    assert assignment.state == DirectiveAssignment.State.ACCEPTED


# -- department heads -----------------------------------------------------------------------------


def test_head_guide(open_page, demo):
    """A head's 工作台: their department's people (§9.12), each figure a link to its list."""
    page = window(open_page)
    login_admin_as(page, "head", "head", "dashboard-departments")
    figure = page.locator("#dashboard-departments a.figure").first
    count = int(figure.inner_text())
    figure.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(count)


# -- group creators and admins ------------------------------------------------------------------


def test_creator_guide(open_page, demo):
    page = window(open_page)
    login_admin_as(page, "creator", "creator", "dashboard-groups")
    creator = user("creator")

    # Their groups only (§5.1, §5.2), with the latest roster's figures (hr-guide-roster.md, 6).
    page.goto("/admin/groups/chatgroup/")
    mine = set(groups_for_changelist(creator).values_list("name", flat=True))
    assert "俊马欢乐谷" in mine
    for group in ChatGroup.objects.all():
        if group.name in mine:
            expect(page.locator("#result_list")).to_contain_text(group.name)
        else:
            expect(page.locator("#result_list")).not_to_contain_text(group.name)
    guide_shot(page, "creator-03-groups")

    leisure = ChatGroup.objects.get(code="leisure")
    page.get_by_role("link", name=leisure.name).click()
    expect(page.locator("#content")).to_contain_text("成员核对")
    expect(page.get_by_role("link", name=re.compile("导出群主待办"))).to_be_visible()
    guide_shot(page, "creator-04-group")

    # Their to-dos: pull in, remove (§5.1), with due dates.
    page.goto("/admin/groups/rosteraction/")
    expect(page.locator("#result_list")).to_contain_text(leisure.name)
    guide_shot(page, "creator-05-todos")

    # Filing a case for their group (§7.1: creators and admins propose, HR decides).
    page.goto("/admin/violations/case/add/")
    heading(page, "登记违规")
    expect(page.get_by_label("条款")).to_be_visible()
    offered = page.locator("#id_group option").all_inner_texts()
    assert sorted(offered[1:]) == sorted(mine), offered  # only the groups they run
    guide_shot(page, "creator-06-file-case")


# -- finance ------------------------------------------------------------------------------------


def test_finance_guide(open_page, demo, tmp_path):
    # HR locks last month's period before handing it over (hr-guide-appraisal.md).
    period = Period.objects.get(state=Period.State.COMPUTED)
    period_lock(period=period, actor=user("hr"))
    page = window(open_page)
    login_admin_as(page, "finance", "finance", "dashboard-finance")

    page.goto("/admin/appraisal/period/")
    expect(page.locator("#result_list")).to_contain_text(period.code)
    expect(page.locator("#result_list")).to_contain_text("已锁定")
    guide_shot(page, "finance-03-periods")

    page.get_by_role("link", name=period.code, exact=True).click()
    expect(page.locator("#content")).to_contain_text(period.code)
    expect(page.get_by_role("button", name="计算", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="锁定", exact=True)).to_have_count(0)
    guide_shot(page, "finance-04-period")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    workbook = openpyxl.load_workbook(saved)
    summary = workbook[SUMMARY_SHEET]
    header = [cell.value for cell in summary[1]]
    people = summary.max_row - 1
    assert people == Result.objects.filter(period=period).count()
    # Payroll's two columns, 10 元 a point, as a clerk types them in Excel.
    summary.cell(row=1, column=len(header) + 1, value="扣款金额")
    summary.cell(row=1, column=len(header) + 2, value="备注")
    deducted = header.index("扣分合计") + 1
    for row in range(2, summary.max_row + 1):
        points = Decimal(str(summary.cell(row=row, column=deducted).value))
        summary.cell(row=row, column=len(header) + 1, value=float(points * 10))
    returned = io.BytesIO()
    workbook.save(returned)

    page.goto("/admin/appraisal/settlement/import/")
    page.get_by_label("考核期间").select_option(value=str(period.pk))
    page.get_by_label("导入文件").set_input_files(
        {"name": f"扣款表-{period.code}.xlsx", "mimeType": XLSX, "buffer": returned.getvalue()}
    )
    page.get_by_label("格式").select_option(label="xlsx")
    guide_shot(page, "finance-05-import")
    page.get_by_role("button", name="提交").click()

    expect(page.locator("#content")).to_contain_text(f"预览：新增 {people} / 更新 0 / 未变 0")
    guide_shot(page, "finance-06-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".messagelist .success")).to_contain_text("导入完成")
    guide_shot(page, "finance-07-imported")


# -- employees (their own pages, /me/) ----------------------------------------------------------


def test_employee_guide(open_page, demo):
    page = window(open_page)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("employee")
    page.get_by_label("密码").fill(PASSWORD)
    guide_shot(page, "employee-01-login")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/me/cases/$"))
    employee = user("employee").employee

    cases = Case.objects.filter(employee=employee)
    heading(page, "我的违规记录")
    expect(page.locator("main")).to_contain_text(employee.name)
    expect(page.locator("main table tbody tr")).to_have_count(cases.count())
    guide_shot(page, "employee-02-cases")

    # A proposal still open to their explanation (docs/hr-guide-cases.md, 员工说明).
    proposed = cases.get(state=Case.State.PROPOSED)
    page.goto(f"/me/cases/{proposed.pk}/")
    expect(page.locator("#explanation")).to_contain_text("说明情况")
    page.locator("#explanation textarea").fill(
        "当时以为是朋友转发的普通活动链接，发出后已立即撤回。"
    )
    guide_shot(page, "employee-03-explain")

    page.goto("/me/appraisal/")
    heading(page, "我的考核")
    expect(page.locator("main")).to_contain_text(Period.objects.get().code)
    guide_shot(page, "employee-04-appraisal")

    page.goto("/me/announcements/")
    pending = page.locator(".announcement")
    expect(pending).to_have_count(1)  # the demo's 须确认 item for this persona
    title = pending.locator("h2").inner_text()
    guide_shot(page, "employee-05-announcements")
    pending.get_by_role("button", name="我已阅读").click()
    expect(page.locator(".announcement")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(title)

    # A directive given to them in a group (§7.2): open it, confirm receipt.
    page.goto("/me/directives/")
    heading(page, "我的指令")
    mine = assignments_of(user("employee"))
    expect(page.locator("main table tbody tr")).to_have_count(mine.count())
    guide_shot(page, "employee-06-directives")
    assignment = mine.get(state=DirectiveAssignment.State.ASSIGNED)
    page.get_by_role("link", name=assignment.directive.text[:10]).click()
    guide_shot(page, "employee-07-directive")
    page.get_by_role("button", name="确认收到").click()
    expect(page.get_by_role("button", name="已完成")).to_be_visible()
    assignment.refresh_from_db()
    assert assignment.state == DirectiveAssignment.State.ACKNOWLEDGED

    page.goto("/me/questions/new/")
    expect(page.get_by_role("button", name="提交问题")).to_be_visible()
    guide_shot(page, "employee-08-question")

    page.goto("/me/notices/")
    heading(page, "我的通知")
    guide_shot(page, "employee-09-notices")
