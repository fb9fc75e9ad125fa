"""Reads about roster findings: the house rules a group adds to the policy (公司规定之外的要求)
and who may see which finding (§9.12 department heads, §6.1 confidential groups). Part of
groups.selectors, which re-exports every name here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from groups import naming
from groups.models import WECHAT_MEMBER_CAP, ChatGroup, EligibilityRule, Finding
from groups.policy_data import GROUPS
from groups.selectors import can_view_roster, roster_groups_visible_to
from members.selectors import headed_departments_q

# -- house rules: a group's settings stricter than the policy ----------------------

HOUSE_RULE_LABEL = "公司规定之外的要求"


def name_breaks_only_house_rule(display_name: str, *, real_name: str, convention: str) -> bool:
    """§5.3.b asks for the real name, nothing more: a display name that is exactly the real
    name breaks only a group's stricter convention (部门-姓名), never the policy."""
    return convention != ChatGroup.NamingConvention.NAME and naming.follows_convention(
        display_name,
        real_name=real_name,
        department_path="",
        convention=ChatGroup.NamingConvention.NAME,
    )


def _rule_key(kind: str, *, min_rank=None, department: str = "", category: str = "") -> tuple:
    return (kind, min_rank, department, category)


def _rule_label(key: tuple) -> str:
    kind, min_rank, department, category = key
    if department:
        return f"{department}（含下属）"
    rule = EligibilityRule(kind=kind, min_rank=min_rank, category=category)
    return str(rule)


def house_rules(group: ChatGroup) -> list[str]:
    """The group's settings stricter than the policy, each as one sentence for HR (shown on
    the group page as 公司规定之外的要求): findings that come only from them are house rules,
    not breaches of the policy.

    - a naming convention other than the real name (§5.3.b asks for the real name);
    - a member cap below WeChat's own (WECHAT_MEMBER_CAP);
    - for the four groups of §4 (by code, policy_data.GROUPS): an eligibility rule of §4's
      text missing from the family's rules (a narrower group than the policy's).
    Two queries at most (the family's rules with their departments).
    """
    rules: list[str] = []
    if group.naming_convention != ChatGroup.NamingConvention.NAME:
        rules.append(
            f"群昵称规范为“{group.get_naming_convention_display()}”：§5.3.b 只要求使用真实姓名，"
            "只写了姓名的成员也会被列为“未使用真实姓名”。"
        )
    if group.member_cap < WECHAT_MEMBER_CAP:
        rules.append(f"人数上限 {group.member_cap} 人，低于微信群上限 {WECHAT_MEMBER_CAP} 人。")
    root = group.rules_group
    spec = next((g for g in GROUPS if g["code"] == root.code), None)
    if spec is not None:
        have = {
            _rule_key(
                r.kind,
                min_rank=r.min_rank,
                department=r.department.path if r.department else "",
                category=r.category,
            )
            for r in root.rules.select_related("department")
        }
        everyone = _rule_key(EligibilityRule.Kind.EVERYONE) in have
        for wanted in spec["rules"]:
            key = _rule_key(
                wanted["kind"],
                min_rank=wanted.get("min_rank"),
                department=wanted.get("department", ""),
                category=wanted.get("category", ""),
            )
            if key not in have and not everyone:
                rules.append(
                    f"入群条件少了 §4 的“{_rule_label(key)}”：符合 §4 的员工可能不被列为应入群。"
                )
    return rules


# -- §9.12: department heads see the roster findings about their own people ----------------


def findings_visible_to(user) -> QuerySet[Finding]:
    """Every roster finding ``user`` may see (the Finding admin's list and pages).

    HR (the model permission ``groups.view_finding``) sees all; a group's admins and creator
    their groups' (roster_groups_visible_to: a confidential group's only to its admins, §6.1);
    a department head also the findings about the people of the departments they head,
    sub-departments included (§9.12), in whichever group — read-only, to supervise, not to
    fix: the to-dos stay with whoever can fix them. A confidential group's finding about
    their own staff is shown too (it is about their person; the group's name is no secret),
    but nothing of that group's roster beyond that person: see finding_seen_as_head_only.
    """
    if not user.is_authenticated:
        return Finding.objects.none()
    if user.has_perm("groups.view_finding"):
        return Finding.objects.all()
    return Finding.objects.filter(
        Q(group__in=roster_groups_visible_to(user))
        | headed_departments_q(user, "employee__department__")
    )


def can_view_finding(user, finding: Finding) -> bool:
    return findings_visible_to(user).filter(pk=finding.pk).exists()


def finding_seen_as_head_only(user, finding: Finding) -> bool:
    """True when ``user`` sees ``finding`` only as the head of its person's department
    (§9.12), not as HR nor through the group's roster. Such a finding in a confidential
    group (§6.1) shows its person and what is wrong, not who else is in the group: its
    inviter (another member) is left out of the page."""
    return not user.has_perm("groups.view_finding") and not can_view_roster(user, finding.group)


def heads_confidential_findings(user) -> bool:
    """Does ``user`` see, only as a department head, a finding in a confidential group whose
    roster they may not see? Then the list leaves out what names other members (§6.1)."""
    if not user.is_authenticated or user.has_perm("groups.view_finding"):
        return False
    return (
        findings_visible_to(user)
        .filter(group__is_confidential=True)
        .exclude(group__in=roster_groups_visible_to(user))
        .exists()
    )
