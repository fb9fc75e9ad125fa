"""§4 at the top of the tree: the head of a top department (人力资源部's, or a company leader
who heads 总经办) has no department head above; the company leaders are above every
department, so the 部门负责人 step is 任一公司领导 — one step with the route's own 任一公司领导
(the shorter limit), never the author, nobody twice."""

from __future__ import annotations

import datetime as dt

import pytest

from announcements.models import Announcement, ApprovalStep, ApproverKind
from announcements.services import (
    AnnouncementError,
    announcement_approve,
    announcement_submit,
)
from announcements.services.errors import ERROR_NO_DEPARTMENT_HEAD, ERROR_OWN_ITEM
from announcements.services.routes import NOTE_MERGED
from company.roles import HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.announcements.conftest import at
from tests.factories import EmployeeFactory, UserFactory, announcement_draft

pytestmark = pytest.mark.django_db
State = Announcement.State
MONDAY = at(2025, 11, 17)


def _top_head(department: str, user):
    top = department_get_or_create_by_path(path=department)
    head = EmployeeFactory(name=f"{department}负责人", department=top, category="admin", user=user)
    department_set_head(department=top, head=head)
    return head


@pytest.fixture
def hr_head(seeded):
    return _top_head("人力资源部", UserFactory(username="hrhead", roles=[HR])).user


def test_the_hr_head_s_work_notice_goes_to_any_one_company_leader(hr_head, leader):
    item = announcement_draft(author=hr_head)  # 俊马工作群 · 通知/公告: 部门负责人, 公司领导
    announcement_submit(announcement=item, actor=hr_head, now=MONDAY)
    steps = list(item.steps.values_list("position", "approver_kind", "approver_id"))
    assert steps == [(1, ApproverKind.COMPANY_LEADER, None)]  # recorded as such, once
    submitted = item.decisions.get(to_state=State.PENDING).comment
    assert "最上级部门的负责人" in submitted
    assert "任一公司领导" in submitted
    assert NOTE_MERGED.lstrip("；") in submitted
    with pytest.raises(AnnouncementError, match=ERROR_OWN_ITEM):
        announcement_approve(announcement=item, actor=hr_head, now=MONDAY)
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    assert Announcement.objects.get(pk=item.pk).state == State.APPROVED


def test_a_leader_heading_the_general_office_needs_another_leader(leader, leader2):
    _top_head("总经办", leader)
    item = announcement_draft(author=leader)
    announcement_submit(announcement=item, actor=leader, now=MONDAY)
    assert item.steps.count() == 1
    with pytest.raises(AnnouncementError, match=ERROR_OWN_ITEM):
        announcement_approve(announcement=item, actor=leader, now=MONDAY)
    announcement_approve(announcement=item, actor=leader2, now=MONDAY)
    assert Announcement.objects.get(pk=item.pk).state == State.APPROVED


def test_the_merged_step_keeps_the_shorter_limit(hr_head):
    ApprovalStep.objects.filter(
        route__group__code="work",
        route__category__code="notices",
        approver_kind=ApproverKind.DEPARTMENT_HEAD,
    ).update(time_limit=2, time_unit="hours")
    item = announcement_draft(author=hr_head)
    announcement_submit(announcement=item, actor=hr_head, now=MONDAY)
    (step,) = item.steps.all()
    assert step.approver_kind == ApproverKind.COMPANY_LEADER
    assert step.due_at == MONDAY + dt.timedelta(hours=2)


def test_a_head_only_route_becomes_one_leader_step(hr_head):
    item = announcement_draft(author=hr_head, category_code="work_communication")
    announcement_submit(announcement=item, actor=hr_head, now=MONDAY)
    assert list(item.steps.values_list("approver_kind", "approver_id")) == [
        (ApproverKind.COMPANY_LEADER, None)
    ]
    assert NOTE_MERGED.lstrip("；") not in item.decisions.get(to_state=State.PENDING).comment


def test_staff_of_a_department_without_any_head_is_still_refused(seeded):
    nobody = department_get_or_create_by_path(path="无人部")
    clerk = EmployeeFactory(
        name="职员", department=nobody, category="admin", user=UserFactory(username="clerk")
    )
    item = announcement_draft(author=clerk.user)
    message = ERROR_NO_DEPARTMENT_HEAD.format(name="职员").split("（")[0]
    with pytest.raises(AnnouncementError, match=message):
        announcement_submit(announcement=item, actor=clerk.user, now=MONDAY)
    assert Announcement.objects.get(pk=item.pk).state == State.DRAFT
