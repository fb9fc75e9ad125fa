"""Error pages in Chinese with a way back (templates/403.html, templates/404.html), never
Django's bare English "403 Forbidden" / "Not Found"."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import get_resolver, path

from tests.factories import EmployeeFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def permission_denied_page(user, message: str = "") -> str:
    """What handler403 (config/urls.py, Django's default view) answers ``user``."""
    request = RequestFactory().get("/admin/secret/")
    request.user = user
    handler = get_resolver().resolve_error_handler(403)
    response = handler(request, PermissionDenied(message))
    assert response.status_code == 403
    return response.content.decode()


def test_a_staff_user_refused_by_the_admin_gets_the_chinese_page_back_to_the_admin(client):
    # A staff login with no permission on users: the admin raises PermissionDenied.
    client.force_login(StaffUserFactory(permissions=["members.view_employee"]))

    response = client.get("/admin/auth/user/")

    body = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in body
    assert "你的账号无权打开此页面" in body
    assert 'href="/admin/"' in body
    assert 'action="/accounts/logout/"' in body  # 换一个账号登录
    assert "换一个账号登录" in body
    assert "Forbidden" not in body


def test_an_employee_without_staff_rights_is_sent_back_to_their_own_cases():
    user = UserFactory(is_staff=False)
    EmployeeFactory(user=user)

    body = permission_denied_page(user)

    assert "无权访问" in body
    assert 'href="/me/cases/"' in body
    assert 'href="/admin/"' not in body
    assert "换一个账号登录" in body


def test_a_visitor_is_offered_the_login_page():
    body = permission_denied_page(AnonymousUser())

    assert "无权访问" in body
    assert 'href="/accounts/login/?next=/admin/secret/"' in body
    assert "Forbidden" not in body


def test_the_reason_a_service_gives_is_shown():
    body = permission_denied_page(UserFactory(is_staff=True), "只有人力资源部可以这样做。")

    assert "只有人力资源部可以这样做。" in body


@pytest.mark.parametrize(
    ("who", "way_back"),
    [
        ("staff", 'href="/admin/"'),
        ("employee", 'href="/me/cases/"'),
        (None, 'href="/accounts/login/"'),
    ],
)
def test_a_missing_page_is_the_chinese_404_with_a_way_back(client, who, way_back):
    if who is not None:
        client.force_login(UserFactory(is_staff=who == "staff"))

    response = client.get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in body
    assert way_back in body
    assert "Not Found" not in body


def test_log_in_with_another_account_logs_out_and_opens_the_login_page(client):
    client.force_login(StaffUserFactory(permissions=["members.view_employee"]))
    page = client.get("/admin/auth/user/").content.decode()
    next_url = re.search(r'name="next" value="([^"]+)"', page).group(1)

    response = client.post("/accounts/logout/", {"next": html.unescape(next_url)})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/auth/user/"
    assert client.get("/admin/").status_code == 302  # logged out


urlpatterns = [path("admin/", admin.site.urls)]  # for the test below: no /me/, no /accounts/


@pytest.mark.urls(__name__)
def test_the_403_page_renders_whatever_urls_are_missing(client):
    client.force_login(StaffUserFactory(permissions=["members.view_employee"]))

    response = client.get("/admin/auth/user/")

    assert response.status_code == 403
    assert 'href="/admin/"' in response.content.decode()


def test_a_server_error_is_a_chinese_page_with_a_way_back():
    request = RequestFactory().get("/admin/")
    response = get_resolver().resolve_error_handler(500)(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错" in body
    assert 'href="/admin/"' in body
    assert "Server Error" not in body
