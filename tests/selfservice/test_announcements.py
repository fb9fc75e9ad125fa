"""待确认公告 (/me/announcements/): the published 须确认 items sent to a group I belong in, a
button to confirm each (POST, CSRF), those I confirmed; the query count flat as items grow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from announcements.models import Acknowledgement
from announcements.services import (
    announcement_approve,
    announcement_publish,
    announcement_submit,
)
from announcements.services.errors import ERROR_NO_ACKNOWLEDGEMENT
from company.roles import COMPANY_LEADERS
from groups.models import ChatGroup
from tests.factories import UserFactory, announcement_draft

pytestmark = pytest.mark.django_db
POSTED = dt.datetime(2025, 11, 17, 9, tzinfo=dt.UTC)
LIST = "me:announcement_list"


def published_greeting(author, title: str, *, acknowledge: bool = True):
    """A 欢乐谷 greeting (公司全员: everyone reads it; no approval), posted."""
    item = announcement_draft(
        author=author,
        title=title,
        group_codes=("leisure",),
        category_code="holiday_greetings",
        requires_acknowledgement=acknowledge,
    )
    announcement_submit(announcement=item, actor=author)
    announcement_publish(
        announcement=item,
        group=ChatGroup.objects.get(code="leisure"),
        posted_at=POSTED,
        actor=author,
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def me(client, employee):
    client.force_login(employee)
    return employee.employee


def test_my_page_lists_what_waits_for_my_confirmation_and_confirms_it(client, me, hr):
    item = published_greeting(hr, "元旦祝福")
    published_greeting(hr, "不须确认的祝福", acknowledge=False)
    page = client.get(reverse(LIST))
    assert page.status_code == 200
    assert [a.title for a in page.context["pending"]] == ["元旦祝福"]
    done = client.post(reverse("me:announcement_acknowledge", args=[item.pk]), follow=True)
    assert "已确认阅读“元旦祝福”" in done.content.decode()
    assert Acknowledgement.objects.filter(announcement=item, employee=me).exists()
    assert list(done.context["pending"]) == []
    assert [a.announcement.title for a in done.context["confirmed"]] == ["元旦祝福"]


def test_only_an_item_addressed_to_me_is_found_any_other_id_is_a_404(client, me, hr, leader):
    """404 whether the id exists or not: the page tells nobody which announcements there
    are (a 机密 one in 管理群 included, §6.1)."""
    secret = announcement_draft(
        author=leader,
        title="机密人事安排",
        group_codes=("management",),
        category_code="daily_office",
        classification="confidential",
        requires_acknowledgement=True,
    )
    announcement_submit(announcement=secret, actor=leader)
    announcement_approve(
        announcement=secret, actor=UserFactory(username="leader2", roles=[COMPANY_LEADERS])
    )
    announcement_publish(
        announcement=secret,
        group=ChatGroup.objects.get(code="management"),
        posted_at=POSTED,
        actor=leader,
    )
    asks_none = published_greeting(hr, "不须确认的祝福", acknowledge=False)
    draft = announcement_draft(
        author=hr, group_codes=("leisure",), category_code="holiday_greetings"
    )
    missing = max(secret.pk, asks_none.pk, draft.pk) + 1
    for pk in (secret.pk, asks_none.pk, draft.pk, missing):
        url = reverse("me:announcement_acknowledge", args=[pk])
        assert client.post(url).status_code == 404
    assert ERROR_NO_ACKNOWLEDGEMENT not in client.get(reverse(LIST)).content.decode()
    assert not Acknowledgement.objects.exists()


def test_confirming_twice_keeps_the_first_time(client, me, hr):
    item = published_greeting(hr, "元旦祝福")
    url = reverse("me:announcement_acknowledge", args=[item.pk])
    first = client.post(url, follow=True)
    assert "已确认阅读“元旦祝福”" in first.content.decode()
    at = Acknowledgement.objects.get(announcement=item, employee=me).at
    again = client.post(url, follow=True)
    assert again.status_code == 200
    assert "已确认阅读“元旦祝福”" in again.content.decode()
    assert list(Acknowledgement.objects.values_list("at", flat=True)) == [at]


def test_the_confirm_button_is_a_post_with_csrf(me, employee, hr):
    item = published_greeting(hr, "元旦祝福")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(employee)
    url = reverse("me:announcement_acknowledge", args=[item.pk])
    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403
    assert not Acknowledgement.objects.exists()


def test_the_page_needs_a_login(client):
    response = client.get(reverse(LIST))
    assert response.status_code == 302


def test_the_query_count_is_flat_as_items_grow(client, me, hr):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(LIST)).status_code == 200
        return len(ctx.captured_queries)

    def add(first: int, last: int) -> None:  # every other one confirmed: both lists grow
        for n in range(first, last):
            item = published_greeting(hr, f"祝福{n}")
            if n % 2:
                Acknowledgement.objects.create(announcement=item, employee=me, at=POSTED)

    add(0, 2)
    few = count()
    add(2, 14)
    assert count() == few
    assert few <= 25
