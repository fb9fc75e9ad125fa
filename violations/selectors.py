"""Reads for violations: who may see, file, appeal which case (§5.2, §7.1, §9.12)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from common.permissions import objects_for_user
from groups.models import ChatGroup
from members.selectors import headed_departments_q
from violations.models import Case

GROUP_PERMS = ["groups.moderate", "groups.manage_roster"]


def _run_groups(user) -> QuerySet[ChatGroup]:
    """Groups the user administers or created (object permissions, §5.1/§5.2)."""
    return objects_for_user(
        user, GROUP_PERMS, klass=ChatGroup, any_perm=True, accept_global_perms=False
    )


def _scoped_q(user) -> Q:
    """Cases a user sees without the model permission: their own, their groups'
    (§5.1/§5.2), their departments' (§9.12)."""
    return (
        Q(employee__user=user)
        | Q(group__in=_run_groups(user))
        | headed_departments_q(user, "employee__department__")
    )


def cases_visible_to(user) -> QuerySet[Case]:
    """Every case ``user`` may see, with what lists show, in one query.

    HR, leaders and finance (the model permission) see all; a group's admins and
    creator see their groups' cases; a department head sees their department's
    (sub-departments included); everyone with a login sees their own.
    """
    qs = Case.objects.select_related(
        "rule", "employee__department", "group", "reported_by", "confirmed_by"
    )
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("violations.view_case"):
        return qs
    return qs.filter(_scoped_q(user)).distinct()


def can_view_case(user, case: Case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def can_view_evidence(user, case: Case) -> bool:
    """Evidence is for those who judge (HR), run the group, head the department, or
    the employee themselves — not for seeing every case for the appraisal (Finance,
    leaders), unless one of those roles applies to this case too."""
    if user.has_perm("violations.view_evidence"):
        return True
    if not user.is_authenticated:
        return False
    return Case.objects.filter(_scoped_q(user), pk=case.pk).exists()


def can_file_case(user, group: ChatGroup | None) -> bool:
    """HR files anywhere; a group's admins and creator file for their group (§5.2, §7.1)."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm("violations.add_case"):
        return True
    return group is not None and _run_groups(user).filter(pk=group.pk).exists()


def groups_user_can_file_for(user) -> QuerySet[ChatGroup]:
    if user.has_perm("violations.add_case"):
        return ChatGroup.objects.all()
    return _run_groups(user)


def proposed_queue() -> QuerySet[Case]:
    """HR's work queue: proposed cases, oldest first, evidence prefetched for thumbnails."""
    return (
        Case.objects.filter(state=Case.State.PROPOSED)
        .select_related("rule", "employee__department", "group", "reported_by")
        .prefetch_related("evidence")
        .order_by("created_at", "pk")
    )
