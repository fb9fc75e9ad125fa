"""Reads for the WeChat groups: who is eligible (§4), who may see which group (§5.2)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from groups.models import ChatGroup, EligibilityRule
from members.models import Department, Employee


def rule_q(rule: EligibilityRule) -> Q:
    """The employees one eligibility rule selects (before the §3 'active' filter)."""
    kind = EligibilityRule.Kind
    if rule.kind == kind.DEPARTMENT_HEAD:
        return Q(Exists(Department.objects.filter(head=OuterRef("pk"))))
    if rule.kind == kind.MIN_RANK:
        return Q(rank__gte=rule.min_rank)
    if rule.kind == kind.DEPARTMENT:
        return rule.department.subtree_q("department__")
    if rule.kind == kind.CATEGORY:
        return Q(category=rule.category)
    if rule.kind == kind.EVERYONE:
        return Q()
    raise ValueError(f"unknown eligibility rule kind {rule.kind!r}")


def eligibility_q(group: ChatGroup) -> Q | None:
    """OR of the family's rules; None when the group has no rule (nobody qualifies)."""
    rules = group.rules_group.rules.select_related("department")
    combined: Q | None = None
    for rule in rules:
        q = rule_q(rule)
        if not q:  # EVERYONE: one empty Q makes the whole OR empty
            return Q()
        combined = q if combined is None else combined | q
    return combined


def eligible_employees(group: ChatGroup) -> QuerySet[Employee]:
    """Every employee the group's rules select. Only active employees (§3):
    someone who left is never eligible, whatever their old role."""
    q = eligibility_q(group)
    if q is None:
        return Employee.objects.none()
    return Employee.objects.active().filter(q)


def chat_groups_visible_to(user) -> QuerySet[ChatGroup]:
    """Groups the user may see: all with the model permission (HR, leaders),
    else those they create or administer (object permissions, §5.1/§5.2)."""
    base = ChatGroup.objects.select_related("family", "creator")
    if user.has_perm("groups.view_chatgroup"):
        return base
    return get_objects_for_user(
        user, "groups.view_chatgroup", klass=base, accept_global_perms=False
    )
