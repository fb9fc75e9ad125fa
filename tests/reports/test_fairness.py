"""The fairness report of a period (issue 14, point 4; §7.1), on a hand-checked month.

October 2026, two departments, two rules, two deciders (hr2, hr3), every case filed by hr1:

  #  employee          rule  day    what happened                               points
  1  李娜 销售部        甲    10-05  confirmed by hr2                             2.00
  2  王芳 销售部        乙    10-08  confirmed by hr2, appealed, upheld by hr3    4.00
  3  刘洋 生产部        乙    10-12  confirmed by hr3 → joint case of 周强 (head)  4.00 + 2.00
  4  刘洋 生产部        甲    10-15  confirmed by hr3 with 3.00 (调整), appealed,
                                     overturned by hr2                          (3.00, not counted)
  5  李娜 销售部        乙    10-20  confirmed by hr3                             4.00
  6  王芳 销售部        甲    10-22  dismissed by hr2                             —
  7  李娜 销售部        甲    10-25  proposed (waits)                             —
  8  李娜 销售部        甲    11-02  confirmed by hr2: November, not this period

Expected, by hand:
  departments  销售部: cases 1, 2, 5 → 3 counting, 10.00, none overturned
               生产部: case 3 and its joint case → 2 counting (1 joint), 6.00, case 4 overturned
  rules        甲 (98.1): case 1 → 1 counting, 2.00; case 6 dismissed; case 4 overturned
               乙 (98.2): cases 2, 3, 5 and the joint case → 4 counting (1 joint), 14.00
  deciders     hr2: confirmed 1, 2 → 2, points 6.00 (avg 3.00), 0 adjusted, dismissed 1 (case 6),
                    appealed 1 (case 2), overturned 0, rate 0 %
               hr3: confirmed 3, 4, 5 → 3, points 11.00 (avg 3.67), 1 adjusted (case 4),
                    dismissed 0, appealed 1 (case 4), overturned 1, rate 33.3 %
                    (the joint case is no decision: not counted for hr3)
  summary      8 cases in October (the joint one included), 1 proposed, 0 in appeal,
               5 counting, 16.00 points, 1 dismissed, 1 overturned
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal.fairness import DeciderRow, DepartmentRow, RuleRow, fairness_report
from appraisal.models import Line
from appraisal.services import period_compute, period_get_or_create
from company.roles import HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, RuleFactory, UserFactory
from violations.services import (
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    case_file,
)

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
D = Decimal


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ)


@pytest.fixture
def hr3(seeded):
    return UserFactory(username="hr3", roles=[HR])


@pytest.fixture
def october(hr, hr2, hr3):
    sales = department_get_or_create_by_path(path="销售部")
    production = department_get_or_create_by_path(path="生产部")
    people = {
        "lina": EmployeeFactory(name="李娜", employee_no="S01", department=sales),
        "wangfang": EmployeeFactory(name="王芳", employee_no="S02", department=sales),
        "liuyang": EmployeeFactory(name="刘洋", employee_no="P01", department=production),
        "zhouqiang": EmployeeFactory(name="周强", employee_no="P02", department=production),
    }
    department_set_head(department=production, head=people["zhouqiang"])
    rule_a = RuleFactory(code="98.1", title_zh="测试条款甲", default_points=D("2"))
    rule_b = RuleFactory(
        code="98.2", title_zh="测试条款乙", default_points=D("4"), head_share=D("0.5")
    )
    group = ChatGroupFactory()

    def filed(who, rule, day):
        return case_file(
            rule=rule,
            employee=people[who],
            group=group,
            occurred_at=at(day),
            description=f"{who} {day}",
            actor=hr,
        )

    def confirmed(who, rule, day, by, **override):
        return case_confirm(case=filed(who, rule, day), actor=by, comment="属实", **override)

    def appealed(case, by, *, uphold):
        case_appeal(case=case, actor=hr, comment="员工申诉")
        return case_decide_appeal(case=case, actor=by, uphold=uphold, comment="裁决")

    cases = {
        1: confirmed("lina", rule_a, "2026-10-05", hr2),
        2: appealed(confirmed("wangfang", rule_b, "2026-10-08", hr2), hr3, uphold=True),
        3: confirmed("liuyang", rule_b, "2026-10-12", hr3),
        4: appealed(
            confirmed(
                "liuyang", rule_a, "2026-10-15", hr3, points=D("3"), override_reason="情节较重"
            ),
            hr2,
            uphold=False,
        ),
        5: confirmed("lina", rule_b, "2026-10-20", hr3),
        6: case_dismiss(case=filed("wangfang", rule_a, "2026-10-22"), actor=hr2, comment="不属实"),
        7: filed("lina", rule_a, "2026-10-25"),
        8: confirmed("lina", rule_a, "2026-11-02", hr2),
    }
    return {"period": period_get_or_create(code="2026-10"), "cases": cases, "people": people}


def test_hand_checked_month(october, hr2, hr3):
    report = fairness_report(october["period"])

    assert (report.cases, report.proposed, report.in_appeal) == (8, 1, 0)
    assert (report.counting, report.points) == (5, D("16.00"))
    assert (report.dismissed, report.overturned) == (1, 1)
    assert report.departments == [  # not computed yet: nobody appraised, no per-person figure
        DepartmentRow("生产部", None, cases=2, joint=1, points=D("6.00"), overturned=1),
        DepartmentRow("销售部", None, cases=3, joint=0, points=D("10.00"), overturned=0),
    ]
    assert report.rules == [
        RuleRow(
            "98.1", "测试条款甲", cases=1, joint=0, points=D("2.00"), dismissed=1, overturned=1
        ),
        RuleRow(
            "98.2", "测试条款乙", cases=4, joint=1, points=D("14.00"), dismissed=0, overturned=0
        ),
    ]
    assert report.deciders == [
        DeciderRow(
            "hr2", hr2.pk, 2, D("6.00"), overridden=0, dismissed=1, appealed=1, overturned=0
        ),
        DeciderRow(
            "hr3", hr3.pk, 3, D("11.00"), overridden=1, dismissed=0, appealed=1, overturned=1
        ),
    ]
    hr2_row, hr3_row = report.deciders
    assert (hr2_row.average_points, hr2_row.overturn_rate, hr2_row.overturn_rate_text) == (
        D("3.00"),
        D("0"),
        "0.0%",
    )
    assert (hr3_row.average_points, hr3_row.overturn_rate, hr3_row.overturn_rate_text) == (
        D("3.67"),
        D("0.3333"),
        "33.3%",
    )
    assert not report.final


def test_computed_period_counts_its_people_and_matches_the_deductions(october, hr):
    period = october["period"]
    period_compute(period=period, actor=hr)

    report = fairness_report(period)

    # Everyone appraised: 李娜, 王芳 in 销售部; 刘洋, 周强 in 生产部.
    by_department = {row.department: row for row in report.departments}
    assert (by_department["销售部"].people, by_department["销售部"].points_per_person) == (
        2,
        D("5.00"),
    )
    assert (by_department["生产部"].people, by_department["生产部"].points_per_person) == (
        2,
        D("3.00"),
    )
    # The departments' points are the period's deductions (no adjustment in this month).
    lines = sum(Line.objects.filter(period=period).values_list("points", flat=True), D("0"))
    assert sum(row.points for row in report.departments) == lines == report.points


def test_a_case_stays_with_the_department_its_result_was_computed_with(october, hr):
    period = october["period"]
    period_compute(period=period, actor=hr)
    liuyang = october["people"]["liuyang"]
    liuyang.department = department_get_or_create_by_path(path="销售部")
    liuyang.save()

    report = fairness_report(period)

    by_department = {row.department: row for row in report.departments}
    assert (by_department["生产部"].cases, by_department["生产部"].overturned) == (2, 1)
    assert by_department["销售部"].cases == 3


def test_an_empty_period_has_no_rows(seeded):
    report = fairness_report(period_get_or_create(code="2026-09"))

    assert (report.cases, report.points, report.departments, report.rules, report.deciders) == (
        0,
        D("0.00"),
        [],
        [],
        [],
    )


def _queries(period) -> int:
    with CaptureQueriesContext(connection) as queries:
        fairness_report(period)
    return len(queries)


def test_the_report_takes_the_same_few_queries_however_many_cases_and_deciders(october, hr):
    period = october["period"]
    period_compute(period=period, actor=hr)
    before = _queries(period)
    # Twice the month: more people, departments, rules and deciders.
    more_deciders = [UserFactory(username=f"hr-more{i}", roles=[HR]) for i in range(3)]
    for i in range(12):
        department = department_get_or_create_by_path(path=f"新部门{i % 4}")
        case = case_file(
            rule=RuleFactory(default_points=D("1")),
            employee=EmployeeFactory(department=department),
            group=ChatGroupFactory(),
            occurred_at=at(f"2026-10-{i + 1:02d}"),
            description="更多",
            actor=hr,
        )
        case_confirm(case=case, actor=more_deciders[i % 3], comment="属实")
    period_compute(period=period, actor=hr)

    assert _queries(period) == before <= 7


# -- the admin: the page, its link and the download ----------------------------------------


def fairness_url(period) -> str:
    return reverse("admin:appraisal_period_fairness", args=[period.pk])


def xlsx_url(period) -> str:
    return reverse("admin:appraisal_period_fairness_xlsx", args=[period.pk])


@pytest.mark.parametrize("persona", ["hr", "leader", "superuser"])
def test_hr_and_leaders_open_the_report_from_the_period_page(request, client, october, persona):
    client.force_login(request.getfixturevalue(persona))
    period = october["period"]

    page = client.get(reverse("admin:appraisal_period_change", args=[period.pk]))
    assert fairness_url(period) in page.content.decode()

    response = client.get(fairness_url(period))
    assert response.status_code == 200
    html = response.content.decode()
    assert "公平性报告：2026-10" in html
    assert xlsx_url(period) in html
    for figure in ("33.3%", "测试条款乙", "14.00", "3.67"):
        assert figure in html
    assert "尚未锁定" in html


@pytest.mark.parametrize("persona", ["finance", "department_head", "group_admin", "outsider"])
def test_others_are_refused_the_report_and_shown_no_link(request, client, october, persona):
    client.force_login(request.getfixturevalue(persona))
    period = october["period"]

    assert client.get(fairness_url(period)).status_code == 403
    assert client.get(xlsx_url(period)).status_code == 403
    page = client.get(reverse("admin:appraisal_period_change", args=[period.pk]))
    assert fairness_url(period) not in page.content.decode()


def test_an_employee_is_sent_to_the_login_page(client, october, employee):
    client.force_login(employee)  # not staff: no admin page at all

    response = client.get(xlsx_url(october["period"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_no_such_period_is_404(client, hr):
    client.force_login(hr)

    assert client.get(reverse("admin:appraisal_period_fairness", args=[999999])).status_code == 404


def test_the_download_holds_the_same_figures(client, october, hr):
    client.force_login(hr)

    response = client.get(xlsx_url(october["period"]))

    assert response.status_code == 200
    assert response.streaming
    filename = quote("公平性报告-2026-10.xlsx")
    assert f"filename*=utf-8''{filename}" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["概况", "部门", "条款", "确认人"]
    summary = {row[0]: row[1] for row in workbook["概况"].iter_rows(min_row=2, values_only=True)}
    assert (summary["计分案件"], summary["扣分合计"], summary["申诉撤销"]) == (5, 16, 1)
    assert summary["开始日期"] == "2026年10月1日"
    rows = list(workbook["确认人"].iter_rows(values_only=True))
    assert rows[0] == (
        "确认人", "确认案件", "扣分合计", "平均每案扣分", "调整扣分", "驳回", "被申诉", "申诉撤销", "撤销率"
    )  # fmt: skip
    assert rows[2] == ("hr3", 3, 11, 3.67, 1, 0, 1, 1, 0.3333)
    assert workbook["确认人"]["I3"].number_format == "0.0%"
    departments = list(workbook["部门"].iter_rows(min_row=2, values_only=True))
    assert departments == [("生产部", None, 2, 1, 6, None, 1), ("销售部", None, 3, 0, 10, None, 0)]


def test_the_page_takes_the_same_queries_however_many_cases(client, october, hr):
    client.force_login(hr)
    period = october["period"]
    client.get(fairness_url(period))  # warm: the session, the permissions' caches
    with CaptureQueriesContext(connection) as before:
        client.get(fairness_url(period))
    for i in range(10):
        case = case_file(
            rule=RuleFactory(default_points=D("1")),
            employee=EmployeeFactory(department=department_get_or_create_by_path(path=f"部{i}")),
            group=ChatGroupFactory(),
            occurred_at=at(f"2026-10-{i + 1:02d}"),
            description="更多",
            actor=hr,
        )
        case_confirm(case=case, actor=UserFactory(username=f"hr-x{i}", roles=[HR]), comment="属实")

    with CaptureQueriesContext(connection) as after:
        response = client.get(fairness_url(period))

    assert response.status_code == 200
    assert len(after) == len(before)
