"""Reads for directives (§7.2) and questions (§9.9): who sees which, who may do what.

Every list (the admin, the employee's own pages, the follow-up) reads its rows here, so the
permission filter is in the queryset, never only in the buttons shown.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from common.actors import Actor, is_system
from common.permissions import objects_for_user
from directives.models import Directive, DirectiveAssignment, Question
from groups.models import ChatGroup
from members.models import Employee
from members.selectors import headed_departments_q

ACCEPT_PERMISSION = "directives.accept_directive"  # HR: accept or reopen any assignment
ISSUE_PERMISSION = "directives.issue_directive"  # company leaders (and heads), §7.2
GROUP_PERMS = ["groups.moderate", "groups.manage_roster"]  # a group's admins and creator


def run_groups(user) -> QuerySet[ChatGroup]:
    """Groups the user administers or created (object permissions, §5.1/§5.2)."""
    return objects_for_user(
        user, GROUP_PERMS, klass=ChatGroup, any_perm=True, accept_global_perms=False
    )


def user_employee(user) -> Employee | None:
    if user is None or not user.is_authenticated or is_system(user):
        return None
    try:
        return user.employee
    except Employee.DoesNotExist:
        return None


def may_issue(employee: Employee) -> bool:
    """§7.2: a company leader (the role's permission) or a department head."""
    if employee.is_department_head:
        return True
    user = employee.user
    return user is not None and user.is_active and user.has_perm(ISSUE_PERMISSION)


def is_hr(actor: Actor) -> bool:
    return not is_system(actor) and actor.has_perm(ACCEPT_PERMISSION)


# -- directives --------------------------------------------------------------------------


def directives_visible_to(user) -> QuerySet[Directive]:
    """HR (view permission) all; the issuer theirs; a department head those with an assignee
    in their departments (§9.12); a group's admins and creator their groups'; an assignee
    their own."""
    qs = Directive.objects.select_related("issuer", "group", "created_by__employee")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.has_perm("directives.view_directive"):
        return qs
    scoped = headed_departments_q(user, "employee__department__") | Q(employee__user=user)
    assigned = DirectiveAssignment.objects.filter(scoped, directive=OuterRef("pk"))
    return qs.filter(Q(issuer__user=user) | Q(group__in=run_groups(user)) | Exists(assigned))


def assignments_of(user) -> QuerySet[DirectiveAssignment]:
    """The user's own assignments (their page), newest directive first."""
    return (
        DirectiveAssignment.objects.filter(employee__user=user)
        .select_related("directive__issuer", "directive__group", "employee")
        .order_by("-directive__given_at", "-pk")
    )


def may_decide_assignment(actor: Actor, assignment: DirectiveAssignment) -> bool:
    """HR or the directive's issuer (the system too); never the assignee themselves."""
    if is_system(actor):
        return True
    if assignment.employee.user_id == actor.pk:
        return False
    return is_hr(actor) or assignment.directive.issuer.user_id == actor.pk


def may_record_directive(actor: Actor, group: ChatGroup, issuer: Employee) -> bool:
    """HR, the issuer themselves, or the group's admins and creator (§5.2: 交办事项督办)."""
    if is_system(actor) or actor.has_perm("directives.add_directive"):
        return True
    if issuer.user_id == actor.pk:
        return True
    return run_groups(actor).filter(pk=group.pk).exists()


# -- questions ---------------------------------------------------------------------------


def questions_visible_to(user) -> QuerySet[Question]:
    """HR all; a head their departments' (sub-departments included); a group's admins and
    creator their groups'; the asker and the recorder theirs."""
    qs = Question.objects.select_related(
        "group", "department__head__user", "raised_by__user", "recorded_by__employee"
    )
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.has_perm("directives.view_question"):
        return qs
    return qs.filter(
        headed_departments_q(user, "department__")
        | Q(group__in=run_groups(user))
        | Q(raised_by__user=user)
        | Q(recorded_by=user)
    )


def questions_for_me(user) -> QuerySet[Question]:
    """The employee's page: questions they raised or recorded, and those their departments
    must answer — their own, even for HR (not every question of the company)."""
    return (
        Question.objects.select_related("group", "department__head", "head", "raised_by__user")
        .filter(
            Q(department__head__user=user)
            | Q(head__user=user)
            | Q(raised_by__user=user)
            | Q(recorded_by=user)
        )
        .order_by("-raised_at", "-pk")
    )


def may_record_question(actor: Actor, group: ChatGroup, raised_by: Employee | None) -> bool:
    """HR, the group's admins and creator, or the employee raising it themselves (§9.9)."""
    if is_system(actor) or actor.has_perm("directives.add_question"):
        return True
    if raised_by is not None and raised_by.user_id == actor.pk:
        return True
    return run_groups(actor).filter(pk=group.pk).exists()


def is_answering_head(actor: Actor, question: Question) -> bool:
    """The head stored when it was raised (who answers for it) or the department's head now."""
    if is_system(actor):
        return True
    heads = (question.head, question.department.head)
    return any(head is not None and head.user_id == actor.pk for head in heads)


def may_reply(actor: Actor, question: Question) -> bool:
    """The responsible department's head (§9.9: 相关部门负责人), or HR recording the reply
    the head gave in the group (a head without a login is not let off) — not HR about a
    question HR's own employee raised (nobody decides about themselves)."""
    if is_answering_head(actor, question):
        return True
    asker = question.raised_by
    return is_hr(actor) and (asker is None or asker.user_id != actor.pk)


def may_confirm(actor: Actor, question: Question) -> bool:
    """The asker; for an asker without a login (or not an employee), whoever recorded it."""
    if is_system(actor):
        return True
    asker = question.raised_by
    if asker is not None and asker.user_id is not None:
        return asker.user_id == actor.pk
    return question.recorded_by_id == actor.pk
