"""Reads: the approver's inbox (待我审批), what they decided, and who still has to confirm
having read an item. Filtered in the queryset, so the admin, its counts and the tasks see the
same rows; the query count is flat as items grow (tests/announcements/test_selectors.py).

Who an item is for (its readers): the employees eligible for its target groups — the
groups' rules plus HR's approved exceptions (groups.selectors.eligible_employee_ids) —
rather than whoever a WeChat roster happened to list: the policy says who belongs in a group
(§4), a stranger in the roster is no employee to ask, and someone missing from it still has
to read the item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from announcements.models import (
    Acknowledgement,
    Announcement,
    AnnouncementStep,
    ApproverKind,
    Delegation,
)
from groups.models import ChatGroup
from groups.selectors import eligible_employee_ids
from members.models import Employee

State = Announcement.State
# The right that lets a person decide a role step (company.roles grants them).
ROLE_PERMISSIONS = {
    ApproverKind.COMPANY_LEADER: "announcements.approve_as_leader",
    ApproverKind.HR: "announcements.approve_as_hr",
}


def _with_display(qs: QuerySet[Announcement]) -> QuerySet[Announcement]:
    return qs.select_related("author", "category").prefetch_related("target_groups")


def role_holders(kind: str):
    """The active logins holding a role step's right (任一公司领导, 人力资源部) through their
    roles or themselves; superusers left out: every right is theirs, no role is."""
    return (
        get_user_model()
        .objects.with_perm(
            ROLE_PERMISSIONS[ApproverKind(kind)],
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",  # the model rights
        )
        .filter(is_active=True)
    )


def _role_kinds(user_ids: list[int]) -> set[str]:
    """The role steps any of ``user_ids`` holds the right for (one query per role)."""
    if not user_ids:
        return set()
    return {
        kind for kind in ROLE_PERMISSIONS if role_holders(kind).filter(pk__in=user_ids).exists()
    }


def step_decidable_q(user, *, today: dt.date) -> Q:
    """AnnouncementStep rows ``user`` may decide by who they are: theirs, a role's they hold
    (or a superuser), or those of whoever delegated to them for ``today``."""
    delegators = list(
        Delegation.objects.filter(
            delegate=user, starts_on__lte=today, ends_on__gte=today
        ).values_list("approver_id", flat=True)
    )
    kinds = {
        kind for kind, perm in ROLE_PERMISSIONS.items() if user.is_active and user.has_perm(perm)
    } | _role_kinds(delegators)
    return Q(approver_id__in=[user.pk, *delegators]) | Q(
        approver__isnull=True, approver_kind__in=kinds
    )


def announcements_waiting_for(user, *, today: dt.date | None = None) -> QuerySet[Announcement]:
    """待我审批: the pending items whose current step ``user`` may decide — directly, by a
    role's right, or as an active delegate — leaving out their own items and those where they
    already decided a step of this version (they may not decide twice)."""
    if not user.is_authenticated:
        return Announcement.objects.none()
    today = today or timezone.localdate()
    steps = AnnouncementStep.objects.filter(
        announcement=OuterRef("pk"), version=OuterRef("version")
    )
    waiting = steps.filter(position=OuterRef("current_step")).filter(
        step_decidable_q(user, today=today)
    )
    decided = steps.filter(Q(decided_by=user) | Q(decided_for=user))
    return _with_display(
        Announcement.objects.filter(state=State.PENDING)
        .exclude(author=user)
        .filter(Exists(waiting))
        .exclude(Exists(decided))
    )


def announcements_waiting_count(user, *, today: dt.date | None = None) -> int:
    return announcements_waiting_for(user, today=today).count()


def announcements_decided_by(user) -> QuerySet[Announcement]:
    """The items ``user`` decided a step of, themselves or as a delegate, any version."""
    decided = AnnouncementStep.objects.filter(announcement=OuterRef("pk"), decided_by=user)
    return _with_display(Announcement.objects.filter(Exists(decided)))


def announcement_target_employee_ids(
    announcement: Announcement, *, among: Iterable[int] | None = None
) -> set[int]:
    """The ids of the item's readers (module docstring): a few queries per target group."""
    among = None if among is None else list(among)
    ids: set[int] = set()
    for group in announcement.target_groups.select_related("family"):
        ids |= eligible_employee_ids(group, among=among)
    return ids


def announcement_unacknowledged_employees(announcement: Announcement) -> QuerySet[Employee]:
    """The readers of a 须确认 item who have not confirmed it yet (what the author sees)."""
    if not announcement.requires_acknowledgement:
        return Employee.objects.none()
    return (
        Employee.objects.filter(pk__in=announcement_target_employee_ids(announcement))
        .exclude(
            Exists(
                Acknowledgement.objects.filter(announcement=announcement, employee=OuterRef("pk"))
            )
        )
        .select_related("department")
        .order_by("department__path", "employee_no")
    )


def acknowledgements_pending_for(employee: Employee) -> QuerySet[Announcement]:
    """The published 须确认 items sent to a group ``employee`` belongs in that they have not
    confirmed: their own page shows these until they do. A few queries per group, whatever
    the number of items."""
    groups = [
        group.pk
        for group in ChatGroup.objects.filter(is_active=True).select_related("family")
        if employee.pk in eligible_employee_ids(group, among=[employee.pk])
    ]
    return _with_display(
        Announcement.objects.filter(
            state=State.PUBLISHED,
            requires_acknowledgement=True,
            target_groups__in=groups,
        )
        .exclude(acknowledgements__employee=employee)
        .distinct()
    )
