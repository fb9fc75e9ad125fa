"""The appraisal admin (§7.1, §9.12): adding a period by its code, computing and locking it
(HR only), read-only locked periods, results and lines scoped like the selectors, the
export, and query bounds."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal.admin.results import DepartmentFilter
from appraisal.exports import period_workbook
from appraisal.models import (
    ERROR_PERIOD_CODE,
    GradeBand,
    Line,
    Period,
    Result,
    Settlement,
    SettlementImport,
)
from appraisal.resources import NO_LOCKED_PERIOD
from appraisal.services import (
    AppraisalError,
    period_compute,
    period_get_or_create,
    period_lock,
)
from appraisal.services.periods import ERROR_LOCKED, ERROR_NOT_COMPUTED
from appraisal.services.settlements import ERROR_NOT_LOCKED
from common.actors import SystemActor
from members.models import Employee
from tests.appraisal.test_visibility import appraised, confirmed  # noqa: F401 — fixture
from tests.factories import EmployeeFactory, StaffUserFactory
from tests.html import Page, post_change_form

pytestmark = pytest.mark.django_db
State = Period.State

PERIODS = "admin:appraisal_period_changelist"
RESULTS = "admin:appraisal_result_changelist"
LINES = "admin:appraisal_line_changelist"


def act(client, action: str, periods, **extra):
    data = {"action": action, "_selected_action": [p.pk for p in periods], **extra}
    return client.post(reverse(PERIODS), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def offered_actions(client) -> set[str]:
    response = client.get(reverse(PERIODS))
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def changelist_rows(client, url: str, query: str = "") -> list:
    response = client.get(reverse(url) + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def hr_client(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["hr"])
    return client


# -- periods: add by code, compute, lock --------------------------------------------------


def test_a_period_is_added_by_its_code_alone(hr_client):
    response = hr_client.post(
        reverse("admin:appraisal_period_add"),
        {"code": "2026-Q3", "base_score": "100", "deduction_cap": ""},
    )
    assert response.status_code == 302
    period = Period.objects.get(code="2026-Q3")
    assert (period.kind, str(period.starts_on), str(period.ends_on), period.state) == (
        Period.Kind.QUARTERLY,
        "2026-07-01",
        "2026-09-30",
        State.OPEN,
    )


def test_a_malformed_code_is_refused_with_the_rule(hr_client):
    response = hr_client.post(
        reverse("admin:appraisal_period_add"), {"code": "2026/11", "base_score": "100"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code"] == [ERROR_PERIOD_CODE]
    assert not Period.objects.filter(code="2026/11").exists()


def test_hr_computes_then_locks_a_period(hr_client, appraised):  # noqa: F811
    hr = appraised["users"]["hr"]
    period = period_get_or_create(code="2026-09")

    response = act(hr_client, "compute_periods", [period])
    period.refresh_from_db()
    assert period.state == State.COMPUTED
    assert period.computed_by == hr
    assert Result.objects.filter(period=period).count() == 4
    assert any("2026-09 已计算：4 名员工" in m for m in messages_of(response))

    confirmation = act(hr_client, "lock_periods", [period])
    assert confirmation.templates[0].name == "admin/appraisal/period/lock_confirm.html"
    period.refresh_from_db()
    assert period.state == State.COMPUTED  # nothing happens before HR confirms

    response = act(hr_client, "lock_periods", [period], apply="1")
    period.refresh_from_db()
    assert (period.state, period.locked_by) == (State.LOCKED, hr)
    assert "考核期间 2026-09 已锁定。" in messages_of(response)


def test_recomputing_gives_the_same_rows(hr_client, appraised):  # noqa: F811
    period = appraised["period"]

    def rows():
        return sorted(
            Result.objects.filter(period=period).values_list(
                "employee_id", "department_path", "deducted", "warnings", "final_score", "grade"
            )
        ), sorted(
            Line.objects.filter(period=period).values_list(
                "employee_id", "case_id", "clause", "points", "is_joint"
            )
        )

    before = rows()
    act(hr_client, "compute_periods", [period])
    assert rows() == before


def test_computing_a_locked_period_reports_the_error_and_changes_nothing(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    period_lock(period=period, actor=appraised["users"]["hr"])
    before = list(Result.objects.filter(period=period).values_list("pk", flat=True))

    response = act(hr_client, "compute_periods", [period])

    assert ERROR_LOCKED.format(code=period.code) in messages_of(response)
    assert list(Result.objects.filter(period=period).values_list("pk", flat=True)) == before


def test_locking_an_uncomputed_period_reports_the_error(hr_client):
    period = period_get_or_create(code="2026-09")
    response = act(hr_client, "lock_periods", [period], apply="1")
    assert ERROR_NOT_COMPUTED.format(code="2026-09") in messages_of(response)
    period.refresh_from_db()
    assert period.state == State.OPEN


def test_a_locked_periods_page_is_read_only(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    period_lock(period=period, actor=appraised["users"]["hr"])
    url = reverse("admin:appraisal_period_change", args=[period.pk])

    page = hr_client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False

    response = hr_client.post(url, {"base_score": "90", "deduction_cap": "10"})
    assert response.status_code == 403
    period.refresh_from_db()
    assert (period.base_score, period.deduction_cap) == (Decimal("100"), None)


def test_a_locked_period_cannot_be_deleted(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    period_lock(period=period, actor=appraised["users"]["hr"])
    url = reverse("admin:appraisal_period_delete", args=[period.pk])
    assert hr_client.post(url, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in offered_actions(hr_client)


def test_changing_the_scoring_of_a_computed_period_asks_for_a_recompute(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    url = reverse("admin:appraisal_period_change", args=[period.pk])
    response = post_change_form(
        hr_client, url, {"base_score": "100", "deduction_cap": "5"}, follow=True
    )
    assert any("请重新计算" in m for m in messages_of(response))
    period.refresh_from_db()
    # The results no longer match the settings: no lock until computed again.
    assert period.state == Period.State.OPEN
    with pytest.raises(AppraisalError, match="还没有计算"):
        period_lock(period=period, actor=SystemActor("test"))


def test_period_list_counts_results_and_lines(hr_client, appraised):  # noqa: F811
    [row] = changelist_rows(hr_client, PERIODS)
    assert (row.result_count, row.line_count) == (4, 4)  # 3 cases + the head's joint case


# -- who may compute and lock -------------------------------------------------------------


def test_hr_is_offered_compute_and_lock(hr_client):
    assert {"compute_periods", "lock_periods"} <= offered_actions(hr_client)


def test_without_compute_period_the_action_is_not_offered_and_does_nothing(client, appraised):  # noqa: F811
    viewer = StaffUserFactory(
        username="viewer",
        permissions=["appraisal.view_period", "appraisal.change_period", "appraisal.lock_period"],
    )
    client.force_login(viewer)
    period = period_get_or_create(code="2026-09")
    assert "compute_periods" not in offered_actions(client)

    act(client, "compute_periods", [period])

    period.refresh_from_db()
    assert period.state == State.OPEN


def test_without_lock_period_the_action_is_not_offered_and_does_nothing(client, appraised):  # noqa: F811
    computer = StaffUserFactory(
        username="computer",
        permissions=["appraisal.view_period", "appraisal.compute_period"],
    )
    client.force_login(computer)
    period = appraised["period"]
    assert offered_actions(client) == {"compute_periods"}

    act(client, "lock_periods", [period], apply="1")

    period.refresh_from_db()
    assert period.state == State.COMPUTED


def test_finance_may_not_compute_or_lock(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["finance"])
    period = appraised["period"]
    assert not {"compute_periods", "lock_periods"} & offered_actions(client)
    act(client, "lock_periods", [period], apply="1")
    period.refresh_from_db()
    assert period.state == State.COMPUTED


def test_finance_views_exports_and_imports_but_never_computes_or_locks(appraised):  # noqa: F811
    finance = appraised["users"]["finance"]
    assert finance.has_perm("appraisal.view_result")
    assert finance.has_perm("appraisal.export_period")
    assert finance.has_perm("appraisal.import_settlement")
    assert not finance.has_perm("appraisal.compute_period")
    assert not finance.has_perm("appraisal.lock_period")


@pytest.mark.parametrize("who", ["head", "outsider"])
def test_those_without_period_permissions_do_not_reach_periods(client, appraised, who):  # noqa: F811
    client.force_login(appraised["users"][who])
    assert client.get(reverse(PERIODS)).status_code == 403


# -- the export ------------------------------------------------------------------------------


def test_export_downloads_the_periods_workbook(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    assert reverse("admin:appraisal_period_export", args=[period.pk]) in (
        hr_client.get(reverse(PERIODS)).content.decode()
    )
    change_page = hr_client.get(reverse("admin:appraisal_period_change", args=[period.pk]))
    assert (
        reverse("admin:appraisal_period_export", args=[period.pk]) in change_page.content.decode()
    )
    response = hr_client.get(reverse("admin:appraisal_period_export", args=[period.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[0] == "汇总"
    assert workbook["汇总"].max_row == 1 + 4


def test_export_needs_the_export_permission(client, appraised):  # noqa: F811
    viewer = StaffUserFactory(username="viewer", permissions=["appraisal.view_period"])
    client.force_login(viewer)
    url = reverse("admin:appraisal_period_export", args=[appraised["period"].pk])
    assert url not in client.get(reverse(PERIODS)).content.decode()
    assert client.get(url).status_code == 403


# -- finance's import ------------------------------------------------------------------------

IMPORT = "admin:appraisal_settlement_import"


def finance_sheet(period: Period, amount: str = "12.50") -> bytes:
    """The period's 汇总 sheet as exported, with 扣款金额 and 备注 added to every row."""
    exported = io.BytesIO()
    period_workbook(period, exported)
    summary = openpyxl.load_workbook(io.BytesIO(exported.getvalue()))["汇总"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for number, row in enumerate(summary.iter_rows(values_only=True)):
        sheet.append([*row, "扣款金额", "备注"] if number == 0 else [*row, Decimal(amount), ""])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, period: Period, data: bytes):
    form = {"period": period.pk, "format": "0", "resource": "0"}
    form["import_file"] = SimpleUploadedFile("扣款表.xlsx", data)
    return client.post(reverse(IMPORT), form)


def test_finance_previews_then_confirms_the_sheet_of_a_locked_period(client, appraised):  # noqa: F811
    period, finance = appraised["period"], appraised["users"]["finance"]
    period_lock(period=period, actor=appraised["users"]["hr"])
    client.force_login(finance)
    assert (
        reverse(IMPORT)
        in client.get(reverse("admin:appraisal_settlement_changelist")).content.decode()
    )

    preview = upload(client, period, finance_sheet(period))
    assert preview.status_code == 200
    assert preview.context["summary"] == "新增 4 / 更新 0 / 未变 0"
    assert not Settlement.objects.exists()
    confirm = preview.context["confirm_form"]

    done = client.post(
        reverse("admin:appraisal_settlement_process_import"),
        {name: confirm.initial[name] for name in confirm.fields},
        follow=True,
    )

    assert Settlement.objects.filter(period=period, amount=Decimal("12.50")).count() == 4
    record = SettlementImport.objects.get()
    assert (record.imported_by, record.created) == (finance, 4)
    assert any(f"导入记录 #{record.pk}" in m for m in messages_of(done))


def test_a_sheet_for_a_period_not_locked_is_refused_on_the_form(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["finance"])
    response = upload(client, appraised["period"], finance_sheet(appraised["period"]))
    # Not offered, yet posted anyway: refused by name, not as an unknown choice.
    assert response.context["form"].errors["period"] == [ERROR_NOT_LOCKED.format(code="2026-10")]
    assert not Settlement.objects.exists()


def test_the_import_offers_only_locked_periods(client, appraised):  # noqa: F811
    # §7.1: finance's pay sheet is for a locked period; 2026-10 computed, 2026-11 open.
    hr = appraised["users"]["hr"]
    period_get_or_create(code="2026-11")
    locked = period_get_or_create(code="2026-09")
    period_compute(period=locked, actor=hr)
    period_lock(period=locked, actor=hr)
    client.force_login(appraised["users"]["finance"])

    response = client.get(reverse(IMPORT))

    assert response.status_code == 200
    offered = [label for value, label in response.context["form"].fields["period"].choices if value]
    assert offered == ["2026-09（已锁定）"]
    page = Page(response.content.decode())
    assert not [text for text in page.text if "已计算" in text or "未计算" in text]
    assert "period" in {name for form in page.forms for name, _ in form["fields"]}
    assert 'name="import_file"' in response.content.decode()
    assert NO_LOCKED_PERIOD not in page.text


@pytest.mark.parametrize("who", ["finance", "hr"])
def test_with_no_locked_period_the_import_page_says_so(client, appraised, who):  # noqa: F811
    client.force_login(appraised["users"][who])

    response = client.get(reverse(IMPORT))

    assert response.status_code == 200
    page = Page(response.content.decode())
    assert NO_LOCKED_PERIOD in page.text
    # No form with an empty list to choose from.
    assert "period" not in {name for form in page.forms for name, _ in form["fields"]}
    assert 'name="import_file"' not in response.content.decode()


def test_a_sheet_with_a_wrong_total_lists_the_row_and_writes_nothing(client, appraised):  # noqa: F811
    period = appraised["period"]
    period_lock(period=period, actor=appraised["users"]["hr"])
    data = finance_sheet(period)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook.active["D2"] = 99  # 扣分合计 of the first row
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(appraised["users"]["finance"])

    response = upload(client, period, out.getvalue())

    assert response.context.get("confirm_form") is None
    [line] = response.context["error_lines"]
    assert line.startswith("第2行「扣分合计」")
    assert not Settlement.objects.exists()


@pytest.mark.parametrize("who", ["head", "outsider"])
def test_the_import_needs_import_settlement(client, appraised, who):  # noqa: F811
    client.force_login(appraised["users"][who])
    assert client.get(reverse(IMPORT)).status_code == 403


def test_a_viewer_of_settlements_is_not_offered_the_import(client, appraised):  # noqa: F811
    viewer = StaffUserFactory(username="viewer", permissions=["appraisal.view_settlement"])
    client.force_login(viewer)
    page = client.get(reverse("admin:appraisal_settlement_changelist"))
    assert page.status_code == 200
    assert reverse(IMPORT) not in page.content.decode()
    assert client.get(reverse(IMPORT)).status_code == 403


# -- results and lines ------------------------------------------------------------------------

RESULTS_SEEN = {
    "hr": {"郭杰华", "张伟", "刘洋", "李娜"},
    "finance": {"郭杰华", "张伟", "刘洋", "李娜"},  # views results; evidence is tested elsewhere
    "head": {"郭杰华", "张伟", "刘洋"},  # §9.12 their department (一车间 included) only
}


@pytest.mark.parametrize(("who", "expected"), RESULTS_SEEN.items())
def test_result_list_shows_each_persona_what_they_may_see(client, appraised, who, expected):  # noqa: F811
    client.force_login(appraised["users"][who])
    assert {r.employee.name for r in changelist_rows(client, RESULTS)} == expected


@pytest.mark.parametrize(("who", "expected"), RESULTS_SEEN.items())
def test_line_list_shows_each_persona_what_they_may_see(client, appraised, who, expected):  # noqa: F811
    client.force_login(appraised["users"][who])
    assert {line.employee.name for line in changelist_rows(client, LINES)} == expected


def test_a_result_outside_the_heads_department_does_not_open(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["head"])
    other = Result.objects.get(employee__name="李娜")
    response = client.get(reverse("admin:appraisal_result_change", args=[other.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_head_sees_results_and_lines_on_the_index(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["head"])
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(RESULTS) in index
    assert reverse(LINES) in index
    assert reverse(PERIODS) not in index


def test_outsider_is_refused_results_and_lines(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["outsider"])
    assert client.get(reverse(RESULTS)).status_code == 403
    assert client.get(reverse(LINES)).status_code == 403


def test_a_plain_login_uses_the_self_service_page_not_the_admin(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["worker"])
    response = client.get(reverse(RESULTS))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("model", ["result", "line", "settlement", "settlementimport"])
def test_records_are_never_added_or_changed_in_the_admin(hr_client, model):
    assert hr_client.get(reverse(f"admin:appraisal_{model}_changelist")).status_code == 200
    assert hr_client.get(reverse(f"admin:appraisal_{model}_add")).status_code == 403


def test_a_result_page_is_read_only_even_for_hr(hr_client, appraised):  # noqa: F811
    result = Result.objects.get(employee__name="张伟")
    url = reverse("admin:appraisal_result_change", args=[result.pk])
    assert hr_client.get(url).context["has_change_permission"] is False
    assert hr_client.post(url, {"final_score": "100"}).status_code == 403


def test_department_filter_includes_sub_departments(hr_client):
    rows = changelist_rows(hr_client, RESULTS, "?department=生产部")
    assert {r.employee.name for r in rows} == {"郭杰华", "张伟", "刘洋"}
    rows = changelist_rows(hr_client, RESULTS, "?department=生产部/一车间")
    assert {r.employee.name for r in rows} == {"张伟"}


def test_department_filter_offers_a_head_only_their_departments(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["head"])
    response = client.get(reverse(RESULTS))
    spec = next(s for s in response.context["cl"].filter_specs if isinstance(s, DepartmentFilter))
    assert [label for _, label in spec.lookup_choices] == ["生产部", "生产部/一车间"]


def test_results_filter_by_period_and_grade_and_search_by_number_and_name(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    assert len(changelist_rows(hr_client, RESULTS, f"?period__id__exact={period.pk}")) == 4
    assert {r.grade for r in changelist_rows(hr_client, RESULTS, "?grade__exact=")} == {""}
    assert {r.employee.name for r in changelist_rows(hr_client, RESULTS, "?q=JM004")} == {"李娜"}
    assert {r.employee.name for r in changelist_rows(hr_client, RESULTS, "?q=刘洋")} == {"刘洋"}


def test_lines_and_settlements_are_searched_by_their_employee(client, appraised):  # noqa: F811
    period, hr = appraised["period"], appraised["users"]["hr"]
    period_lock(period=period, actor=hr)
    client.force_login(appraised["users"]["finance"])
    preview = upload(client, period, finance_sheet(period))
    confirm = preview.context["confirm_form"]
    client.post(
        reverse("admin:appraisal_settlement_process_import"),
        {name: confirm.initial[name] for name in confirm.fields},
    )
    client.force_login(hr)
    settlements = "admin:appraisal_settlement_changelist"
    li_na = Employee.objects.get(name="李娜")
    for url in (LINES, settlements):
        assert {r.employee.name for r in changelist_rows(client, url, "?q=李")} == {"李娜"}
        # 工号 from its start; every word must name the employee (Django's search).
        number = li_na.employee_no
        assert {r.employee.name for r in changelist_rows(client, url, f"?q={number}")} == {"李娜"}
        assert not changelist_rows(client, url, f"?q={number[1:]}")
        assert not changelist_rows(client, url, "?q=李+刘洋")
        assert {r.employee.name for r in changelist_rows(client, url, "?q=李+娜")} == {"李娜"}


def test_results_filter_by_grade_once_bands_are_configured(hr_client, appraised):  # noqa: F811
    GradeBand.objects.create(grade="A", min_score=Decimal("100"))
    GradeBand.objects.create(grade="B", min_score=Decimal("0"))
    EmployeeFactory(name="王芳", department=appraised["departments"]["sales"])  # no case
    act(hr_client, "compute_periods", [appraised["period"]])
    rows = changelist_rows(hr_client, RESULTS, "?grade__exact=A")
    assert {r.employee.name for r in rows} == {"王芳"}
    rows = changelist_rows(hr_client, RESULTS, "?grade__exact=B")
    assert {r.employee.name for r in rows} == {"郭杰华", "张伟", "刘洋", "李娜"}


def test_lines_filter_joint_liability_and_link_to_the_case(hr_client, appraised):  # noqa: F811
    [joint] = changelist_rows(hr_client, LINES, "?is_joint__exact=1")
    assert joint.employee.name == "郭杰华"
    page = hr_client.get(reverse(LINES)).content.decode()
    assert reverse("admin:violations_case_change", args=[joint.case_id]) in page


def test_a_results_lines_link_opens_its_lines(hr_client, appraised):  # noqa: F811
    result = Result.objects.get(employee__name="刘洋")
    query = f"?period__id__exact={result.period_id}&employee__id__exact={result.employee_id}"
    assert query.replace("&", "&amp;") in hr_client.get(reverse(RESULTS)).content.decode()
    assert [line.clause for line in changelist_rows(hr_client, LINES, query)] == ["9.8"]


def test_finance_reaches_periods_results_and_settlements(client, appraised):  # noqa: F811
    client.force_login(appraised["users"]["finance"])
    for model in ["period", "result", "line", "settlement", "settlementimport"]:
        assert client.get(reverse(f"admin:appraisal_{model}_changelist")).status_code == 200


# -- query bounds ---------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _more_appraised(appraised, count: int) -> None:  # noqa: F811
    """``count`` more employees of 生产部/一车间, each with a §9.4 case, recomputed."""
    from appraisal.services import period_compute

    hr = appraised["users"]["hr"]
    for _ in range(count):
        employee = EmployeeFactory(department=appraised["departments"]["workshop"])
        confirmed(employee, "9.4", 5, hr)
    period_compute(period=appraised["period"], actor=hr)


@pytest.mark.parametrize("query", ["", "?_facets=True"])  # 显示计数: a GROUP BY, not one per choice
@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("hr", RESULTS),
        ("hr", LINES),
        ("hr", PERIODS),
        ("head", RESULTS),
        ("head", LINES),
        ("finance", "admin:appraisal_settlement_changelist"),
        ("finance", "admin:appraisal_settlementimport_changelist"),
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(client, appraised, who, url, query):  # noqa: F811
    client.force_login(appraised["users"][who])
    # A first request fills the process's caches (content types, the viewer's permissions),
    # whichever test ran before in this worker: counted, it made "a few rows" the dearer.
    client.get(reverse(url) + query)
    few = _queries(client, reverse(url) + query)
    _more_appraised(appraised, 15)
    many = _queries(client, reverse(url) + query)
    assert many == few, f"{few} queries for a few rows, {many} for 15 more"


@pytest.mark.parametrize("name", ["period_shown", "employee_shown"])
def test_the_period_and_employee_links_are_written_once_for_every_read_only_admin(name):
    from appraisal.admin.base import ReadOnlyAdmin
    from appraisal.admin.results import LineAdmin, ResultAdmin
    from appraisal.admin.settlements import SettlementAdmin, SettlementImportAdmin

    admins = [ResultAdmin, LineAdmin, SettlementAdmin]
    admins += [SettlementImportAdmin] if name == "period_shown" else []
    assert {getattr(model_admin, name) for model_admin in admins} == {getattr(ReadOnlyAdmin, name)}
