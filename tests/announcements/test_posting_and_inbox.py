"""Publication (confirmed by the author or HR), acknowledgements (须确认), and the inbox
待我审批: exactly the items waiting for each approver, in a flat number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from announcements.models import Acknowledgement, Announcement, Publication
from announcements.selectors import (
    acknowledgements_pending_for,
    announcement_unacknowledged_employees,
    announcements_decided_by,
    announcements_waiting_for,
)
from announcements.services import (
    AnnouncementError,
    announcement_acknowledge,
    announcement_approve,
    announcement_publish,
    announcement_submit,
)
from announcements.services.errors import (
    ERROR_ALREADY_POSTED,
    ERROR_MAY_NOT_PUBLISH,
    ERROR_NOT_ADDRESSED,
    ERROR_NOT_TARGET,
)
from groups.models import ChatGroup
from members.models import Employee
from tests.announcements.conftest import at
from tests.factories import DelegationFactory, EmployeeFactory, UserFactory, announcement_draft

MONDAY = at(2025, 11, 17)


def _approved(author, head, leader, **kwargs):
    item = announcement_draft(author=author, **kwargs)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=head, now=MONDAY)
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    item.refresh_from_db()
    return item


def test_published_once_every_target_group_has_it(author, hr, department_head, leader, outsider):
    item = announcement_draft(
        author=author, group_codes=("work", "leisure"), category_code="holiday_greetings"
    )
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=hr, now=MONDAY)  # 工作群 greetings: HR
    work, leisure, management = (
        ChatGroup.objects.get(code=c) for c in ("work", "leisure", "management")
    )
    with pytest.raises(AnnouncementError, match=ERROR_MAY_NOT_PUBLISH):
        announcement_publish(announcement=item, group=work, posted_at=MONDAY, actor=outsider)
    with pytest.raises(AnnouncementError, match=ERROR_NOT_TARGET.format(group="俊马管理群")):
        announcement_publish(announcement=item, group=management, posted_at=MONDAY, actor=hr)
    announcement_publish(announcement=item, group=work, posted_at=MONDAY, actor=hr)
    item.refresh_from_db()
    assert item.state == Announcement.State.APPROVED  # 欢乐谷 still to post
    with pytest.raises(AnnouncementError, match=ERROR_ALREADY_POSTED.format(group="俊马工作群")):
        announcement_publish(announcement=item, group=work, posted_at=MONDAY, actor=author)
    announcement_publish(
        announcement=item, group=leisure, posted_at=MONDAY + dt.timedelta(minutes=5), actor=author
    )
    item.refresh_from_db()
    assert item.state == Announcement.State.PUBLISHED
    assert list(item.publications.values_list("group__code", "posted_by__username")) == [
        ("work", "hr1"),
        ("leisure", "zhangwei"),
    ]


def test_a_draft_is_not_published(author, hr):
    item = announcement_draft(author=author)
    with pytest.raises(AnnouncementError, match="批准后才能登记发布"):
        announcement_publish(
            announcement=item, group=ChatGroup.objects.get(code="work"), posted_at=MONDAY, actor=hr
        )


def test_acknowledgement_on_the_reader_s_page_until_confirmed(
    author, department_head, leader, employee
):
    item = _approved(author, department_head, leader, requires_acknowledgement=True)
    announcement_publish(
        announcement=item,
        group=ChatGroup.objects.get(code="work"),
        posted_at=MONDAY,
        actor=author,
    )
    clerk = EmployeeFactory(
        name="王磊", category=Employee.Category.ADMIN, user=UserFactory(username="wanglei")
    )
    assert list(acknowledgements_pending_for(clerk)) == [item]
    assert clerk in announcement_unacknowledged_employees(item)
    worker = Employee.objects.get(user=employee)  # 生产 staff: not in 俊马工作群 (§4)
    assert list(acknowledgements_pending_for(worker)) == []
    with pytest.raises(AnnouncementError, match=ERROR_NOT_ADDRESSED):
        announcement_acknowledge(announcement=item, employee=worker, actor=employee)
    with pytest.raises(AnnouncementError, match="只能本人确认"):
        announcement_acknowledge(announcement=item, employee=clerk, actor=employee)
    announcement_acknowledge(announcement=item, employee=clerk, actor=clerk.user, now=MONDAY)
    announcement_acknowledge(announcement=item, employee=clerk, actor=clerk.user)  # twice: once
    assert item.acknowledgements.get().at == MONDAY
    assert list(acknowledgements_pending_for(clerk)) == []
    assert clerk not in announcement_unacknowledged_employees(item)


def test_the_inbox_holds_exactly_the_items_waiting_for_each_approver(
    author, department_head, leader, leader2, hr
):
    at_step_1 = announcement_draft(author=author, title="第一份")
    at_step_2 = announcement_draft(author=author, title="第二份")
    for item in (at_step_1, at_step_2):
        announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=at_step_2, actor=department_head, now=MONDAY)
    own = announcement_draft(
        author=leader, group_codes=("management",), category_code="daily_office"
    )
    announcement_submit(announcement=own, actor=leader, now=MONDAY)
    today = dt.date(2025, 11, 17)

    assert list(announcements_waiting_for(department_head, today=today)) == [at_step_1]
    assert set(announcements_waiting_for(leader, today=today)) == {at_step_2}  # not its own
    assert set(announcements_waiting_for(leader2, today=today)) == {at_step_2, own}
    assert list(announcements_waiting_for(hr, today=today)) == []
    assert list(announcements_waiting_for(author, today=today)) == []
    assert list(announcements_decided_by(department_head)) == [at_step_2]

    deputy = UserFactory(username="deputy")
    DelegationFactory(
        approver=department_head,
        delegate=deputy,
        starts_on=dt.date(2025, 11, 17),
        ends_on=dt.date(2025, 11, 18),
    )
    assert list(announcements_waiting_for(deputy, today=today)) == [at_step_1]
    assert list(announcements_waiting_for(deputy, today=dt.date(2025, 11, 19))) == []


def test_the_inbox_query_count_stays_flat(
    author, department_head, leader, django_assert_max_num_queries
):
    def add(count):
        for n in range(count):
            item = announcement_draft(author=author, title=f"通知{n}")
            announcement_submit(announcement=item, actor=author, now=MONDAY)
            announcement_approve(announcement=item, actor=department_head, now=MONDAY)

    def read():
        return [
            (a.title, a.author.username, a.category.name, [g.name for g in a.target_groups.all()])
            for a in announcements_waiting_for(leader, today=dt.date(2025, 11, 17))
        ]

    add(2)
    with django_assert_max_num_queries(6):
        assert len(read()) == 2
    add(8)
    with django_assert_max_num_queries(6):
        assert len(read()) == 10


def test_the_reader_s_page_query_count_stays_flat(
    author, department_head, leader, django_assert_max_num_queries
):
    clerk = EmployeeFactory(category=Employee.Category.ADMIN, user=UserFactory(username="wl"))
    work = ChatGroup.objects.get(code="work")

    def add(count):
        for _ in range(count):
            item = _approved(author, department_head, leader, requires_acknowledgement=True)
            announcement_publish(announcement=item, group=work, posted_at=MONDAY, actor=author)

    add(1)
    with django_assert_max_num_queries(20) as first:
        assert len([a.title for a in acknowledgements_pending_for(clerk)]) == 1
    add(6)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert len([a.title for a in acknowledgements_pending_for(clerk)]) == 7


def test_a_posting_and_a_confirmation_read_in_the_companys_time():
    # 01:30 UTC is 09:30 in Shanghai: the row names the moment people saw, not UTC's.
    moment = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
    posted = Publication(group=ChatGroup(name="俊马工作群"), posted_at=moment)
    confirmed = Acknowledgement(employee=Employee(name="李娜"), at=moment)
    assert str(posted) == "俊马工作群 · 2026年11月24日 09:30"
    assert str(confirmed).endswith(" · 2026年11月24日 09:30")
    assert str(confirmed).startswith("李娜")
