"""我的通知 (/me/notices/): one's own notices, the unread marked and counted by the bell;
opening one reads it and follows only a link on this site; nobody opens another's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices.models import Notice
from notices.services import notice_post
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/me/notices/"


@pytest.fixture
def me(employee):
    return employee


@pytest.fixture
def my_client(client, me):
    client.force_login(me)
    return client


def tell(user, n: int, url: str = "") -> Notice:
    return notice_post(
        recipient=user,
        kind=Notice.Kind.OTHER,
        title=f"通知{n}",
        body=f"内容{n}",
        url=url,
        subject_key=f"test:{n}",
    )


def open_url(notice: Notice) -> str:
    return reverse("me:notice_open", args=[notice.pk])


def test_the_list_shows_my_notices_with_the_unread_marked(my_client, me):
    read, unread = tell(me, 1), tell(me, 2)
    Notice.objects.filter(pk=read.pk).update(read_at=read.created_at)
    colleague = EmployeeFactory(user=UserFactory(username="colleague", is_staff=False)).user
    tell(colleague, 3)

    response = my_client.get(reverse("me:notice_list"))

    assert reverse("me:notice_list") == LIST
    assert [n.pk for n in response.context["page"].object_list] == [unread.pk, read.pk]
    page = response.content.decode()
    assert "通知3" not in page
    assert page.count('class="notice-unread"') == 1
    assert page.count('class="notice-read"') == 1
    assert 'aria-label="未读通知">1</span>' in page  # the bell


def test_the_bell_shows_on_every_me_page(my_client, me):
    tell(me, 1), tell(me, 2)

    page = my_client.get(reverse("me:case_list")).content.decode()

    assert f'href="{LIST}"' in page
    assert 'aria-label="未读通知">2</span>' in page


def test_no_unread_no_badge(my_client, me):
    page = my_client.get(reverse("me:case_list")).content.decode()

    assert f'href="{LIST}"' in page
    assert "未读通知" not in page


def test_opening_a_notice_reads_it_and_follows_its_local_link(my_client, me):
    notice = tell(me, 1, url="/me/appraisal/")

    response = my_client.get(open_url(notice))

    assert response.status_code == 302
    assert response["Location"] == "/me/appraisal/"
    notice.refresh_from_db()
    assert notice.read_at is not None


@pytest.mark.parametrize(
    "url", ["https://evil.example.com/", "//evil.example.com/x", "javascript:alert(1)"]
)
def test_a_link_to_another_site_is_never_followed(my_client, me, url):
    notice = tell(me, 1, url=url)

    response = my_client.get(open_url(notice))

    assert response["Location"] == LIST
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_notice_without_a_link_leads_back_to_the_list(my_client, me):
    response = my_client.get(open_url(tell(me, 1)))

    assert response["Location"] == LIST


def test_another_persons_notice_is_404_and_stays_unread(my_client, seeded):
    colleague = EmployeeFactory(user=UserFactory(username="colleague", is_staff=False)).user
    theirs = tell(colleague, 1, url="/me/cases/")

    assert my_client.get(open_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_reads_only_mine(my_client, me, seeded):
    mine = [tell(me, n) for n in range(3)]
    colleague = EmployeeFactory(user=UserFactory(username="colleague", is_staff=False)).user
    theirs = tell(colleague, 9)

    response = my_client.post(reverse("me:notice_read_all"), follow=True)

    assert "已将 3 条通知标为已读" in response.content.decode()
    assert Notice.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_is_a_post(my_client, me):
    tell(me, 1)

    assert my_client.get(reverse("me:notice_read_all")).status_code == 405
    assert Notice.objects.filter(read_at__isnull=True).count() == 1


def test_a_visitor_is_sent_to_log_in(client, seeded):
    response = client.get(LIST)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_query_count_does_not_grow_with_the_notices(
    my_client, me, django_assert_max_num_queries
):
    for n in range(40):
        tell(me, n)

    # session, user, employee, the count and the page of notices, the bell's count
    with django_assert_max_num_queries(8):
        response = my_client.get(LIST)
    assert len(response.context["page"].object_list) == 30
