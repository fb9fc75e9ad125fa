"""The front door: what a visitor who is not logged in reaches."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("seeded")
def test_admin_login_page_opens_for_a_visitor(client):
    """Building the login page's app list asked guardian about the anonymous visitor (500)."""
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_root_leads_to_the_admin_login(client):
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))


@pytest.mark.parametrize("path", ["/admin/", "/me/cases/"])
def test_pages_behind_the_door_send_a_visitor_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "login" in response["Location"]
