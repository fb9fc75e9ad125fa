"""The state machine (§4): every transition and every refusal of the issue — self-approval,
double approval, wrong approver, withdrawn after approval, reject without comment — and
delegation in and out of its dates."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from announcements.models import Announcement, AnnouncementStep, ApproverKind
from announcements.services import (
    AnnouncementError,
    announcement_approve,
    announcement_reject,
    announcement_review,
    announcement_revise,
    announcement_submit,
    announcement_withdraw,
)
from announcements.services.errors import (
    ERROR_COMMENT_REQUIRED,
    ERROR_FORBIDDEN_MOVE,
    ERROR_MAY_NOT_REVIEW,
    ERROR_NOT_AUTHOR,
    ERROR_NOT_YOUR_STEP,
    ERROR_OWN_ITEM,
    ERROR_SYSTEM_DECIDES,
    ERROR_TWICE,
    ERROR_WITHDRAW_APPROVED,
)
from common.actors import SystemActor
from members.models import Department
from members.services import department_get_or_create_by_path, department_set_head
from tests.announcements.conftest import at
from tests.factories import DelegationFactory, EmployeeFactory, UserFactory, announcement_draft

State = Announcement.State
MONDAY = at(2025, 11, 17)  # an ordinary working week


def _states(announcement):
    return list(announcement.decisions.values_list("from_state", "to_state", "step"))


def test_work_group_notice_goes_through_department_head_then_a_leader(
    author, department_head, leader
):
    announcement = announcement_draft(author=author)
    announcement_submit(announcement=announcement, actor=author, now=MONDAY)
    announcement.refresh_from_db()
    assert (announcement.state, announcement.current_step) == (State.PENDING, 1)
    steps = list(announcement.steps.order_by("position"))
    assert [(s.approver_kind, s.approver) for s in steps] == [
        (ApproverKind.DEPARTMENT_HEAD, department_head),
        (ApproverKind.COMPANY_LEADER, None),
    ]
    assert steps[0].due_at == at(2025, 11, 18)  # one working day

    announcement_approve(announcement=announcement, actor=department_head, now=MONDAY)
    announcement.refresh_from_db()
    assert (announcement.state, announcement.current_step) == (State.PENDING, 2)
    announcement_approve(announcement=announcement, actor=leader, comment="同意发布", now=MONDAY)
    announcement.refresh_from_db()
    assert (announcement.state, announcement.current_step) == (State.APPROVED, 0)
    assert _states(announcement) == [
        ("", "draft", None),
        ("draft", "pending", 1),
        ("pending", "pending", 1),
        ("pending", "approved", 2),
    ]


def test_a_route_without_steps_is_approved_at_once(author):
    greeting = announcement_draft(
        author=author, group_codes=("leisure",), category_code="holiday_greetings"
    )
    announcement_submit(announcement=greeting, actor=author, now=MONDAY)
    greeting.refresh_from_db()
    assert greeting.state == State.APPROVED
    assert not greeting.steps.exists()


def test_emergency_needs_one_leader_and_a_review_after(author, leader, leader2):
    item = announcement_draft(author=author, category_code="emergency")
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    item.refresh_from_db()
    assert item.review_after
    step = item.steps.get()
    assert (step.approver_kind, step.due_at) == (
        ApproverKind.COMPANY_LEADER,
        MONDAY + dt.timedelta(hours=2),
    )
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    item.refresh_from_db()
    assert item.state == State.APPROVED
    with pytest.raises(AnnouncementError, match=ERROR_MAY_NOT_REVIEW):
        announcement_review(announcement=item, actor=author)
    announcement_review(announcement=item, actor=leader2, comment="处置得当", now=MONDAY)
    item.refresh_from_db()
    assert item.reviewed_by == leader2


def test_several_groups_take_the_union_of_their_routes_lowest_level_first(author, department_head):
    item = announcement_draft(
        author=author, group_codes=("work", "leisure"), category_code="holiday_greetings"
    )
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    # 工作群 greetings need HR, 欢乐谷's nobody: HR it is.
    assert list(item.steps.values_list("approver_kind", flat=True)) == [ApproverKind.HR]


def test_rejected_then_revised_then_approved_keeps_every_version_and_decision(
    author, department_head, leader
):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_COMMENT_REQUIRED):
        announcement_reject(announcement=item, actor=department_head, comment="  ", now=MONDAY)
    announcement_reject(announcement=item, actor=department_head, comment="日期写错了", now=MONDAY)
    item.refresh_from_db()
    assert item.state == State.REJECTED
    announcement_revise(
        announcement=item,
        title="关于年终盘点的通知（修订）",
        body="改为 12 月 30 日前。",
        actor=author,
    )
    item.refresh_from_db()
    assert (item.state, item.version) == (State.DRAFT, 2)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)  # a new round
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    item.refresh_from_db()
    assert item.state == State.APPROVED
    assert item.versions.count() == 2
    assert item.steps.filter(version=1, outcome="rejected").count() == 1
    assert item.steps.filter(version=2, outcome="approved").count() == 2
    assert [r[:2] for r in _states(item)] == [
        ("", "draft"),
        ("draft", "pending"),
        ("pending", "rejected"),
        ("rejected", "draft"),
        ("draft", "pending"),
        ("pending", "pending"),
        ("pending", "approved"),
    ]


def test_nobody_approves_their_own_item(leader, leader2):
    item = announcement_draft(
        author=leader, group_codes=("management",), category_code="daily_office"
    )
    announcement_submit(announcement=item, actor=leader, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_OWN_ITEM):
        announcement_approve(announcement=item, actor=leader, now=MONDAY)
    announcement_approve(announcement=item, actor=leader2, now=MONDAY)


def test_nobody_decides_two_steps_of_the_same_item(author, department_head, leader):
    department_head.groups.add(*leader.groups.all())  # the head is a company leader too
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_TWICE):
        announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    item.refresh_from_db()
    assert item.current_step == 2


def test_the_wrong_approver_is_refused(author, department_head, leader, hr):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    message = ERROR_NOT_YOUR_STEP.format(approver="部门负责人（郭杰华）")
    for someone in (leader, hr):  # step 1 is the head's, not a leader's nor HR's
        with pytest.raises(AnnouncementError, match=re.escape(message)):
            announcement_approve(announcement=item, actor=someone, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_SYSTEM_DECIDES):
        announcement_approve(announcement=item, actor=SystemActor("test"), now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    with pytest.raises(AnnouncementError, match="任一公司领导"):
        announcement_approve(announcement=item, actor=hr, now=MONDAY)


def test_withdrawn_by_the_author_before_the_last_approval_only(author, department_head, leader):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_NOT_AUTHOR):
        announcement_withdraw(announcement=item, actor=department_head)
    announcement_withdraw(announcement=item, actor=author)
    item.refresh_from_db()
    assert (item.state, item.current_step) == (State.WITHDRAWN, 0)
    with pytest.raises(AnnouncementError, match="已撤回"):
        announcement_submit(announcement=item, actor=author, now=MONDAY)

    approved = announcement_draft(author=author)
    announcement_submit(announcement=approved, actor=author, now=MONDAY)
    announcement_approve(announcement=approved, actor=department_head, now=MONDAY)
    announcement_approve(announcement=approved, actor=leader, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_WITHDRAW_APPROVED):
        announcement_withdraw(announcement=approved, actor=author)
    approved.refresh_from_db()
    assert approved.state == State.APPROVED


def test_a_draft_cannot_be_approved_nor_a_pending_item_submitted_again(author, department_head):
    item = announcement_draft(author=author)
    with pytest.raises(AnnouncementError, match="没有等待审批的环节"):
        announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    expected = ERROR_FORBIDDEN_MOVE.format(title=item.title, current="审批中", target="审批中")
    with pytest.raises(AnnouncementError, match=expected):
        announcement_submit(announcement=item, actor=author, now=MONDAY)


def test_a_head_s_own_item_goes_to_the_head_above(seeded, leader):
    parent = department_get_or_create_by_path(path="营销中心")
    child = department_get_or_create_by_path(path="营销中心/华东区")
    boss = EmployeeFactory(name="上级", department=parent, user=UserFactory(username="boss"))
    department_set_head(department=parent, head=boss)
    head = EmployeeFactory(
        name="区长", department=child, category="admin", user=UserFactory(username="zone")
    )
    department_set_head(department=child, head=head)
    item = announcement_draft(author=head.user)
    announcement_submit(announcement=item, actor=head.user, now=MONDAY)
    assert item.steps.get(position=1).approver == boss.user
    assert Department.objects.get(pk=child.pk).head == head


# -- delegation -------------------------------------------------------------------------


def test_a_delegate_decides_within_the_dates_and_is_recorded_as_acting_for_the_approver(
    author, department_head, leader
):
    deputy = UserFactory(username="deputy")
    DelegationFactory(
        approver=department_head,
        delegate=deputy,
        starts_on=dt.date(2025, 11, 17),
        ends_on=dt.date(2025, 11, 21),
    )
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    with pytest.raises(AnnouncementError, match="不是审批人"):  # the day after the range
        announcement_approve(announcement=item, actor=deputy, now=at(2025, 11, 22))
    with pytest.raises(AnnouncementError, match="不是审批人"):  # the day before
        announcement_approve(announcement=item, actor=deputy, now=at(2025, 11, 16, 23, 59))
    announcement_approve(announcement=item, actor=deputy, now=at(2025, 11, 21, 23, 59))
    step = item.steps.get(position=1)
    assert (step.decided_by, step.decided_for) == (deputy, department_head)
    row = item.decisions.get(to_state="pending", step=1, from_state="pending")
    assert (row.actor, row.on_behalf_of) == (deputy, department_head)
    # The approver acted through the delegate: neither decides another step.
    with pytest.raises(AnnouncementError, match=ERROR_TWICE):
        announcement_approve(announcement=item, actor=deputy, now=MONDAY)


def test_a_leader_s_delegate_decides_a_leader_step(author, department_head, leader):
    deputy = UserFactory(username="deputy")
    DelegationFactory(
        approver=leader,
        delegate=deputy,
        starts_on=dt.date(2025, 11, 1),
        ends_on=dt.date(2025, 11, 30),
    )
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    announcement_approve(announcement=item, actor=deputy, now=MONDAY)
    item.refresh_from_db()
    assert item.state == State.APPROVED
    assert item.steps.get(position=2).decided_for == leader


def test_nobody_approves_their_own_item_as_a_delegate(author, department_head):
    DelegationFactory(
        approver=department_head,
        delegate=author,
        starts_on=dt.date(2025, 11, 1),
        ends_on=dt.date(2025, 11, 30),
    )
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    with pytest.raises(AnnouncementError, match=ERROR_OWN_ITEM):
        announcement_approve(announcement=item, actor=author, now=MONDAY)
    assert AnnouncementStep.objects.filter(announcement=item, outcome="").count() == 2
