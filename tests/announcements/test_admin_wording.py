"""What the announcement pages say, as a browser walk found it: people as 姓名（工号）, an
approval that moves on is not yet 已批准, a refusal names the item once, a posting time
in the future refused, — for no step waiting, the delegation form offering no one who
would be refused, and both of the steps' columns named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from announcements.admin.forms import DelegationForm
from announcements.models import Announcement, Delegation
from announcements.services import AnnouncementError, announcement_approve, announcement_publish
from announcements.services.errors import ERROR_NO_GROUP, ERROR_POSTED_IN_FUTURE
from announcements.services.posting import CLOCK_SKEW
from announcements.services.workflow import announcement_submit
from common.people import person_label
from groups.models import ChatGroup
from tests.announcements.conftest import at
from tests.factories import announcement_draft

pytestmark = pytest.mark.django_db
State = Announcement.State
MONDAY = at(2025, 11, 17)
CHANGELIST = "admin:announcements_announcement_changelist"
FUTURE = ERROR_POSTED_IN_FUTURE.format(minutes=5)


def change_url(item):
    return reverse("admin:announcements_announcement_change", args=[item.pk])


def move_url(item):
    return reverse("admin:announcements_announcement_move", args=[item.pk])


def pending(author, title="年终盘点通知"):
    item = announcement_draft(author=author, title=title)
    return announcement_submit(announcement=item, actor=author, now=MONDAY)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_delegation_shows_people_not_logins(department_head, leader):
    delegation = Delegation.objects.create(
        approver=department_head, delegate=leader, starts_on=MONDAY.date(), ends_on=MONDAY.date()
    )
    text = str(delegation)
    assert text.startswith(f"{person_label(department_head)} → {person_label(leader)}（")
    assert "郭杰华（" in text
    assert "head →" not in text


def test_approving_step_one_of_two_says_so_and_the_last_says_approved(
    client, author, department_head, leader
):
    item = pending(author)
    client.force_login(department_head)
    response = client.post(move_url(item), {"do": "approve", "comment": ""}, follow=True)
    expected = f"公告“{item.title}”已同意（第 1 步，共 2 步），等待下一环节审批。"
    assert messages_of(response) == [expected]
    client.force_login(leader)
    response = client.post(move_url(item), {"do": "approve", "comment": ""}, follow=True)
    assert messages_of(response) == [f"公告“{item.title}”已批准。"]
    assert Announcement.objects.get(pk=item.pk).state == State.APPROVED


def test_bulk_approval_of_a_first_step_is_not_called_approved(client, author, department_head):
    item = pending(author)
    client.force_login(department_head)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [item.pk], "apply": "1"},
        follow=True,
    )
    shown = messages_of(response)
    assert shown == [f"已同意 1 份公告的当前环节，等待下一环节审批：{item.title}。"]


def test_a_bulk_refusal_names_the_item_once(client, author, department_head, leader):
    item = pending(author)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    client.force_login(department_head)
    pending(author, "另一份")  # something waits, so the bulk action is offered
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [item.pk], "apply": "1"},
        follow=True,
    )
    (refusal,) = messages_of(response)
    assert refusal == f"公告“{item.title}”未能批准：当前为“已批准”，没有等待审批的环节。"
    assert refusal.count(item.title) == 1


@pytest.fixture
def approved(author, department_head, leader):
    item = pending(author)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    return announcement_approve(announcement=item, actor=leader, now=MONDAY)


def test_a_posting_time_in_the_future_is_refused(approved, author):
    work = ChatGroup.objects.get(code="work")
    with pytest.raises(AnnouncementError, match=FUTURE.split("（")[0]):
        announcement_publish(
            announcement=approved,
            group=work,
            posted_at=MONDAY + CLOCK_SKEW + dt.timedelta(seconds=1),
            actor=author,
            now=MONDAY,
        )
    assert not approved.publications.exists()
    within_skew = MONDAY + CLOCK_SKEW  # the recorder's clock a little ahead: accepted
    announcement_publish(
        announcement=approved, group=work, posted_at=within_skew, actor=author, now=MONDAY
    )
    assert Announcement.objects.get(pk=approved.pk).state == State.PUBLISHED


def test_the_posting_form_refuses_the_future_and_names_a_missing_group(client, approved, author):
    client.force_login(author)
    later = timezone.localtime() + dt.timedelta(hours=1)
    work = ChatGroup.objects.get(code="work")
    response = client.post(
        move_url(approved),
        {"do": "publish", "group": work.pk, "posted_at": later.strftime("%Y-%m-%d %H:%M:%S")},
        follow=True,
    )
    assert messages_of(response) == [f"公告“{approved.title}”未能登记发布：{FUTURE}"]
    response = client.post(
        move_url(approved), {"do": "publish", "posted_at": "2025-11-18 09:00:00"}, follow=True
    )
    assert messages_of(response) == [f"公告“{approved.title}”未能登记发布：{ERROR_NO_GROUP}"]
    assert not approved.publications.exists()


def test_no_waiting_step_shows_a_dash_and_the_steps_columns_are_named(
    client, author, department_head, approved
):
    draft = announcement_draft(author=author, title="草稿")
    client.force_login(author)
    for item in (draft, approved):
        page = client.get(change_url(item)).content.decode()
        assert "field-current_step_label" in page
        current = page.split("field-current_step_label")[1].split("</div>")[:3]
        assert "—" in "".join(current)
        assert ">0<" not in "".join(current)
    page = client.get(change_url(pending(author, "审批中"))).content.decode()
    assert "第 1 步" in page
    assert "审批方式" in page
    assert "审批人" in page


def test_the_delegation_form_leaves_out_who_would_be_refused(client, department_head, leader, hr):
    own = DelegationForm(may_choose_approver=False, user=department_head)
    assert department_head not in own.fields["delegate"].queryset
    assert leader in own.fields["delegate"].queryset
    for_leader = DelegationForm({"approver": leader.pk}, may_choose_approver=True, user=hr)
    assert leader not in for_leader.fields["delegate"].queryset
    assert department_head in for_leader.fields["delegate"].queryset
    client.force_login(department_head)
    page = client.get(reverse("admin:announcements_delegation_add")).content.decode()
    assert 'href="/static/admin/css/forms.css"' in page or "admin/css/forms.css" in page
    assert 'id="content-main"' in page
    assert "<h2>审批代理</h2>" in page
    assert (
        f'value="{department_head.pk}"'
        not in page.split('name="delegate"')[1].split("</select>")[0]
    )
