"""The employee's own pages (/me/): my cases only, the timeline, evidence links and the appeal (§7.1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.actors import SystemActor
from selfservice.forms import ERROR_REASON_REQUIRED
from tests.factories import (
    PNG_BYTES,
    CaseFactory,
    ChatGroupFactory,
    EmployeeFactory,
    UserFactory,
)
from violations.models import Case, CaseTransition, Rule
from violations.services import case_confirm, case_propose, evidence_add_all
from violations.services.cases import ERROR_APPEAL_LATE, ERROR_FORBIDDEN, appeal_deadline

pytestmark = pytest.mark.django_db
State = Case.State


@pytest.fixture
def me(employee):
    """The employee persona (a plain, non-staff login): the person behind it."""
    return employee.employee


@pytest.fixture
def my_client(client, me):
    client.force_login(me.user)
    return client


def new_case(employee, *, code: str = "9.4", days_ago: int = 1, group=None) -> Case:
    return CaseFactory(
        rule=Rule.objects.get(code=code),
        employee=employee,
        group=group or ChatGroupFactory(),
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        description="群内发布赌博链接",
    )


def confirmed_case(employee, hr, **kwargs) -> Case:
    return case_confirm(case=new_case(employee, **kwargs), actor=hr, comment="截图属实")


def list_url() -> str:
    return reverse("me:case_list")


def detail_url(case: Case) -> str:
    return reverse("me:case_detail", args=[case.pk])


def appeal_url(case: Case) -> str:
    return reverse("me:case_appeal", args=[case.pk])


def listed(response) -> set[int]:
    return {case.pk for case in response.context["cases"]}


# --- my cases ---------------------------------------------------------------------------


def test_the_list_shows_my_cases_and_not_a_colleagues(my_client, me):
    mine = new_case(me)
    theirs = new_case(EmployeeFactory())

    response = my_client.get(list_url())

    assert response.status_code == 200
    assert listed(response) == {mine.pk}
    assert detail_url(theirs) not in response.content.decode()


def test_hr_sees_only_their_own_case_here_though_they_see_all_in_the_admin(client, hr):
    own = new_case(EmployeeFactory(user=hr))
    new_case(EmployeeFactory())
    client.force_login(hr)

    response = client.get(list_url())

    assert listed(response) == {own.pk}


def test_the_list_shows_rule_group_time_state_points_and_sanction(my_client, me, hr):
    case = confirmed_case(me, hr, code="9.4")

    page = my_client.get(list_url()).content.decode()

    at = timezone.localtime(case.occurred_at)
    occurred = f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"  # config/formats
    for text in ["§9.4", case.rule.title_zh, case.group.name, occurred, "已确认", "3.00", "警告"]:
        assert text in page


def test_the_list_is_newest_first(my_client, me):
    older, newer = new_case(me, days_ago=10), new_case(me, code="9.3", days_ago=2)

    response = my_client.get(list_url())

    assert [c.pk for c in response.context["cases"]] == [newer.pk, older.pk]


def test_the_list_costs_the_same_queries_for_one_case_or_many(
    my_client, me, django_assert_num_queries
):
    new_case(me)
    with CaptureQueriesContext(connection) as one:
        my_client.get(list_url())
    for days in range(2, 7):
        new_case(me, days_ago=days)

    with django_assert_num_queries(len(one)):
        my_client.get(list_url())


def test_a_user_without_an_employee_sees_a_friendly_page(client, seeded):
    client.force_login(UserFactory(username="nobody", is_staff=False))

    response = client.get(list_url())

    assert response.status_code == 200
    assert "未关联员工档案" in response.content.decode()


@pytest.mark.parametrize("url", ["/me/cases/", "/me/cases/1/", "/me/cases/1/appeal/"])
def test_an_anonymous_visitor_is_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{resolve_url(settings.LOGIN_URL)}?next={url}"


def test_me_is_my_cases(my_client):
    assert my_client.get("/me/").url == list_url()


# --- one case ---------------------------------------------------------------------------


def test_a_colleagues_case_is_not_found(my_client, hr):
    theirs = confirmed_case(EmployeeFactory(), hr)

    assert my_client.get(detail_url(theirs)).status_code == 404
    assert my_client.post(appeal_url(theirs), {"reason": "不是我"}).status_code == 404
    assert Case.objects.get(pk=theirs.pk).state == State.CONFIRMED


def test_the_detail_shows_the_timeline_with_who_when_and_why(my_client, me, hr):
    EmployeeFactory(name="赵敏", user=hr)
    case, _ = case_propose(
        rule_code="9.7",
        employee=me,
        source=Case.Source.SCREENING,
        source_key="screening:1",
        description="单日发布图片 40 张",
        occurred_at=timezone.now(),
        actor=SystemActor("test"),  # the system proposes: nobody reported it
    )
    case_confirm(case=case, actor=hr, comment="截图属实")

    page = my_client.get(detail_url(case)).content.decode()

    assert "赵敏" in page  # the confirmer, by name
    assert "截图属实" in page
    assert "待审核 → 已确认" in page
    assert "系统" in page  # the proposal, which nobody reported


def test_the_detail_links_each_evidence_file_to_the_checked_view(my_client, me, hr):
    case = new_case(me)
    evidence = evidence_add_all(case=case, files=[("截图.png", PNG_BYTES)], actor=hr)[0]

    page = my_client.get(detail_url(case)).content.decode()

    assert f'href="/evidence/{evidence.pk}/"' in page
    assert "截图.png" in page


def test_the_appeal_form_shows_only_on_a_confirmed_case_within_the_window(my_client, me, hr):
    proposed, confirmed = new_case(me), confirmed_case(me, hr, code="9.3")
    late = confirmed_case(me, hr, code="9.10")
    # The window counts from when the employee was told (here: the confirmation's notice).
    assert late.told_at is not None
    Case.objects.filter(pk=late.pk).update(told_at=F("told_at") - dt.timedelta(days=8))

    assert appeal_url(confirmed) in my_client.get(detail_url(confirmed)).content.decode()
    assert appeal_url(proposed) not in my_client.get(detail_url(proposed)).content.decode()
    assert appeal_url(late) not in my_client.get(detail_url(late)).content.decode()


# --- the appeal -------------------------------------------------------------------------


def test_an_appeal_within_the_window_is_recorded_with_its_reason(my_client, me, hr):
    case = confirmed_case(me, hr)

    response = my_client.post(appeal_url(case), {"reason": "当时是误发，已立即撤回"}, follow=True)

    case.refresh_from_db()
    assert case.state == State.APPEALED
    last = case.transitions.last()
    assert (last.from_state, last.to_state, last.actor, last.comment) == (
        State.CONFIRMED,
        State.APPEALED,
        me.user,
        "当时是误发，已立即撤回",
    )
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert "申诉已提交" in response.content.decode()


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_appeal_without_a_reason_is_refused(my_client, me, hr, reason):
    case = confirmed_case(me, hr)
    transitions = CaseTransition.objects.count()

    response = my_client.post(appeal_url(case), {"reason": reason})

    assert response.status_code == 200
    assert ERROR_REASON_REQUIRED in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == State.CONFIRMED
    assert CaseTransition.objects.count() == transitions


def test_an_appeal_after_the_window_is_refused_with_the_deadline(my_client, me, hr):
    case = confirmed_case(me, hr)
    # Told by the confirmation's notice 8 days ago: the 7-day window from then has passed.
    Case.objects.filter(pk=case.pk).update(told_at=F("told_at") - dt.timedelta(days=8))
    case.refresh_from_db()

    response = my_client.post(appeal_url(case), {"reason": "我刚看到"})

    message = ERROR_APPEAL_LATE.format(
        days=settings.CASE_APPEAL_WINDOW_DAYS,
        deadline=timezone.localtime(appeal_deadline(case)),
    )
    assert message in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == State.CONFIRMED


def test_an_appeal_of_a_case_not_yet_confirmed_is_refused(my_client, me):
    case = new_case(me)

    response = my_client.post(appeal_url(case), {"reason": "不是我"})

    message = ERROR_FORBIDDEN.format(
        pk=case.pk, current=State.PROPOSED.label, target=State.APPEALED.label
    )
    assert message in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == State.PROPOSED


def test_an_appeal_needs_a_post(my_client, me, hr):
    case = confirmed_case(me, hr)

    assert my_client.get(appeal_url(case)).status_code == 405


def test_an_appeal_needs_the_csrf_token(me, hr):
    case = confirmed_case(me, hr)
    client = Client(enforce_csrf_checks=True)
    client.force_login(me.user)

    response = client.post(appeal_url(case), {"reason": "不是我"})

    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).state == State.CONFIRMED


# --- logging in and out -----------------------------------------------------------------


def test_an_employee_without_staff_status_logs_in_to_their_cases(client, me):
    page = client.get(reverse("login")).content.decode()
    assert f'name="next" value="{list_url()}"' in page  # where the form goes by default

    response = client.post(
        reverse("login"), {"username": "lina", "password": "pw", "next": list_url()}
    )

    assert response.status_code == 302
    assert response.url == list_url()


def test_a_wrong_password_is_refused_in_chinese(client, me):
    response = client.post(reverse("login"), {"username": "lina", "password": "wrong"})

    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_logging_out_shows_the_logged_out_page(my_client):
    response = my_client.post(reverse("logout"))

    assert response.status_code == 200
    assert "已退出登录" in response.content.decode()
