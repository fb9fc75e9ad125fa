"""/me/group-names/ (§5.3.b): the member sees their own rename to-dos — what each group
expects, by when, overdue marked — and nobody else's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import RosterAction
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory
from tests.groups.test_reconcile import reconcile

URL = reverse("me:group_name_list")

pytestmark = pytest.mark.django_db


@pytest.fixture
def work_group(seeded):
    group = ChatGroupFactory(code="work-test", name="俊马工作测试群")
    EligibilityRuleFactory(group=group, kind="everyone")
    return group


@pytest.fixture
def zhang_wei(seeded):
    return EmployeeFactory(name="张伟", user=UserFactory(username="zhangwei", is_staff=False))


@pytest.fixture
def li_na(seeded):
    return EmployeeFactory(name="李娜", user=UserFactory(username="lina", is_staff=False))


def test_the_member_sees_what_their_display_name_should_be(client, work_group, zhang_wei):
    reconcile(work_group, "伟哥张伟")
    action = RosterAction.objects.get(owner=RosterAction.Owner.MEMBER)
    client.force_login(zhang_wei.user)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "你在俊马工作测试群的群昵称应为“张伟”" in html
    due = action.due_on
    assert f"{due.year}年{due.month}月{due.day}日" in html  # config/formats
    assert "伟哥张伟" in html  # what it is now
    assert "已逾期" not in html
    assert f'href="{URL}" aria-current="page"' in html  # in the /me/ navigation


def test_an_overdue_rename_is_marked(client, work_group, zhang_wei):
    reconcile(work_group, "伟哥张伟")
    RosterAction.objects.update(due_on=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(zhang_wei.user)
    assert "已逾期" in client.get(URL).content.decode()


def test_nothing_to_rename_says_so(client, work_group, zhang_wei):
    reconcile(work_group, "张伟")
    client.force_login(zhang_wei.user)
    page = client.get(URL)
    assert page.status_code == 200
    assert "没有需要修改的" in page.content.decode()


def test_a_colleagues_renames_are_never_shown(client, work_group, zhang_wei, li_na):
    reconcile(work_group, "伟哥张伟", "娜娜李娜")
    assert RosterAction.objects.filter(owner=RosterAction.Owner.MEMBER).count() == 2
    client.force_login(li_na.user)
    html = client.get(URL).content.decode()
    assert "应为“李娜”" in html
    assert "张伟" not in html
    # No id in the URL to try: another employee's page does not exist.
    client.force_login(zhang_wei.user)
    html = client.get(URL).content.decode()
    assert "李娜" not in html


def test_a_closed_rename_is_gone(client, work_group, zhang_wei):
    reconcile(work_group, "伟哥张伟")
    reconcile(work_group, "张伟")  # fixed: the next snapshot closes the to-do
    client.force_login(zhang_wei.user)
    assert "没有需要修改的" in client.get(URL).content.decode()


def test_a_creators_to_do_about_them_is_not_theirs_to_fix(client, work_group, zhang_wei):
    """A 'remove' to-do about the member is the creator's, not listed on the member's page."""
    EligibilityRuleFactory(group=work_group, kind="category", category="admin")
    work_group.rules.filter(kind="everyone").delete()
    reconcile(work_group, "张伟")  # ineligible: the creator removes them
    assert RosterAction.objects.filter(finding__employee=zhang_wei).exists()
    client.force_login(zhang_wei.user)
    assert "没有需要修改的" in client.get(URL).content.decode()


def test_the_page_needs_a_login(client):
    page = client.get(URL)
    assert page.status_code == 302
    assert "login" in page["Location"]


def test_a_login_without_employee_gets_the_no_employee_page(client, seeded):
    client.force_login(UserFactory(username="bare", is_staff=False))
    page = client.get(URL)
    assert page.status_code == 200
    assert "selfservice/no_employee.html" in [t.name for t in page.templates]


def test_the_page_query_count_does_not_grow_with_renames(
    client, seeded, zhang_wei, django_assert_max_num_queries
):
    for _ in range(6):
        group = ChatGroupFactory()
        EligibilityRuleFactory(group=group, kind="everyone")
        reconcile(group, "伟哥张伟")
    assert RosterAction.objects.filter(finding__employee=zhang_wei).count() == 6
    client.force_login(zhang_wei.user)
    with django_assert_max_num_queries(12):
        page = client.get(URL)
    assert page.content.decode().count("应为“张伟”") == 6
