"""The period page as HR and finance use it (§7.1): 计算 and 锁定 buttons outside the change
form, links from a period to its results and lines, corrections of a locked period that
wait for a period not yet created, links only where the viewer may follow them, people
by name, clause codes with §, the workbook's download name, and every list's filters and
facet counts for each role."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal.admin.periods import CREATED_NEXT
from appraisal.models import Line, Period, Result, period_after
from appraisal.selectors import corrections_waiting
from appraisal.services import (
    AppraisalError,
    period_compute,
    period_create_for_corrections,
    period_get_or_create,
    period_lock,
)
from appraisal.services.periods import (
    ERROR_NOT_COMPUTED,
    ERROR_NOT_HR_CREATE,
    ERROR_NOT_WAITED_FOR,
)
from company.roles import GROUP_ADMINS
from jobs.models import Job
from tests.appraisal.test_visibility import appraised, confirmed  # noqa: F401 — fixture
from tests.factories import EmployeeFactory, StaffUserFactory, UserFactory
from tests.html import Page
from violations.models import Case, Rule, clause_sort_key
from violations.services import case_appeal, case_decide_appeal

pytestmark = pytest.mark.django_db
State = Period.State

PERIODS = "admin:appraisal_period_changelist"
RESULTS = "admin:appraisal_result_changelist"
LINES = "admin:appraisal_line_changelist"


def page(period: Period) -> str:
    return reverse("admin:appraisal_period_change", args=[period.pk])


def compute_url(period: Period) -> str:
    return reverse("admin:appraisal_period_compute", args=[period.pk])


def lock_url(period: Period) -> str:
    return reverse("admin:appraisal_period_lock", args=[period.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def parsed(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200
    return Page(response.content.decode())


@pytest.fixture
def users(appraised):  # noqa: F811
    return appraised["users"]


@pytest.fixture
def hr_client(client, users):
    client.force_login(users["hr"])
    return client


@pytest.fixture
def finance_client(client, users):
    client.force_login(users["finance"])
    return client


# -- 计算 and 锁定 on the period page ----------------------------------------------------------


def test_hr_computes_then_locks_with_the_buttons_on_the_period_page(hr_client, users):
    period = period_get_or_create(code="2026-09")
    assert {"计算", "锁定"} & set(parsed(hr_client, page(period)).buttons()) == {"计算"}

    response = hr_client.post(compute_url(period), follow=True)
    period.refresh_from_db()
    assert (period.state, period.computed_by) == (State.COMPUTED, users["hr"])
    # The computation is a job (docs/background-jobs.md): its page, finished (no broker).
    job = Job.objects.get(kind=Job.Kind.PERIOD_COMPUTE)
    assert response.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert any(m.startswith("2026-09 已计算：4 名员工") for m in messages_of(response))
    assert (page(period), "打开考核期间 2026-09") in Page(response.content.decode()).anchors
    # Computed: it may be computed again, or locked.
    assert {"计算", "锁定"} <= set(parsed(hr_client, page(period)).buttons())

    hr_client.post(lock_url(period))  # the confirmation first (see below)
    response = hr_client.post(lock_url(period), {"apply": "1"}, follow=True)
    period.refresh_from_db()
    assert (period.state, period.locked_by) == (State.LOCKED, users["hr"])
    assert response.redirect_chain[-1][0] == page(period)
    assert "考核期间 2026-09 已锁定。" in messages_of(response)
    assert {"计算", "锁定"} & set(Page(response.content.decode()).buttons()) == set()


def test_the_lock_button_asks_for_the_same_confirmation_as_the_list_action(
    hr_client,
    appraised,  # noqa: F811
):
    period = appraised["period"]  # computed
    confirmation = hr_client.post(lock_url(period))
    assert confirmation.status_code == 200
    assert confirmation.templates[0].name == "admin/appraisal/period/lock_confirm.html"
    period.refresh_from_db()
    assert (period.state, period.locked_by) == (State.COMPUTED, None)  # §7.1: not yet
    html = Page(confirmation.content.decode())
    assert html.form_with("确认锁定")["action"] is None  # posted back to the button's URL
    assert (page(period), period.code) in html.anchors

    hr_client.post(lock_url(period), {"apply": "1"})
    period.refresh_from_db()
    assert (period.state, period.locked_by) == (State.LOCKED, appraised["users"]["hr"])


def test_each_button_is_its_own_form_outside_the_change_form(hr_client, appraised):  # noqa: F811
    html = parsed(hr_client, page(appraised["period"]))  # computed: both buttons
    assert html.nested == []
    assert html.form_with("计算")["action"] == compute_url(appraised["period"])
    assert html.form_with("锁定")["action"] == lock_url(appraised["period"])
    change_form = next(form for form in html.forms if form["id"] == "period_form")
    assert {"计算", "锁定"} & set(change_form["buttons"]) == set()


def test_locking_before_computing_is_refused_in_chinese(hr_client):
    period = period_get_or_create(code="2026-09")
    response = hr_client.post(lock_url(period), {"apply": "1"}, follow=True)
    period.refresh_from_db()
    assert period.state == State.OPEN
    assert ERROR_NOT_COMPUTED.format(code="2026-09") in messages_of(response)


def test_the_buttons_answer_only_a_post(hr_client, appraised):  # noqa: F811
    period = appraised["period"]
    assert hr_client.get(compute_url(period)).status_code == 405
    assert hr_client.get(lock_url(period)).status_code == 405
    period.refresh_from_db()
    assert period.state == State.COMPUTED


def test_finance_sees_no_buttons_and_is_refused_them(finance_client, appraised):  # noqa: F811
    period = appraised["period"]
    html = parsed(finance_client, page(period))
    assert {"计算", "锁定"} & set(html.buttons()) == set()
    assert finance_client.post(compute_url(period)).status_code == 403
    assert finance_client.post(lock_url(period)).status_code == 403
    assert finance_client.post(lock_url(period), {"apply": "1"}).status_code == 403
    period.refresh_from_db()
    assert period.state == State.COMPUTED
    assert period.locked_by is None


# -- links to the rows behind a period ------------------------------------------------------


@pytest.fixture
def two_periods(appraised):  # noqa: F811
    """October (4 results, 4 lines) and November (4 results, no line): a filter that
    did not filter would show 8 results."""
    november = period_get_or_create(code="2026-11")
    period_compute(period=november, actor=appraised["users"]["hr"])
    return appraised["period"], november


def rows_behind(client, href: str) -> list:
    response = client.get(href)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("who", ["hr", "finance"])
def test_the_period_page_links_to_its_results_and_lines(client, users, two_periods, who):
    october, _ = two_periods
    client.force_login(users[who])
    html = parsed(client, page(october))
    [(results_href, results_text)] = html.hrefs_to(reverse(RESULTS))
    [(lines_href, lines_text)] = html.hrefs_to(reverse(LINES))
    assert (results_text, lines_text) == ("扣分汇总（4 人）", "扣分明细（4 条）")
    results = rows_behind(client, results_href)
    lines = rows_behind(client, lines_href)
    assert (len(results), len(lines)) == (4, 4)
    assert {row.period_id for row in results + lines} == {october.pk}


@pytest.mark.parametrize("who", ["hr", "finance"])
def test_the_counts_on_the_period_list_link_to_their_rows(client, users, two_periods, who):
    client.force_login(users[who])
    html = parsed(client, reverse(PERIODS))
    for model, url in [(Result, RESULTS), (Line, LINES)]:
        links = html.hrefs_to(reverse(url))
        assert len(links) == 2
        for href, count in links:
            [period_id] = parse_qs(urlsplit(href).query)["period__id__exact"]
            rows = rows_behind(client, href)
            assert len(rows) == int(count) == model.objects.filter(period_id=period_id).count()
            assert {row.period_id for row in rows} <= {int(period_id)}


def test_counts_are_not_links_for_whoever_may_not_open_the_rows(client, two_periods):
    client.force_login(StaffUserFactory(username="viewer", permissions=["appraisal.view_period"]))
    html = parsed(client, reverse(PERIODS))
    assert html.hrefs_to(reverse(RESULTS)) == html.hrefs_to(reverse(LINES)) == []
    assert client.get(reverse(RESULTS)).status_code == 403
    october, _ = two_periods
    assert parsed(client, page(october)).hrefs_to(reverse(RESULTS)) == []


# -- corrections waiting for a period that does not exist yet (§7.1) -------------------------


@pytest.fixture
def locked_with_late_case(appraised):  # noqa: F811
    """October locked; then a case of October is confirmed: its correction has no period."""
    hr = appraised["users"]["hr"]
    october = appraised["period"]
    period_lock(period=october, actor=hr)
    late = confirmed(appraised["employees"]["seller"], "9.7", 28, hr)
    return october, late


def test_nothing_waits_while_no_case_changed_after_the_lock(appraised):  # noqa: F811
    period_lock(period=appraised["period"], actor=appraised["users"]["hr"])
    assert corrections_waiting() == []


def test_a_correction_without_a_later_period_waits_and_names_the_period_needed(
    locked_with_late_case,
):
    october, late = locked_with_late_case
    [waiting] = corrections_waiting()
    assert (waiting.locked, waiting.needed) == (october, "2026-11")
    assert waiting.corrections == [(late.pk, late.points)]


def test_an_overturned_case_waits_as_points_given_back(appraised):  # noqa: F811
    hr = appraised["users"]["hr"]
    october = appraised["period"]
    period_lock(period=october, actor=hr)
    case = Case.objects.get(employee=appraised["employees"]["seller"])
    case_appeal(case=case, actor=hr, comment="员工申诉")
    second_hr = UserFactory(username="hr2")
    second_hr.groups.add(*hr.groups.all())
    case_decide_appeal(case=case, actor=second_hr, uphold=False, comment="申诉成立")
    [waiting] = corrections_waiting()
    assert waiting.corrections == [(case.pk, -case.points)]


def test_the_period_needed_skips_the_locked_ones_after_it(appraised):  # noqa: F811
    hr = appraised["users"]["hr"]
    period_lock(period=appraised["period"], actor=hr)
    november = period_get_or_create(code="2026-11")
    period_compute(period=november, actor=hr)
    period_lock(period=november, actor=hr)
    confirmed(appraised["employees"]["seller"], "9.7", 28, hr)  # October, after both locks
    [waiting] = corrections_waiting()
    assert (waiting.locked.code, waiting.needed) == ("2026-10", "2026-12")


def test_a_not_locked_later_period_takes_the_correction(locked_with_late_case):
    period_get_or_create(code="2026-12")  # not the next month, but after October and open
    assert corrections_waiting() == []


def test_hr_is_told_and_creates_the_period_in_one_click(hr_client, locked_with_late_case):
    october, late = locked_with_late_case
    for url in [reverse(PERIODS), page(october)]:
        text = hr_client.get(url).content.decode()
        assert "考核期间 2026-10 已锁定" in text
        assert f"案件 #{late.pk} +{late.points}" in text
        assert "请新建考核期间 2026-11" in text
    html = parsed(hr_client, reverse(PERIODS))
    assert html.nested == []
    create = html.form_with("新建考核期间 2026-11")
    assert create["action"] == reverse("admin:appraisal_period_create_next")

    response = hr_client.post(create["action"], {"code": "2026-11"}, follow=True)
    november = Period.objects.get(code="2026-11")
    assert response.redirect_chain[-1][0] == page(november)
    assert CREATED_NEXT.format(code="2026-11") in messages_of(response)
    assert "计算" in Page(response.content.decode()).buttons()

    hr_client.post(compute_url(november))
    adjustment = Line.objects.get(period=november, corrects=october)
    assert (adjustment.case_id, adjustment.points) == (late.pk, late.points)
    assert "请新建考核期间" not in hr_client.get(reverse(PERIODS)).content.decode()


def test_finance_is_not_offered_to_create_the_period(finance_client, locked_with_late_case):
    assert "新建考核期间" not in finance_client.get(reverse(PERIODS)).content.decode()
    url = reverse("admin:appraisal_period_create_next")
    assert finance_client.post(url, {"code": "2026-11"}).status_code == 403
    assert not Period.objects.filter(code="2026-11").exists()


def test_a_code_no_correction_waits_for_is_refused_and_creates_nothing(
    hr_client, locked_with_late_case
):
    url = reverse("admin:appraisal_period_create_next")
    response = hr_client.post(url, {"code": "2027-05"}, follow=True)
    assert ERROR_NOT_WAITED_FOR.format(code="2027-05") in messages_of(response)
    assert not Period.objects.filter(code="2027-05").exists()
    assert [w.needed for w in corrections_waiting()] == ["2026-11"]  # still waiting


def test_the_period_created_for_corrections_names_who_created_it(users, locked_with_late_case):
    november = period_create_for_corrections(code="2026-11", actor=users["hr"])
    assert (november.kind, str(november.starts_on), november.state) == (
        Period.Kind.MONTHLY,
        "2026-11-01",
        State.OPEN,
    )
    assert (november.history.get().history_type, november.history.get().history_user) == (
        "+",
        users["hr"],
    )
    assert corrections_waiting() == []


def test_only_hr_creates_the_period_for_corrections(users, locked_with_late_case):
    with pytest.raises(AppraisalError, match=ERROR_NOT_HR_CREATE):
        period_create_for_corrections(code="2026-11", actor=users["finance"])
    assert not Period.objects.filter(code="2026-11").exists()


def test_a_malformed_code_creates_nothing(hr_client):
    url = reverse("admin:appraisal_period_create_next")
    response = hr_client.post(url, {"code": "2026/11"}, follow=True)
    assert any("2026-11（月度）" in m for m in messages_of(response))
    assert not Period.objects.filter(code="2026/11").exists()


@pytest.mark.parametrize(
    ("code", "after"),
    [
        ("2026-11", "2026-12"),
        ("2026-12", "2027-01"),
        ("2026-Q3", "2026-Q4"),
        ("2026-Q4", "2027-Q1"),
    ],
)
def test_the_period_after(code, after):
    assert period_after(code) == after


# -- links a role cannot follow are not shown; people by name; § ---------------------------


@pytest.fixture
def group_admin(appraised):  # noqa: F811
    """A group admin (staff, 群管理员 role) with a result and no deduction line."""
    user = UserFactory(username="groupadmin", roles=[GROUP_ADMINS])
    EmployeeFactory(
        name="陈静", employee_no="JM005", department=appraised["departments"]["sales"], user=user
    )
    period_compute(period=appraised["period"], actor=appraised["users"]["hr"])
    return user


def test_the_lines_link_only_for_whoever_may_open_the_lines(client, users, group_admin):
    client.force_login(group_admin)
    response = client.get(reverse(RESULTS))
    assert [row.employee.name for row in response.context["cl"].result_list] == ["陈静"]
    assert reverse(LINES) not in response.content.decode()
    assert client.get(reverse(LINES)).status_code == 403  # where the link would lead

    client.force_login(users["hr"])
    assert len(parsed(client, reverse(RESULTS)).hrefs_to(reverse(LINES))) == 5


def _result_page(client, name: str) -> Page:
    result = Result.objects.get(employee__name=name)
    return parsed(client, reverse("admin:appraisal_result_change", args=[result.pk]))


def test_a_result_links_its_employee_and_period_for_hr(hr_client):
    result = Result.objects.get(employee__name="张伟")
    hrefs = {href for href, _ in _result_page(hr_client, "张伟").anchors}
    assert reverse("admin:members_employee_change", args=[result.employee_id]) in hrefs
    assert page(result.period) in hrefs


def test_a_head_without_the_employee_list_sees_names_not_links(client, users):
    client.force_login(users["head"])  # heads 生产部, holds no members.view_employee
    html = _result_page(client, "张伟")
    paths = {urlsplit(href).path for href, _ in html.anchors}
    assert not any(p.startswith("/admin/members/employee/") for p in paths)
    assert not any(p.startswith("/admin/appraisal/period/") for p in paths)
    text = client.get(
        reverse(
            "admin:appraisal_result_change", args=[Result.objects.get(employee__name="张伟").pk]
        )
    ).content.decode()
    assert "张伟" in text


def test_a_line_whose_case_the_viewer_may_not_open_is_not_a_link(client, users, appraised):  # noqa: F811
    # 刘洋 moved to 销售部 after October was computed: the head still sees his October
    # line (the department it was computed with) but no longer his case.
    dodger = appraised["employees"]["dodger"]
    dodger.department = appraised["departments"]["sales"]
    dodger.save()
    line = Line.objects.get(employee=dodger)
    case_page = reverse("admin:violations_case_change", args=[line.case_id])
    client.force_login(users["head"])
    assert client.get(case_page).status_code in (403, 404)
    assert case_page not in client.get(reverse(LINES)).content.decode()
    line_page = client.get(reverse("admin:appraisal_line_change", args=[line.pk]))
    assert case_page not in line_page.content.decode()
    assert f"#{line.case_id}" in line_page.content.decode()

    client.force_login(users["hr"])
    assert case_page in client.get(reverse(LINES)).content.decode()


def test_people_are_shown_by_name_never_by_login(client, appraised):  # noqa: F811
    hr = appraised["users"]["hr"]
    EmployeeFactory(name="周敏", employee_no="HR001", user=hr)
    october = appraised["period"]
    period_compute(period=october, actor=hr)
    period_lock(period=october, actor=hr)
    client.force_login(hr)
    for url in [reverse(PERIODS), page(october)]:
        text = client.get(url).content.decode()
        content = text[text.index('id="content-main"') :]
        assert "周敏（HR001）" in content
        assert "hr1" not in content  # the login is nowhere in what the page shows
        assert "/admin/auth/user/" not in text


def test_clause_codes_read_with_the_section_sign_in_clause_order(hr_client, appraised):  # noqa: F811
    hr = appraised["users"]["hr"]
    confirmed(appraised["employees"]["seller"], "9.10", 21, hr)
    confirmed(appraised["employees"]["seller"], "9.2", 22, hr)
    period_compute(period=appraised["period"], actor=hr)
    response = hr_client.get(reverse(LINES))
    text = response.content.decode()
    assert "§9.4" in text
    spec = next(f for f in response.context["cl"].filter_specs if f.title == "条款")
    # The catalog's clauses (read from the rules, not by a DISTINCT over every line).
    labels = [label for _, label in spec.lookup_choices]
    codes = sorted(Rule.objects.values_list("code", flat=True), key=clause_sort_key)
    assert labels == [f"§{code}" for code in codes]
    assert labels.index("§9.2") < labels.index("§9.4") < labels.index("§9.10")


# -- downloads ------------------------------------------------------------------------------


def test_the_workbook_downloads_under_its_chinese_name(hr_client, appraised):  # noqa: F811
    url = reverse("admin:appraisal_period_export", args=[appraised["period"].pk])
    response = hr_client.get(url)
    header = response["Content-Disposition"]
    assert header.startswith("attachment; filename*=utf-8''")
    assert unquote(header.split("''", 1)[1]) == "考核结果-2026-10.xlsx"
    b"".join(response.streaming_content)


# -- every list, every filter, facet counts, for HR and finance -----------------------------

APPRAISAL_LISTS = ["period", "gradeband", "result", "line", "settlement", "settlementimport"]


@pytest.mark.parametrize("who", ["hr", "finance"])
@pytest.mark.parametrize("model", APPRAISAL_LISTS)
def test_every_list_survives_each_filter_and_facet_counts(client, users, two_periods, who, model):
    client.force_login(users[who])
    url = reverse(f"admin:appraisal_{model}_changelist")
    response = client.get(url, {"_facets": "True"})
    assert response.status_code == 200
    queries = {
        choice["query_string"]
        for spec in response.context["cl"].filter_specs
        for choice in spec.choices(response.context["cl"])
    }
    for query in queries:
        assert client.get(url + query).status_code == 200, query


def test_the_period_list_asks_no_more_queries_for_more_locked_periods(hr_client, appraised):  # noqa: F811
    hr = appraised["users"]["hr"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert hr_client.get(reverse(PERIODS)).status_code == 200
        return len(ctx.captured_queries)

    period_lock(period=appraised["period"], actor=hr)
    few = queries()
    for code in ["2026-11", "2026-12", "2027-01", "2027-02"]:
        period = period_get_or_create(code=code)
        period_compute(period=period, actor=hr)
        period_lock(period=period, actor=hr)
    assert queries() == few


# -- empty values: one dash everywhere, and the page behind the list's facet counts -----------


def test_empty_values_read_as_one_dash_on_the_period_page_and_list(hr_client, two_periods):
    # 2026-10 computed, not locked: its 锁定时间 and 锁定人 are empty, each shown as "—".
    october, _ = two_periods
    period_get_or_create(code="2026-12")  # nobody computed it: 计算时间/计算人 empty too
    html = parsed(hr_client, page(october))
    assert "-" not in html.text
    assert html.text.count("—") >= 2

    listed = parsed(hr_client, reverse(PERIODS))
    assert "-" not in listed.text
    assert listed.text.count("—") >= 2 * 2 + 2  # 锁定时间, 锁定人 of each; 计算… of 2026-12


@pytest.mark.parametrize("who", ["hr", "finance"])
def test_the_period_list_and_page_open_with_facet_counts(client, users, two_periods, who):
    october, _ = two_periods
    client.force_login(users[who])
    listed = client.get(reverse(PERIODS), {"_facets": "True"})
    assert listed.status_code == 200
    assert october.code in Page(listed.content.decode()).text
    # The list's links keep the facet toggle in _changelist_filters; the page takes it too.
    for query in ({"_changelist_filters": "_facets=True"}, {"_facets": "True"}):
        response = client.get(page(october), query)
        assert response.status_code == 200, query
