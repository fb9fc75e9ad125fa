"""Every login's inbox (issue 14, point 3): the bell with the unread count in the admin's
header (one query a page), /me/notices/ for a login without an employee record, and each
person's own email switch (/me/email/), honoured by the digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import EmailDelivery, EmailPreference, Notice
from notices.services import (
    ERROR_PREFERENCE_NOT_YOURS,
    NoticeError,
    email_preference_set,
    notice_post,
)
from notices.services.digests import digests_compose
from selfservice.account_views import EMAIL_OFF, EMAIL_ON

pytestmark = pytest.mark.django_db
BADGE = 'class="notice-badge" aria-label="未读通知">{count}</span>'


def tell(user, n: int) -> Notice:
    return notice_post(
        recipient=user, kind=Notice.Kind.OTHER, title=f"通知{n}", subject_key=f"inbox:{n}"
    )


def test_the_admin_header_shows_hrs_unread_count_linking_to_the_inbox(client, hr):
    for n in range(3):
        tell(hr, n)
    Notice.objects.filter(title="通知0").update(read_at=timezone.now())
    client.force_login(hr)

    page = client.get(reverse("admin:index")).content.decode()

    assert BADGE.format(count=2) in page
    assert f'<a class="notice-bell" href="{reverse("me:notice_list")}"' in page


def test_no_unread_no_badge_in_the_admin(client, hr):
    client.force_login(hr)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'class="notice-bell"' in page
    assert 'class="notice-badge"' not in page


def test_the_admin_login_page_has_no_bell(client, seeded):
    page = client.get(reverse("admin:login")).content.decode()

    assert 'class="notice-bell"' not in page


def test_the_bell_costs_one_query_however_many_notices(client, hr, django_assert_max_num_queries):
    client.force_login(hr)
    url = reverse("admin:notices_emaildelivery_changelist")
    client.get(url)  # warm caches (content types, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(40):
        tell(hr, n)
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = client.get(url).content.decode()
    assert BADGE.format(count=40) in page
    counts = [q["sql"] for q in before.captured_queries if 'FROM "notices_notice"' in q["sql"]]
    assert len(counts) == 1


def test_a_login_without_an_employee_record_has_an_inbox(client, hr):
    notice = tell(hr, 1)
    client.force_login(hr)

    page = client.get(reverse("me:notice_list"))

    assert page.status_code == 200
    assert [n.pk for n in page.context["page"].object_list] == [notice.pk]
    assert client.get(reverse("me:notice_open", args=[notice.pk])).status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_the_inbox_shows_the_email_setting(client, hr):
    hr.email = "hr1@example.com"
    hr.save()
    client.force_login(hr)

    page = client.get(reverse("me:notice_list")).content.decode()
    assert "已开启，每天一封摘要发到 hr1@example.com" in page

    EmailPreference.objects.create(user=hr, email_on=False)
    assert "邮件提醒：已关闭" in client.get(reverse("me:notice_list")).content.decode()


@pytest.mark.parametrize("persona", ["employee", "hr"])
def test_a_person_turns_their_email_off_and_the_digest_skips_them(client, persona, request):
    user = request.getfixturevalue(persona)
    type(user).objects.filter(pk=user.pk).update(email="me@example.com")
    client.force_login(user)
    url = reverse("me:email_settings")
    assert client.get(url).context["form"].initial == {"email_on": True}

    response = client.post(url, {}, follow=True)  # the box unticked

    assert EMAIL_OFF in response.content.decode()
    assert EmailPreference.objects.get(user=user).email_on is False
    tell(user, 1)
    assert digests_compose(now=timezone.now() + dt.timedelta(seconds=1)) == 0
    assert not EmailDelivery.objects.exists()

    response = client.post(url, {"email_on": "on"}, follow=True)

    assert EMAIL_ON in response.content.decode()
    assert digests_compose(now=timezone.now() + dt.timedelta(seconds=1)) == 1


def test_nobody_sets_anothers_email(employee, hr):
    with pytest.raises(NoticeError, match=ERROR_PREFERENCE_NOT_YOURS):
        email_preference_set(user=employee, email_on=False, actor=hr)
    assert not EmailPreference.objects.exists()


def test_the_email_page_needs_a_login(client, seeded):
    response = client.get(reverse("me:email_settings"))

    assert response.status_code == 302
    assert "login" in response["Location"]
