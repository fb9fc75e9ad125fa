"""/me/account/ (§6.3): an employee reports their lost or stolen WeChat account — their own id
prefilled, the form's and the service's refusals in Chinese, never for someone else — and sees
their reports and whether HR has closed them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from company.roles import HR
from groups.models import AccountReport
from groups.services.accounts import ERROR_NOT_YOUR_ACCOUNT, account_report_close
from notices.models import Notice
from selfservice.account_views import ERROR_BAD_DATE, ERROR_KIND_REQUIRED, REPORTED
from tests.factories import EmployeeFactory, UserFactory

URL = reverse("me:account_report")

pytestmark = pytest.mark.django_db


@pytest.fixture
def lina(seeded):
    return EmployeeFactory(
        name="李娜", wechat_id="lina88", user=UserFactory(username="lina", is_staff=False)
    )


@pytest.fixture
def hr_login(seeded):
    return UserFactory(username="hr-clerk", roles=[HR])


def test_the_page_prefills_their_own_wechat_id_and_is_in_the_navigation(client, lina):
    client.force_login(lina.user)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="lina88"' in html
    assert f'href="{URL}" aria-current="page"' in html
    assert "你没有报告过微信账号丢失或被盗" in html


def test_the_employee_reports_and_hr_is_told(client, lina, hr_login):
    client.force_login(lina.user)
    response = client.post(
        URL, {"wechat_id": "lina88", "kind": "stolen", "happened_on": "2026-01-05"}, follow=True
    )
    assert REPORTED in response.content.decode()
    made = AccountReport.objects.get()
    assert (made.employee, made.wechat_id, made.kind) == (lina, "lina88", "stolen")
    assert Notice.objects.filter(recipient=hr_login, kind=Notice.Kind.ACCOUNT_REPORT).exists()
    html = response.content.decode()
    assert "被盗" in html
    assert "挂失中" in html


def test_never_for_someone_else(client, lina, seeded):
    other = EmployeeFactory(name="王芳", wechat_id="wf01")
    client.force_login(lina.user)
    response = client.post(URL, {"employee": other.pk, "wechat_id": "wf01", "kind": "lost"})
    assert response.status_code == 200
    assert ERROR_NOT_YOUR_ACCOUNT.format(wechat_id="wf01") in response.content.decode()
    assert not AccountReport.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"wechat_id": "lina88"}, ERROR_KIND_REQUIRED),
        ({"wechat_id": "lina88", "kind": "lost", "happened_on": "昨天"}, ERROR_BAD_DATE),
        ({"wechat_id": "", "kind": "lost"}, "请填写丢失或被盗的微信号。"),
    ],
)
def test_form_errors_are_in_chinese(client, lina, data, message):
    client.force_login(lina.user)
    response = client.post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AccountReport.objects.exists()


def test_the_list_shows_only_their_reports_and_their_status(client, lina, hr_login, seeded):
    other = EmployeeFactory(name="王芳", wechat_id="wf01")
    AccountReport.objects.create(employee=other, wechat_id="wf01", kind="lost")
    mine = AccountReport.objects.create(employee=lina, wechat_id="lina88", kind="lost")
    account_report_close(report=mine, actor=hr_login, note="已找回")
    client.force_login(lina.user)
    html = client.get(URL).content.decode()
    assert "已解除" in html
    assert "已找回" in html
    assert "wf01" not in html


def test_a_login_without_an_employee_is_told_so(client, seeded):
    client.force_login(UserFactory(username="nobody"))
    response = client.post(URL, {"wechat_id": "x", "kind": "lost"})
    assert response.status_code == 200
    assert "未关联员工档案" in response.content.decode()
    assert not AccountReport.objects.exists()


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]
