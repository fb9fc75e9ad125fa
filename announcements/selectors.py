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
from groups.selectors import eligible_employee_ids, groups_of_employee
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


def company_date(now: dt.datetime | None = None) -> dt.date:
    """The date at ``now`` (default: now) in the company's zone (Asia/Shanghai, the default
    time zone) — whatever zone a request activated: a delegation's dates are the company's."""
    return timezone.localdate(now, timezone.get_default_timezone())


def role_kinds(user) -> set[str]:
    """The role steps ``user`` may decide directly: exactly ``user.has_perm`` (an active user
    with the right, or an active superuser), as workflow.decide_authority asks it."""
    if not user.is_active:
        return set()
    return {kind for kind, perm in ROLE_PERMISSIONS.items() if user.has_perm(perm)}


def _role_kinds_of(user_ids: list[int]) -> dict[int, set[str]]:
    """``role_kinds`` of each of ``user_ids``, one query per role (superusers included, as
    ``has_perm`` includes them; role_holders, the reminders' recipients, does not)."""
    kinds: dict[int, set[str]] = {pk: set() for pk in user_ids}
    if not user_ids:
        return kinds
    for kind, perm in ROLE_PERMISSIONS.items():
        holders = (
            get_user_model()
            .objects.with_perm(
                perm,
                include_superusers=True,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            .filter(is_active=True, pk__in=user_ids)
            .values_list("pk", flat=True)
        )
        for pk in holders:
            kinds[pk].add(kind)
    return kinds


def _step_of_q(user_id: int, kinds: set[str]) -> Q:
    """AnnouncementStep rows a person decides directly: theirs, or a role's they hold."""
    return Q(approver_id=user_id) | Q(approver__isnull=True, approver_kind__in=kinds)


def active_delegator_ids(user, *, today: dt.date) -> list[int]:
    """Whoever delegated to ``user`` for ``today`` (both ends of the range included)."""
    return list(
        Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today)
        .values_list("approver_id", flat=True)
        .distinct()
    )


def step_decidable_q(user, *, today: dt.date) -> Q:
    """AnnouncementStep rows ``user`` may decide by who they are: theirs, a role's they hold
    (or a superuser), or those of whoever delegated to them for ``today``. Who they are only:
    announcements_waiting_for adds the author and decide-twice rules."""
    condition = _step_of_q(user.pk, role_kinds(user))
    for delegator, kinds in _role_kinds_of(active_delegator_ids(user, today=today)).items():
        condition |= _step_of_q(delegator, kinds)
    return condition


def _decided_by_or_for(person_id: int) -> Exists:
    """A step of the item's current version decided by ``person_id`` or for them."""
    return Exists(
        AnnouncementStep.objects.filter(
            announcement=OuterRef("pk"), version=OuterRef("version")
        ).filter(Q(decided_by_id=person_id) | Q(decided_for_id=person_id))
    )


def _current_step_in(condition: Q) -> Exists:
    return Exists(
        AnnouncementStep.objects.filter(
            announcement=OuterRef("pk"),
            version=OuterRef("version"),
            position=OuterRef("current_step"),
        ).filter(condition)
    )


def announcements_waiting_for(user, *, today: dt.date | None = None) -> QuerySet[Announcement]:
    """待我审批: exactly the pending items announcement_approve would accept from ``user``
    (tests/announcements/test_inbox_agrees.py enumerates it). Not their own item and none
    where they decided (or were decided for) a step of this version; then either the current
    step is theirs (their own, or a role's they hold), or it is a delegator's — someone who
    delegated to them for ``today`` — and the item is not the delegator's own and no step of
    this version was decided by or for the delegator (workflow.decide_authority, the same
    rules, one delegator at a time)."""
    if not user.is_authenticated:
        return Announcement.objects.none()
    today = today or company_date()
    may: Q = Q(_current_step_in(_step_of_q(user.pk, role_kinds(user))))
    for delegator, kinds in _role_kinds_of(active_delegator_ids(user, today=today)).items():
        may |= (
            Q(_current_step_in(_step_of_q(delegator, kinds)))
            & ~Q(author_id=delegator)
            & ~Q(_decided_by_or_for(delegator))
        )
    return _with_display(
        Announcement.objects.filter(state=State.PENDING)
        .exclude(author=user)
        .exclude(_decided_by_or_for(user.pk))
        .filter(may)
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


def acknowledgements_addressed_to(employee: Employee) -> QuerySet[Announcement]:
    """The published 须确认 items sent to a group ``employee`` belongs in, confirmed or not:
    the only ones their page may act on (any other id is not theirs to know of, §6.1). A few
    queries per group, whatever the number of items."""
    return _with_display(
        Announcement.objects.filter(
            state=State.PUBLISHED,
            requires_acknowledgement=True,
            target_groups__in=groups_of_employee(employee),
        ).distinct()
    )


def acknowledgements_pending_for(employee: Employee) -> QuerySet[Announcement]:
    """The items addressed to ``employee`` (acknowledgements_addressed_to) they have not
    confirmed: their own page shows these until they do."""
    return acknowledgements_addressed_to(employee).exclude(acknowledgements__employee=employee)
