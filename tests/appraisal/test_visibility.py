"""Who sees which appraisal result and line (§7.1, §9.12) — the selectors the admin and
/me/appraisal/ share — and the employee's own page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal.models import Period, Result
from appraisal.selectors import departments_visible_to, lines_visible_to, results_visible_to
from appraisal.services import period_compute, period_get_or_create
from company.roles import COMPANY_LEADERS, FINANCE, HR
from members.models import Employee
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import CaseFactory, ChatGroupFactory, EmployeeFactory, login
from violations.models import Case, Rule
from violations.services import case_confirm

pytestmark = pytest.mark.django_db

PERIOD = "2026-10"


def occurred(day: int) -> dt.datetime:
    return dt.datetime(2026, 10, day, 10, tzinfo=timezone.get_current_timezone())


def confirmed(employee: Employee, code: str, day: int, hr) -> Case:
    case = CaseFactory(
        rule=Rule.objects.get(code=code),
        employee=employee,
        group=ChatGroupFactory(),
        occurred_at=occurred(day),
    )
    return case_confirm(case=case, actor=hr, comment="截图属实")


@pytest.fixture
def appraised(seeded):
    """生产部 (head 郭杰华, staff login) with 一车间 (工人 张伟, plain login) and 刘洋, whose
    §9.8 case makes the head's joint case; 销售部 (李娜); October 2026 computed."""
    production = department_get_or_create_by_path(path="生产部")
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(
        name="郭杰华", employee_no="JM001", department=production, user=login("head")
    )
    department_set_head(department=production, head=head)
    worker = EmployeeFactory(
        name="张伟",
        employee_no="JM002",
        department=workshop,
        user=login("worker", is_staff=False),
    )
    dodger = EmployeeFactory(name="刘洋", employee_no="JM003", department=production)
    seller = EmployeeFactory(
        name="李娜", employee_no="JM004", department=sales, user=login("seller", is_staff=False)
    )
    hr = login("hr1", HR)
    confirmed(worker, "9.4", 3, hr)
    confirmed(dodger, "9.8", 12, hr)  # §9.8: the head answers for half (joint case)
    confirmed(seller, "9.4", 20, hr)
    period = period_get_or_create(code=PERIOD)
    period_compute(period=period, actor=hr)
    return {
        "period": period,
        "employees": {"head": head, "worker": worker, "dodger": dodger, "seller": seller},
        "departments": {"production": production, "workshop": workshop, "sales": sales},
        "users": {
            "hr": hr,
            "finance": login("finance", FINANCE),
            "leader": login("leader", COMPANY_LEADERS),
            "head": head.user,
            "worker": worker.user,
            "seller": seller.user,
            "outsider": login("outsider"),
        },
    }


def names(rows) -> set[str]:
    return {row.employee.name for row in rows}


EVERYONE = {"郭杰华", "张伟", "刘洋", "李娜"}
VISIBLE = {
    "hr": EVERYONE,
    "finance": EVERYONE,  # turns the appraisal into pay
    "head": {"郭杰华", "张伟", "刘洋"},  # §9.12 their department, 一车间 included
    "worker": {"张伟"},
    "seller": {"李娜"},
    "outsider": set(),
}


@pytest.mark.parametrize(("who", "expected"), VISIBLE.items())
def test_who_sees_which_results(appraised, who, expected):
    assert names(results_visible_to(appraised["users"][who])) == expected


@pytest.mark.parametrize(("who", "expected"), VISIBLE.items())
def test_who_sees_which_lines(appraised, who, expected):
    # Everyone with a result here has a line: the same people.
    assert names(lines_visible_to(appraised["users"][who])) == expected


def test_company_leaders_see_every_result_once_they_hold_the_view_permission(appraised):
    assert names(results_visible_to(appraised["users"]["leader"])) == EVERYONE


def test_anonymous_sees_nothing(appraised):
    from django.contrib.auth.models import AnonymousUser

    assert not results_visible_to(AnonymousUser()).exists()
    assert not lines_visible_to(AnonymousUser()).exists()


def test_the_head_sees_the_department_a_result_was_computed_with(appraised):
    """A locked period keeps its org chart: moving 张伟 to 销售部 later changes nothing."""
    worker = appraised["employees"]["worker"]
    worker.department = appraised["departments"]["sales"]
    worker.save()

    head = appraised["users"]["head"]
    assert "张伟" in names(results_visible_to(head))
    assert "张伟" in names(lines_visible_to(head))


def test_the_heads_joint_line_is_theirs_and_marked(appraised):
    lines = lines_visible_to(appraised["users"]["head"]).filter(employee__name="郭杰华")
    assert [(line.clause, line.is_joint) for line in lines] == [("9.8", True)]


def test_department_filter_choices_follow_the_heads_subtree(appraised):
    paths = departments_visible_to(appraised["users"]["head"]).values_list("path", flat=True)
    assert set(paths) == {"生产部", "生产部/一车间"}
    assert not departments_visible_to(appraised["users"]["worker"]).exists()
    assert "销售部" in departments_visible_to(appraised["users"]["hr"]).values_list(
        "path", flat=True
    )


@pytest.mark.parametrize(("who", "queries"), [("hr", 1), ("head", 2)])
def test_lists_cost_one_query_for_their_rows(appraised, django_assert_num_queries, who, queries):
    user = appraised["users"][who]
    user.has_perm("appraisal.view_result")  # permissions are loaded once per request
    for selector in (results_visible_to, lines_visible_to):
        with django_assert_num_queries(queries):  # (a head's departments,) then the rows
            rows = list(selector(user))
        with django_assert_num_queries(0):
            for row in rows:
                str(row.period), str(row.employee)


# -- /me/appraisal/ ------------------------------------------------------------------------

ME = "me:appraisal"


def test_employee_sees_their_own_result_and_lines(client, appraised):
    client.force_login(appraised["users"]["worker"])
    response = client.get(reverse(ME))
    assert response.status_code == 200
    [(result, lines)] = response.context["periods"]
    assert result.employee.name == "张伟"
    assert result.period.code == PERIOD
    assert [line.clause for line, _ in lines] == ["9.4"]
    page = response.content.decode()
    assert "我的考核" in page
    assert str(result.final_score) in page
    assert reverse("me:case_detail", args=[lines[0][0].case_id]) in page


def test_employee_does_not_see_anyone_elses_results(client, appraised):
    client.force_login(appraised["users"]["seller"])
    page = client.get(reverse(ME)).content.decode()
    assert "李娜" in page
    for other in ["张伟", "刘洋", "郭杰华"]:
        assert other not in page


def test_the_head_sees_only_their_own_result_on_their_own_page(client, appraised):
    """The admin shows a head their department; /me/ is theirs alone, even for HR."""
    client.force_login(appraised["users"]["head"])
    response = client.get(reverse(ME))
    assert [result.employee.name for result, _ in response.context["periods"]] == ["郭杰华"]


def test_a_login_without_an_employee_gets_the_page_that_says_so(client, appraised):
    client.force_login(appraised["users"]["finance"])
    response = client.get(reverse(ME))
    assert response.status_code == 200
    assert "periods" not in response.context
    assert "未关联员工档案" in response.content.decode()


def test_an_employee_without_results_gets_an_empty_page(client, appraised):
    newcomer = EmployeeFactory(user=login("newcomer", is_staff=False))
    client.force_login(newcomer.user)
    response = client.get(reverse(ME))
    assert response.status_code == 200
    assert response.context["periods"] == []
    assert "还没有你的考核结果" in response.content.decode()


def test_anonymous_is_sent_to_log_in(client, appraised):
    response = client.get(reverse(ME))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_my_cases_links_to_my_appraisal(client, appraised):
    client.force_login(appraised["users"]["worker"])
    assert reverse(ME) in client.get(reverse("me:case_list")).content.decode()


def test_my_appraisal_query_count_does_not_grow_with_periods(client, appraised):
    client.force_login(appraised["users"]["worker"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(ME)).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    hr = appraised["users"]["hr"]
    for code in ["2026-07", "2026-08", "2026-09"]:
        period_compute(period=period_get_or_create(code=code), actor=hr)
    assert Result.objects.filter(employee__name="张伟").count() == 4
    assert queries() == one


def test_a_result_shows_whether_its_period_is_locked(client, appraised):
    Period.objects.filter(pk=appraised["period"].pk).update(state=Period.State.LOCKED)
    client.force_login(appraised["users"]["worker"])
    assert "已锁定" in client.get(reverse(ME)).content.decode()
