"""docs/security.md, 6: logins are throttled (django-axes), HR releases lockouts, and failed
logins and refused requests are logged to the "security" logger."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from members.admin import MESSAGE_LOCKOUTS_RELEASED
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["admin:login", "login"]
LOCKOUTS = "admin:members_loginlockout_changelist"


@pytest.fixture
def security_log(caplog):
    """The "security" logger does not propagate to the root (its own handler, settings):
    hand caplog's handler to it."""
    logger = logging.getLogger("security")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="security")
    yield caplog
    logger.removeHandler(caplog.handler)


def _post_login(client, page: str, username: str, password: str, ip: str = "10.0.0.7"):
    return client.post(reverse(page), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(client) -> bool:
    return SESSION_KEY in client.session


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_forty_wrong_passwords_then_the_right_one_does_not_log_in(client, page):
    UserFactory(username="clerk", password="right-password-1")
    for _ in range(40):
        _post_login(client, page, "clerk", "wrong")

    response = _post_login(client, page, "clerk", "right-password-1")

    assert not _logged_in(client)
    assert response.status_code == 429
    page_text = response.content.decode()
    assert "登录已被暂时锁定" in page_text
    assert "15 分钟后再试" in page_text


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_a_few_typos_then_the_right_password_logs_in(client, page):
    UserFactory(username="clerk", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _post_login(client, page, "clerk", "wrong")

    _post_login(client, page, "clerk", "right-password-1")

    assert _logged_in(client)


def test_the_lockout_holds_for_the_username_from_another_address(client):
    UserFactory(username="clerk", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "login", "clerk", "wrong", ip="10.0.0.7")

    _post_login(client, "login", "clerk", "right-password-1", ip="10.9.9.9")

    assert not _logged_in(client)


def test_the_lockout_holds_for_the_address_with_another_username(client):
    UserFactory(username="other", password="right-password-2")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "login", f"guess{n}", "wrong", ip="10.0.0.7")

    _post_login(client, "login", "other", "right-password-2", ip="10.0.0.7")

    assert not _logged_in(client)


def _lock_out(client, username: str = "clerk") -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "login", username, "wrong")


def test_hr_sees_the_lockout_in_chinese_and_releases_it(client, hr):
    UserFactory(username="clerk", password="right-password-1")
    _lock_out(client)
    hr_client = client_class_for(client)
    hr_client.force_login(hr)

    listing = hr_client.get(reverse(LOCKOUTS))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "登录锁定" in text
    assert "clerk" in text
    assert "已锁定" in text
    assert "来源地址" in text  # the columns in Chinese, not axes' "IP Address"
    assert "IP Address" not in text

    lockout = AccessAttempt.objects.get(username="clerk")
    done = hr_client.post(
        reverse(LOCKOUTS),
        {"action": "release", "_selected_action": [lockout.pk]},
        follow=True,
    )

    assert MESSAGE_LOCKOUTS_RELEASED.format(names="clerk") in done.content.decode()
    assert not AccessAttempt.objects.exists()
    _post_login(client, "login", "clerk", "right-password-1")
    assert _logged_in(client)


def test_hr_reads_the_failed_logins_but_cannot_delete_them(client, hr):
    UserFactory(username="clerk", password="right-password-1")
    _post_login(client, "login", "clerk", "wrong")
    failure = AccessFailureLog.objects.get()
    hr_client = client_class_for(client)
    hr_client.force_login(hr)

    listing = hr_client.get(reverse("admin:members_loginfailure_changelist"))
    delete = hr_client.post(reverse("admin:members_loginfailure_delete", args=[failure.pk]))

    assert listing.status_code == 200
    assert "登录失败记录" in listing.content.decode()
    assert "10.0.0.7" in listing.content.decode()
    assert delete.status_code == 403
    assert AccessFailureLog.objects.exists()


def test_finance_may_not_see_or_release_lockouts(client, finance):
    UserFactory(username="clerk", password="right-password-1")
    _lock_out(client)
    lockout = AccessAttempt.objects.get(username="clerk")
    finance_client = client_class_for(client)
    finance_client.force_login(finance)

    listing = finance_client.get(reverse(LOCKOUTS))
    release = finance_client.post(
        reverse(LOCKOUTS), {"action": "release", "_selected_action": [lockout.pk]}
    )

    assert listing.status_code == 403
    assert release.status_code == 403
    assert AccessAttempt.objects.filter(pk=lockout.pk).exists()


def test_a_failed_login_is_logged_with_who_and_from_where(client, security_log):
    UserFactory(username="clerk", password="right-password-1")

    _post_login(client, "login", "clerk", "wrong-secret", ip="10.1.2.3")

    lines = [r.getMessage() for r in security_log.records if r.name == "security"]
    assert any(
        "login failed" in line and "username=clerk" in line and "ip=10.1.2.3" in line
        for line in lines
    )
    assert not any("wrong-secret" in line for line in lines)


def test_a_refused_request_is_logged_with_who_what_and_from_where(client, finance, security_log):
    client.force_login(finance)

    response = client.get(reverse("admin:members_employee_add"), REMOTE_ADDR="10.4.5.6")

    assert response.status_code == 403
    lines = [r.getMessage() for r in security_log.records if r.name == "security"]
    assert any(
        "refused user=fin1" in line
        and "method=GET" in line
        and "path=/admin/members/employee/add/" in line
        and "ip=10.4.5.6" in line
        for line in lines
    )


def client_class_for(client):
    """A second browser: the locked-out client keeps its own cookies."""
    return type(client)()


def test_a_lockout_past_its_cool_off_reads_expired_not_locked(client, hr):
    UserFactory(username="clerk", password="right-password-1")
    _lock_out(client)
    hr_client = client_class_for(client)
    hr_client.force_login(hr)  # a login clears expired rows: the cool-off ends after it
    AccessAttempt.objects.filter(username="clerk").update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )

    text = hr_client.get(reverse(LOCKOUTS)).content.decode()

    assert "已过期" in text
    assert "已锁定" not in text
