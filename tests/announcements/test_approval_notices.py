"""Items waiting for approval in the inbox (issue 14, point 3): whoever may decide the step
that starts is told — its person, the role's holders, their delegates for today — never the
author, nor who already decided a step of this version."""

from __future__ import annotations

import pytest

from announcements.services import (
    announcement_approve,
    announcement_submit,
    announcement_withdraw,
)
from notices.models import Notice
from tests.announcements.conftest import at
from tests.factories import DelegationFactory, UserFactory, announcement_draft

pytestmark = pytest.mark.django_db
MONDAY = at(2025, 11, 17)
Kind = Notice.Kind


def waiting(user) -> list[Notice]:
    return list(Notice.objects.filter(recipient=user, kind=Kind.APPROVAL_WAITING))


def test_the_step_that_starts_tells_its_approvers_only(author, department_head, leader, leader2):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)

    [notice] = waiting(department_head)
    assert notice.title == "公告“关于年终盘点的通知”等待你审批"
    assert "第 1 个审批环节" in notice.body
    assert "2025年11月18日 10:00" in notice.body
    assert notice.url == f"/admin/announcements/announcement/{item.pk}/change/"
    assert not waiting(leader)
    assert not waiting(leader2)
    assert not waiting(author)

    delegate = UserFactory(username="secretary")
    DelegationFactory(
        approver=leader, delegate=delegate, starts_on=MONDAY.date(), ends_on=MONDAY.date()
    )
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)

    assert len(waiting(leader)) == len(waiting(leader2)) == len(waiting(delegate)) == 1
    assert len(waiting(department_head)) == 1  # decided step 1: not asked for step 2
    assert not waiting(author)


def test_the_author_holding_the_role_is_not_told_of_their_own_item(leader, leader2):
    item = announcement_draft(
        author=leader, group_codes=("management",), category_code="daily_office"
    )
    announcement_submit(announcement=item, actor=leader, now=MONDAY)

    assert not waiting(leader)
    assert len(waiting(leader2)) == 1


def unread(user) -> list[Notice]:
    return [n for n in waiting(user) if n.read_at is None]


def test_a_step_decided_by_a_fellow_approver_asks_the_others_no_more(
    author, department_head, leader, leader2
):
    """任一公司领导: once one leader approves, the other's 待审批 notice is settled (read):
    the bell stops counting it and the evening digest does not mail a request that is over."""
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    assert len(unread(leader)) == len(unread(leader2)) == 1
    untouched = announcement_draft(author=author, title="另一份通知")
    announcement_submit(announcement=untouched, actor=author, now=MONDAY)

    announcement_approve(announcement=item, actor=leader, now=MONDAY)

    assert not unread(leader2)
    assert len(waiting(leader2)) == 1  # kept in 我的通知 as the record of what was asked
    assert len(unread(department_head)) == 1  # the other item's step still waits for them


def test_a_withdrawn_item_asks_its_approvers_nothing(author, department_head):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    assert len(unread(department_head)) == 1

    announcement_withdraw(announcement=item, actor=author)

    assert not unread(department_head)
