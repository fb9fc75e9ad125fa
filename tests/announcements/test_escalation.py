"""Late steps (§4 routes' time limits): reminders once a day, then one level up — with fixed
times across a holiday (国庆) and a 调休 Saturday from the holiday table, and the beat task
run twice reminding once. Every reminder is an in-app notice (issue 14, point 3) to whoever
may decide the step, carried by the evening's digest, never a mail of its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from announcements.models import Announcement, ApprovalReminder, ApproverKind
from announcements.services import announcement_approve, announcement_submit, approvals_escalate
from announcements.tasks import escalate_approvals
from common.actors import SystemActor
from members.services import department_get_or_create_by_path, department_set_head
from notices.models import EmailDelivery, EmailPreference, Notice
from notices.services.digests import digests_compose
from tests.announcements.conftest import at
from tests.factories import DelegationFactory, EmployeeFactory, UserFactory, announcement_draft
from workdays.models import CalendarDay

TASK = SystemActor("task:announcements.escalate_approvals")


@pytest.fixture
def national_day(seeded):
    """国庆 2025 as published: 1–8 October off, Sunday 28 September and Saturday 11 October
    worked (调休)."""
    for day in range(1, 9):
        CalendarDay.objects.update_or_create(
            date=dt.date(2025, 10, day),
            defaults={"kind": CalendarDay.Kind.HOLIDAY, "name": "国庆节"},
        )
    for day in (dt.date(2025, 9, 28), dt.date(2025, 10, 11)):
        CalendarDay.objects.update_or_create(
            date=day, defaults={"kind": CalendarDay.Kind.WORKDAY, "name": "国庆节"}
        )


def _submitted(author, now):
    item = announcement_draft(author=author)
    announcement_submit(announcement=item, actor=author, now=now)
    return item


def reminders(user) -> list[Notice]:
    return list(
        Notice.objects.filter(
            recipient=user, subject_key__startswith="approval-reminder:"
        ).order_by("pk")
    )


def test_a_step_is_due_after_the_holiday_reminded_once_a_day_then_escalated(
    author, department_head, leader, national_day
):
    item = _submitted(author, at(2025, 9, 30))  # the eve of 国庆
    step = item.steps.get(position=1)
    assert step.due_at == at(2025, 10, 9)  # 1–8 October are no working days

    assert approvals_escalate(now=at(2025, 10, 5), actor=TASK).reminded == 0  # not late yet
    first = approvals_escalate(now=at(2025, 10, 9, 10, 30), actor=TASK)
    assert (first.reminded, first.escalated, first.told) == (1, 0, 1)
    [notice] = reminders(department_head)
    assert notice.kind == Notice.Kind.APPROVAL_WAITING
    assert notice.title == f"公告“{item.title}”等待你审批，已超过时限"
    assert "截止时间 2025年10月9日 10:00 已过" in notice.body
    assert notice.url == reverse("admin:announcements_announcement_change", args=[item.pk])
    assert notice.subject_key == f"approval-reminder:{step.pk}:2025-10-09"
    assert notice.in_digest  # mailed in the evening's digest, not on its own
    again = approvals_escalate(now=at(2025, 10, 9, 16, 0), actor=TASK)  # the same day: once
    assert (again.reminded, again.told) == (0, 0)
    assert len(reminders(department_head)) == 1
    next_day = approvals_escalate(now=at(2025, 10, 10, 9, 0), actor=TASK)  # a new day
    assert (next_day.reminded, next_day.told) == (1, 1)
    assert len(reminders(department_head)) == 2
    assert ApprovalReminder.objects.filter(step=step).count() == 2
    assert ApprovalReminder.objects.filter(step=step).first().recipients == "郭杰华"

    # A second period late (one more working day after the due time): one level up. 销售部 has
    # no department above with a head: the company leaders.
    up = approvals_escalate(now=at(2025, 10, 10, 10, 0), actor=TASK)
    assert (up.escalated, up.told) == (1, 1)
    step.refresh_from_db()
    assert (step.approver_kind, step.approver, step.escalated_from) == (
        ApproverKind.COMPANY_LEADER,
        None,
        department_head,
    )
    assert step.due_at == at(2025, 10, 11)  # 调休 Saturday is a working day
    assert Notice.objects.filter(recipient=leader, kind=Notice.Kind.APPROVAL_WAITING).exists()
    assert not mail.outbox  # nothing mailed outside the digest
    row = item.decisions.latest("pk")
    assert (row.from_state, row.to_state, row.actor) == ("pending", "pending", None)
    assert "升级" in row.comment
    # The leaders decide now; the head no longer can.
    announcement_approve(announcement=item, actor=leader, now=at(2025, 10, 10, 11, 0))
    item.refresh_from_db()
    assert item.current_step == 2


def test_the_reminder_reaches_a_role_s_holders_and_their_delegates_never_the_author(
    author, leader, leader2
):
    item = announcement_draft(author=author, category_code="emergency")  # 2 hours, a leader
    announcement_submit(announcement=item, actor=author, now=at(2025, 11, 17, 9, 0))
    secretary = UserFactory(username="secretary")
    DelegationFactory(
        approver=leader,
        delegate=secretary,
        starts_on=dt.date(2025, 11, 17),
        ends_on=dt.date(2025, 11, 17),
    )
    result = approvals_escalate(now=at(2025, 11, 17, 15, 0), actor=TASK)
    assert (result.reminded, result.told) == (1, 3)
    assert [len(reminders(u)) for u in (leader, leader2, secretary, author)] == [1, 1, 1, 0]


def test_an_approver_without_an_email_address_is_told_in_the_app_and_the_digest_carries_it(
    author, department_head, django_capture_on_commit_callbacks
):
    assert department_head.email == ""
    item = _submitted(author, at(2025, 11, 17))  # due Tuesday 10:00
    with django_capture_on_commit_callbacks(execute=True):
        approvals_escalate(now=at(2025, 11, 18, 12, 0), actor=TASK)
    [notice] = reminders(department_head)
    assert notice.url == reverse("admin:announcements_announcement_change", args=[item.pk])
    assert not EmailDelivery.objects.exists()
    assert not mail.outbox

    # With an address, the evening's digest carries the reminder.
    department_head.email = "head@example.com"
    department_head.save()
    assert digests_compose() == 1
    digest = EmailDelivery.objects.get(recipient=department_head)
    assert notice.title in digest.body
    assert Notice.objects.get(pk=notice.pk).digest == digest


def test_an_approver_who_turned_email_off_is_told_in_the_app_only(author, department_head):
    department_head.email = "head@example.com"
    department_head.save()
    EmailPreference.objects.create(user=department_head, email_on=False)
    _submitted(author, at(2025, 11, 17))
    approvals_escalate(now=at(2025, 11, 18, 12, 0), actor=TASK)
    assert len(reminders(department_head)) == 1
    assert digests_compose() == 0


def test_a_make_up_saturday_counts_as_a_working_day(author, department_head, national_day):
    item = _submitted(author, at(2025, 10, 10))  # Friday before the 调休 Saturday
    assert item.steps.get(position=1).due_at == at(2025, 10, 11)
    assert approvals_escalate(now=at(2025, 10, 11, 11, 0), actor=TASK).reminded == 1


def test_escalation_goes_to_the_head_above_when_there_is_one(author, department_head, leader):
    parent = department_get_or_create_by_path(path="营销中心")
    sales = department_get_or_create_by_path(path="销售部")
    sales.parent = parent
    sales.save()
    boss = EmployeeFactory(name="总监", department=parent, user=UserFactory(username="boss"))
    department_set_head(department=parent, head=boss)
    item = _submitted(author, at(2025, 11, 17))  # Monday; due Tuesday 10:00
    assert approvals_escalate(now=at(2025, 11, 19, 10, 0), actor=TASK).escalated == 1
    step = item.steps.get(position=1)
    assert (step.approver_kind, step.approver) == (ApproverKind.DEPARTMENT_HEAD, boss.user)
    # The head passed over may no longer decide it: their 待审批 and reminder are settled;
    # the head above is asked.
    asked = Notice.objects.filter(subject_key__startswith="announcement-step:")
    assert not asked.filter(recipient=department_head, read_at__isnull=True).exists()
    assert not [n for n in reminders(department_head) if n.read_at is None]
    assert asked.filter(recipient=boss.user, read_at__isnull=True).exists()
    announcement_approve(announcement=item, actor=boss.user, now=at(2025, 11, 19, 11, 0))


def test_a_leader_step_has_no_level_above_and_is_only_reminded(author, leader):
    item = announcement_draft(author=author, category_code="emergency")  # 2 hours, a leader
    announcement_submit(announcement=item, actor=author, now=at(2025, 11, 17, 9, 0))
    result = approvals_escalate(now=at(2025, 11, 17, 15, 0), actor=TASK)
    assert (result.reminded, result.escalated, result.told) == (1, 0, 1)
    [notice] = reminders(leader)
    assert "任一公司领导" in notice.body


def test_the_task_run_twice_reminds_once(author, department_head):
    item = _submitted(author, at(2025, 11, 17))
    late = at(2025, 11, 18, 12, 0).isoformat()
    first = escalate_approvals.apply(kwargs={"now": late}).get()
    second = escalate_approvals.apply(kwargs={"now": late}).get()
    assert (first["reminded"], second["reminded"]) == (1, 0)
    assert (first["told"], second["told"]) == (1, 0)
    assert ApprovalReminder.objects.filter(step__announcement=item).count() == 1


def test_decided_and_withdrawn_items_are_left_alone(author, department_head, leader):
    item = _submitted(author, at(2025, 11, 17))
    announcement_approve(announcement=item, actor=department_head, now=at(2025, 11, 17, 11, 0))
    announcement_approve(announcement=item, actor=leader, now=at(2025, 11, 17, 12, 0))
    assert Announcement.objects.get(pk=item.pk).state == Announcement.State.APPROVED
    result = approvals_escalate(now=at(2025, 12, 1), actor=TASK)
    assert (result.reminded, result.escalated) == (0, 0)


@pytest.mark.parametrize("active_zone", ["UTC", "America/Los_Angeles"])
def test_a_reminder_s_day_is_shanghai_s_whatever_zone_is_active(
    author, department_head, active_zone
):
    item = _submitted(author, at(2025, 11, 17))
    step = item.steps.get(position=1)
    assert step.due_at == at(2025, 11, 18)
    late_evening = at(2025, 11, 18, 23, 30)  # 15:30 UTC
    after_midnight = at(2025, 11, 19, 0, 30)  # 16:30 UTC: still the 18th in UTC
    with timezone.override(active_zone):
        assert approvals_escalate(now=late_evening, actor=TASK).reminded == 1
        assert approvals_escalate(now=after_midnight, actor=TASK).reminded == 1  # a new day
    assert list(step.reminders.order_by("sent_on").values_list("sent_on", flat=True)) == [
        dt.date(2025, 11, 18),
        dt.date(2025, 11, 19),
    ]
