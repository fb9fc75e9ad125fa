"""An employee changes their own password from their pages, in Chinese, and finds their
appraisal from the header (templates/registration/password_change_*.html)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

OLD = "old-Passw0rd!x"
NEW = "new-Passw0rd!y"


@pytest.fixture
def employee_login():
    user = UserFactory(username="jm00042", password=OLD, is_staff=False)
    EmployeeFactory(name="林小红", user=user)
    return user


def test_the_employee_pages_link_their_cases_appraisal_and_password(client, employee_login):
    client.force_login(employee_login)
    page = client.get(reverse("me:case_list")).content.decode()
    for url in (reverse("me:case_list"), reverse("me:appraisal"), reverse("password_change")):
        assert f'href="{url}"' in page
    assert reverse("admin:index") not in page  # not staff


def test_an_employee_changes_their_password_in_chinese(client, employee_login):
    client.force_login(employee_login)
    form = client.get(reverse("password_change")).content.decode()
    assert "修改密码" in form
    assert "原密码" in form
    assert "Password change" not in form

    response = client.post(
        reverse("password_change"),
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )

    assert "密码已修改" in response.content.decode()
    employee_login.refresh_from_db()
    assert employee_login.check_password(NEW)


def test_a_wrong_old_password_changes_nothing(client, employee_login):
    client.force_login(employee_login)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert "errors" in response.content.decode()
    employee_login.refresh_from_db()
    assert employee_login.check_password(OLD)


def test_the_password_page_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
