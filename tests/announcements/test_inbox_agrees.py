"""待我审批 is exactly what the service accepts: for every persona, delegation and pending
item, ``item in announcements_waiting_for(user)`` iff ``announcement_approve`` by that user
does not raise (tried in a savepoint that is rolled back). The cast covers the rules the two
must share: a delegator's own item, a step decided by or for the delegator, several
delegations of one delegate (the first refused, the second good), delegations in and out of
their dates (Asia/Shanghai), a superuser delegator, a named person's step."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django.utils import timezone

from announcements.models import Announcement, AnnouncementStep
from announcements.selectors import announcements_waiting_for, company_date
from announcements.services import AnnouncementError, announcement_approve, announcement_submit
from announcements.services.errors import ERROR_NOT_YOUR_STEP, ERROR_OWN_ITEM, ERROR_TWICE
from members.models import Employee
from members.services import department_get_or_create_by_path
from tests.announcements.conftest import at
from tests.factories import DelegationFactory, EmployeeFactory, UserFactory, announcement_draft

MONDAY = at(2025, 11, 17)
State = Announcement.State


class _Rollback(Exception):
    pass


def accepts(item: Announcement, user, now: dt.datetime) -> bool:
    """Whether ``announcement_approve`` by ``user`` at ``now`` goes through; nothing kept."""
    try:
        with transaction.atomic():
            announcement_approve(
                announcement=Announcement.objects.get(pk=item.pk), actor=user, now=now
            )
            raise _Rollback
    except _Rollback:
        return True
    except AnnouncementError:
        return False


def assert_inbox_agrees(people: dict, now: dt.datetime) -> dict[str, set[str]]:
    """For each of ``people``: the inbox at ``now``'s company date equals the pending items
    the service accepts from them. Returns the inboxes by titles, for the spot checks."""
    pending = list(Announcement.objects.filter(state=State.PENDING))
    inboxes = {}
    for name, user in people.items():
        inbox = set(announcements_waiting_for(user, today=company_date(now)))
        assert all(item.state == State.PENDING for item in inbox)
        accepted = {item for item in pending if accepts(item, user, now)}
        assert inbox == accepted, (
            f"{name}: inbox only {sorted(i.title for i in inbox - accepted)}, "
            f"service only {sorted(i.title for i in accepted - inbox)}"
        )
        inboxes[name] = {item.title for item in inbox}
    return inboxes


@pytest.fixture
def cast(author, department_head, leader, leader2, hr, hr2, superuser, outsider):
    department_head.groups.add(*leader.groups.all())  # the head is a company leader too
    author2 = EmployeeFactory(
        name="刘洋",
        department=department_get_or_create_by_path(path="销售部"),
        category=Employee.Category.ADMIN,
        user=UserFactory(username="liuyang"),
    ).user
    people = {
        "author": author,
        "author2": author2,
        "head": department_head,
        "leader": leader,
        "leader2": leader2,
        "hr": hr,
        "hr2": hr2,
        "root": superuser,
        "outsider": outsider,
    }
    for name in ("deputy", "stand_in", "late", "root_deputy", "hr_deputy"):
        people[name] = UserFactory(username=name)

    def delegate(approver, to, first=dt.date(2025, 11, 1), last=dt.date(2025, 11, 30)):
        DelegationFactory(approver=approver, delegate=people[to], starts_on=first, ends_on=last)

    # The reviewer's case: the leader's delegate is an author; the leader's own item is not
    # theirs to approve, another author's item at the leader step is.
    delegate(leader, "author")
    # One delegate, two delegators: leader's own item refused, leader2's right good.
    delegate(leader, "deputy")
    delegate(leader2, "deputy")
    # The head (a leader too) decided step 1: their delegate may not decide step 2 for them.
    delegate(department_head, "stand_in")
    # Out of range on the day (ended the day before, starts the day after).
    delegate(hr, "late", last=dt.date(2025, 11, 16))
    delegate(hr2, "late", first=dt.date(2025, 11, 18))
    # A superuser's delegate: every right is the superuser's (has_perm).
    delegate(superuser, "root_deputy")
    # HR's delegate ends today: in the inbox until midnight in Shanghai.
    delegate(hr2, "hr_deputy", last=dt.date(2025, 11, 17))

    def submitted(by, title, **kwargs):
        item = announcement_draft(author=by, title=title, **kwargs)
        announcement_submit(announcement=item, actor=by, now=MONDAY)
        return item

    submitted(author, "第一步")
    at_leader = submitted(author, "第二步")
    announcement_approve(announcement=at_leader, actor=department_head, now=MONDAY)
    other_at_leader = submitted(author2, "他人第二步")
    announcement_approve(announcement=other_at_leader, actor=department_head, now=MONDAY)
    for_the_head = submitted(author2, "代理过第一步")  # decided for the head by their delegate
    announcement_approve(announcement=for_the_head, actor=people["stand_in"], now=MONDAY)
    submitted(leader, "领导自己的", group_codes=("management",), category_code="daily_office")
    submitted(author, "节日祝福", category_code="holiday_greetings")  # an HR step
    named = submitted(author2, "指定人员")
    AnnouncementStep.objects.filter(announcement=named, position=1).update(approver=hr)
    done = submitted(author2, "已批准")
    announcement_approve(announcement=done, actor=department_head, now=MONDAY)
    announcement_approve(announcement=done, actor=leader, now=MONDAY)
    return people


def test_the_inbox_is_what_the_service_accepts_on_the_day(cast):
    inboxes = assert_inbox_agrees(cast, MONDAY)
    assert "领导自己的" not in inboxes["author"]  # the delegator's own item
    assert "他人第二步" in inboxes["author"]  # as the leader's delegate
    assert "领导自己的" in inboxes["deputy"]  # leader's own, but leader2 delegated too
    assert "第二步" not in inboxes["stand_in"]  # the head decided step 1
    assert "代理过第一步" not in inboxes["stand_in"]  # decided by them for the head
    assert "代理过第一步" not in inboxes["head"]  # decided for the head: not twice
    assert inboxes["late"] == set()
    assert "节日祝福" in inboxes["root_deputy"]
    assert "指定人员" in inboxes["hr"]
    assert "已批准" not in set().union(*inboxes.values())


def test_the_inbox_agrees_the_day_before_and_after(cast):
    for now in (at(2025, 11, 16, 23, 59), at(2025, 11, 18, 0, 30), at(2025, 12, 1)):
        assert_inbox_agrees(cast, now)


def test_the_service_says_why_for_each_delegation_tried(author, leader, department_head):
    deputy = UserFactory(username="deputy")
    DelegationFactory(
        approver=leader, delegate=deputy, starts_on=MONDAY.date(), ends_on=MONDAY.date()
    )
    own = announcement_draft(
        author=leader, group_codes=("management",), category_code="daily_office"
    )
    announcement_submit(announcement=own, actor=leader, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_OWN_ITEM):
        announcement_approve(announcement=own, actor=deputy, now=MONDAY)
    department_head.groups.add(*leader.groups.all())
    DelegationFactory(
        approver=department_head, delegate=deputy, starts_on=MONDAY.date(), ends_on=MONDAY.date()
    )
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    refusal = re.escape(ERROR_NOT_YOUR_STEP.format(approver="部门负责人（郭杰华）"))
    with pytest.raises(AnnouncementError, match=refusal):  # no delegation of theirs applies
        announcement_approve(announcement=item, actor=UserFactory(username="x"), now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    # Step 2 (任一公司领导): the leader's right is good, the head decided step 1 already.
    item.refresh_from_db()
    announcement_approve(announcement=item, actor=deputy, now=MONDAY)
    item.refresh_from_db()
    assert item.steps.get(position=2).decided_for == leader
    # The leader's right, with the head's only: refused as a second decision.
    other = announcement_draft(author=author, title="另一份")
    announcement_submit(announcement=other, actor=author, now=MONDAY)
    announcement_approve(announcement=other, actor=department_head, now=MONDAY)
    leader_only = UserFactory(username="y")
    DelegationFactory(
        approver=department_head,
        delegate=leader_only,
        starts_on=MONDAY.date(),
        ends_on=MONDAY.date(),
    )
    with pytest.raises(AnnouncementError, match=ERROR_TWICE):
        announcement_approve(announcement=other, actor=leader_only, now=MONDAY)


# -- the company's dates, whatever zone a request activated (Asia/Shanghai) --


@pytest.mark.parametrize("active_zone", ["UTC", "America/Los_Angeles", "Asia/Shanghai"])
def test_a_delegation_ending_today_ends_at_midnight_in_shanghai(
    author, department_head, active_zone
):
    deputy = UserFactory(username="deputy")
    DelegationFactory(
        approver=department_head,
        delegate=deputy,
        starts_on=dt.date(2025, 11, 10),
        ends_on=dt.date(2025, 11, 17),
    )
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    late_evening = at(2025, 11, 17, 23, 30)  # 15:30 UTC
    after_midnight = at(2025, 11, 18, 0, 30)  # 16:30 UTC, still the 17th in UTC
    assert late_evening == dt.datetime(2025, 11, 17, 15, 30, tzinfo=dt.UTC)
    with timezone.override(active_zone):
        assert company_date(late_evening) == dt.date(2025, 11, 17)
        assert company_date(after_midnight) == dt.date(2025, 11, 18)
        assert not accepts(item, deputy, after_midnight)
        with pytest.raises(AnnouncementError, match="不是审批人"):
            announcement_approve(announcement=item, actor=deputy, now=after_midnight)
        inbox = announcements_waiting_for(deputy, today=company_date(after_midnight))
        assert list(inbox) == []
        assert list(announcements_waiting_for(deputy, today=company_date(late_evening))) == [item]
        announcement_approve(announcement=item, actor=deputy, now=late_evening)
    step = item.steps.get(position=1)
    assert (step.decided_by, step.decided_for) == (deputy, department_head)
