"""导出 Excel of the case and finding lists (issue 14, point 4; common/admin_export.py):
exactly the rows the list shows — its filters, its search, the viewer's scope — formula-safe,
streamed, in a bounded number of queries, refused to whoever may not open the list."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import ChatGroup, Finding
from members.services import department_get_or_create_by_path
from tests.factories import CaseFactory, ChatGroupFactory, EmployeeFactory, RuleFactory
from tests.groups.test_findings_heads import finding
from violations.models import Case

pytestmark = pytest.mark.django_db

CASES = reverse("admin:violations_case_changelist")
CASES_XLSX = reverse("admin:violations_case_export_xlsx")
FINDINGS = reverse("admin:groups_finding_changelist")
FINDINGS_XLSX = reverse("admin:groups_finding_export_xlsx")
PAYLOAD = '=HYPERLINK("http://evil.example/","点我")'
CASE_HEADERS = (
    "编号", "条款", "条款名称", "员工", "工号", "部门", "微信群", "状态", "扣分", "处分", "来源",
    "发生时间", "报告人", "确认人", "确认时间", "登记时间", "经过",
)  # fmt: skip


def download(client, url, params=None):
    """The workbook's rows (header first), after checking it is a streamed xlsx download."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response
    assert response.streaming
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(response.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return workbook.worksheets[0], response


def column(sheet, header: str) -> list:
    rows = list(sheet.iter_rows(values_only=True))
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


# -- the case list ---------------------------------------------------------------------------


@pytest.fixture
def cases(seeded, office, department_head):
    """Cases in 销售部 (the head persona's department) and 生产部, in 办公群 (the group
    persona's) and another group, proposed and confirmed."""
    sales = department_get_or_create_by_path(path="销售部")
    production = department_get_or_create_by_path(path="生产部")
    lina = EmployeeFactory(name="李娜", employee_no="S01", department=sales)
    liuyang = EmployeeFactory(name="刘洋", employee_no="P01", department=production)
    other = ChatGroupFactory(name="生产群")
    rule = RuleFactory(code="98.7", title_zh="测试条款")
    when = timezone.now() - dt.timedelta(days=3)
    made = {
        "lina_office": CaseFactory(rule=rule, employee=lina, group=office, occurred_at=when),
        "lina_other": CaseFactory(rule=rule, employee=lina, group=other, description=PAYLOAD),
        "liuyang_office": CaseFactory(rule=rule, employee=liuyang, group=office),
        "liuyang_confirmed": CaseFactory(
            rule=rule,
            employee=liuyang,
            group=other,
            state=Case.State.CONFIRMED,
            points="2.50",
            confirmed_at=timezone.now(),
        ),
    }
    return made


def numbers(sheet) -> set[int]:
    return set(column(sheet, "编号"))


def pks(cases, *names) -> set[int]:
    return {cases[name].pk for name in names}


def test_hr_exports_every_case_under_chinese_headers_and_name(client, hr, cases):
    client.force_login(hr)

    sheet, response = download(client, CASES_XLSX)

    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == CASE_HEADERS
    assert numbers(sheet) == pks(cases, *cases)
    today = timezone.localdate().isoformat()
    assert f"filename*=utf-8''{quote(f'违规案件-{today}.xlsx')}" in response["Content-Disposition"]
    assert sheet.title == "违规案件"
    confirmed = next(row for row in rows if row[0] == cases["liuyang_confirmed"].pk)
    assert confirmed[1:9] == ("§98.7", "测试条款", "刘洋", "P01", "生产部", "生产群", "已确认", 2.5)
    assert sheet.cell(row=rows.index(confirmed) + 1, column=9).number_format == "0.00"


def test_the_export_follows_the_lists_filters_search_and_order(client, hr, cases, office):
    client.force_login(hr)
    params = {"group__id__exact": office.pk, "o": "-1"}  # 办公群, by number, newest first

    sheet, _ = download(client, CASES_XLSX, params)
    listed = client.get(CASES, params).context["cl"].result_list

    assert column(sheet, "编号") == [case.pk for case in listed]
    assert numbers(sheet) == pks(cases, "lina_office", "liuyang_office")
    sheet, _ = download(client, CASES_XLSX, {"state__exact": "confirmed"})
    assert numbers(sheet) == pks(cases, "liuyang_confirmed")
    sheet, _ = download(client, CASES_XLSX, {"q": "李娜"})
    assert numbers(sheet) == pks(cases, "lina_office", "lina_other")


def test_every_row_is_exported_not_the_page_on_screen(client, hr, cases):
    client.force_login(hr)
    more = CaseFactory.create_batch(55, rule=cases["lina_office"].rule)  # past 50 a page

    sheet, _ = download(client, CASES_XLSX, {"p": "2", "_facets": "True"})

    assert numbers(sheet) == pks(cases, *cases) | {case.pk for case in more}


def test_a_department_head_exports_only_their_departments_cases(client, department_head, cases):
    client.force_login(department_head)

    sheet, _ = download(client, CASES_XLSX)

    assert numbers(sheet) == pks(cases, "lina_office", "lina_other")


def test_a_group_admin_exports_only_their_groups_cases(client, group_admin, cases):
    client.force_login(group_admin)

    sheet, _ = download(client, CASES_XLSX)

    assert numbers(sheet) == pks(cases, "lina_office", "liuyang_office")


def test_a_formula_in_a_case_is_written_as_text(client, hr, cases):
    client.force_login(hr)

    sheet, _ = download(client, CASES_XLSX, {"q": "李娜"})

    rows = list(sheet.iter_rows())
    index = [c.value for c in rows[0]].index("经过")
    cell = next(row[index] for row in rows[1:] if row[0].value == cases["lina_other"].pk)
    assert cell.value == "'" + PAYLOAD
    assert cell.data_type == "s"


def test_the_list_links_to_the_export_with_its_filters(client, hr, cases):
    client.force_login(hr)

    html = client.get(CASES, {"state__exact": "proposed", "p": "1"}).content.decode()

    assert f'href="{CASES_XLSX}?state__exact=proposed"' in html
    assert "导出 Excel" in html


def test_a_bad_filter_goes_back_to_the_lists_error_page(client, hr, cases):
    client.force_login(hr)

    response = client.get(CASES_XLSX, {"no_such_field": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{CASES}?e=1"


@pytest.mark.parametrize(("url", "listed"), [(CASES_XLSX, CASES), (FINDINGS_XLSX, FINDINGS)])
def test_a_staff_login_who_may_not_see_the_list_is_refused(client, outsider, url, listed):
    client.force_login(outsider)

    assert client.get(listed).status_code == 403
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [CASES_XLSX, FINDINGS_XLSX])
def test_an_employee_and_a_visitor_are_sent_to_the_login_page(client, employee, url):
    for user in (None, employee):
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def _export_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        download(client, url)
    return len(queries)


def test_the_case_export_takes_the_same_queries_for_4_and_80_cases(client, hr, cases):
    client.force_login(hr)
    reporter = hr
    CaseFactory.create_batch(
        40,
        rule=cases["lina_office"].rule,
        reported_by=reporter,
        state=Case.State.CONFIRMED,
        points="1.00",
        confirmed_at=timezone.now(),
        confirmed_by=reporter,
    )
    download(client, CASES_XLSX)  # warm: the session, the permissions' caches
    few = _export_queries(client, CASES_XLSX)
    CaseFactory.create_batch(40, reported_by=reporter)  # more rules, groups, departments

    assert _export_queries(client, CASES_XLSX) == few <= 20


# -- the finding list ------------------------------------------------------------------------


@pytest.fixture
def findings(seeded, office, group_admin, department_head):
    sales = department_get_or_create_by_path(path="销售部")
    production = department_get_or_create_by_path(path="生产部")
    seller = EmployeeFactory(name="李娜", department=sales)
    worker = EmployeeFactory(name="刘洋", department=production)
    inviter = EmployeeFactory(name="吴总", department=production)
    management = ChatGroup.objects.get(code="management")
    return {
        "seller": finding(office, seller),
        "worker": finding(office, worker, status=Finding.Status.RESOLVED),
        "stranger": finding(
            office, None, kind=Finding.Kind.STRANGER, display_name=PAYLOAD, inviter=inviter
        ),
        "elsewhere": finding(ChatGroupFactory(), worker),
        "confidential": finding(
            management, seller, kind=Finding.Kind.INELIGIBLE, inviter=inviter, inviter_text="吴总"
        ),
    }


def names(sheet) -> list:
    return sorted(column(sheet, "群昵称"))


def test_hr_exports_every_finding_with_its_inviter(client, hr, findings):
    client.force_login(hr)

    sheet, response = download(client, FINDINGS_XLSX)

    assert len(column(sheet, "类型")) == len(findings)
    assert "吴总（" in "".join(str(v) for v in column(sheet, "邀请人") if v)
    assert "filename*=utf-8''" + quote("核对问题-") in response["Content-Disposition"]


def test_the_finding_export_follows_the_status_filter(client, hr, findings):
    client.force_login(hr)

    sheet, _ = download(client, FINDINGS_XLSX, {"status__exact": "resolved"})

    assert column(sheet, "员工") == ["刘洋"]


def test_a_group_admin_exports_only_their_groups_findings(client, group_admin, findings):
    client.force_login(group_admin)

    sheet, _ = download(client, FINDINGS_XLSX)

    assert len(column(sheet, "类型")) == 3  # 办公群's: seller, worker, stranger
    assert set(column(sheet, "微信群")) == {"办公群"}


def test_a_head_exports_their_peoples_findings_without_the_confidential_inviter(
    client, department_head, findings
):
    client.force_login(department_head)

    sheet, _ = download(client, FINDINGS_XLSX)

    assert column(sheet, "员工") == ["李娜", "李娜"]  # in 办公群 and in 俊马管理群
    header = next(sheet.iter_rows(values_only=True))
    assert "邀请人" not in header  # §6.1: as the list leaves it out for them
    assert all(
        "吴总" not in str(value) for row in sheet.iter_rows(values_only=True) for value in row
    )


def test_a_formula_in_a_display_name_is_written_as_text(client, hr, findings):
    client.force_login(hr)

    sheet, _ = download(client, FINDINGS_XLSX, {"kind__exact": Finding.Kind.STRANGER})

    rows = list(sheet.iter_rows())
    index = [c.value for c in rows[0]].index("群昵称")
    assert rows[1][index].value == "'" + PAYLOAD
    assert rows[1][index].data_type == "s"


def test_the_finding_list_links_to_its_export(client, hr, findings):
    client.force_login(hr)

    html = client.get(FINDINGS, {"status__exact": "open"}).content.decode()

    assert f'href="{FINDINGS_XLSX}?status__exact=open"' in html


def test_the_finding_export_takes_the_same_queries_for_5_and_65_findings(client, hr, findings):
    client.force_login(hr)
    download(client, FINDINGS_XLSX)
    few = _export_queries(client, FINDINGS_XLSX)
    for _ in range(30):
        group = ChatGroupFactory()
        finding(group, EmployeeFactory(), inviter=EmployeeFactory())
        finding(group, None, kind=Finding.Kind.STRANGER, display_name="路人")

    assert _export_queries(client, FINDINGS_XLSX) == few <= 20
