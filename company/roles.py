"""The roles of the policy as Django auth groups, with their model permissions.

Object-level rights (a group's creator and admins on that group) are not here:
groups.services grants them when a group is staffed. The roles name permissions of every
app, so they live in company, above them all (docs/architecture.md).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import Group, Permission
from django.db import transaction

# The names HR sees in the admin (用户组). Renamed from English ones by the data migration
# members/0003_role_names_in_chinese; refer to a role only through these constants.
HR = "人力资源部"  # §7.1: 人力资源部 supervises everything
FINANCE = "财务"  # turns appraisal results into pay
COMPANY_LEADERS = "公司领导"  # approve announcements, issue directives (§7.2)
DEPARTMENT_HEADS = "部门负责人"  # §9.12: supervise their own department
GROUP_ADMINS = "群管理员"  # §5.2: content admins of a group

OUR_APPS = (
    "workdays",
    "members",
    "groups",
    "violations",
    "appraisal",
    "screening",  # HR's screening rules, the imported chats and the review queue (§5.2)
    "directives",
    "announcements",  # routes and delegations are HR's data; approve_as_leader taken away
)

# "app.codename" strings per role; "app.*" means every permission of the app.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    # HR holds announcements.* too (§4: a route's 人力资源部 steps, postings, routes and
    # delegations), except a company leader's approval (ROLE_FORBIDDEN).
    # The emails sent to people: HR reads them and tries a failed one again (change_emaildelivery:
    # 立即重试); the notices themselves are their recipients' own.
    HR: [
        *(f"{app}.*" for app in OUR_APPS),
        "notices.view_emaildelivery",
        "notices.change_emaildelivery",
    ],
    # Finance sees every case for the appraisal, never its evidence (no view_evidence);
    # exports results and imports its pay sheet; HR alone computes and locks (§7.1).
    FINANCE: [
        "members.view_employee",
        "members.view_department",
        "violations.view_rule",
        "violations.view_case",
        "appraisal.view_period",
        "appraisal.view_result",
        "appraisal.view_line",
        "appraisal.view_gradeband",
        "appraisal.view_settlement",
        "appraisal.view_settlementimport",
        "appraisal.export_period",
        "appraisal.import_settlement",
    ],
    COMPANY_LEADERS: [
        "announcements.approve_as_leader",  # §4: a route's 任一公司领导 steps, 应急 review
        "members.view_employee",
        "members.view_department",
        "members.view_position",
        "groups.view_chatgroup",
        "groups.view_eligibilityrule",
        "violations.view_rule",
        "violations.view_case",
        "appraisal.view_period",
        "appraisal.view_result",
        "appraisal.view_line",
        "appraisal.view_gradeband",
        "directives.issue_directive",  # §7.2
        "directives.view_question",  # §9.9: every question raised in a group and its answer
        "appraisal.view_fairness_report",  # §7.1: that the rules are applied evenly
    ],
    # §9.12: a head's cases, results and roster findings are their departments' — scoped by the
    # selectors (violations.selectors.cases_visible_to, groups.selectors.findings_visible_to),
    # not granted here: a model permission such as groups.view_finding would mean every row.
    DEPARTMENT_HEADS: ["members.view_employee", "members.view_department", "violations.view_rule"],
    GROUP_ADMINS: ["members.view_employee", "violations.view_rule"],
}


# Rights a role must never hold, taken away even if an earlier seed granted them.
ROLE_FORBIDDEN: dict[str, list[str]] = {
    HR: ["announcements.approve_as_leader"],  # a company leader's word, not HR's
    FINANCE: ["appraisal.compute_period", "appraisal.lock_period", "violations.view_evidence"],
}


def _permissions(specs: list[str]) -> list[Permission]:
    """The permissions ``specs`` name ("app.*": every permission of the app), in one query
    (seed_roles runs on every seed_policy and demo: a query per spec grew with each app)."""
    if not specs:
        return []
    wanted = [spec.split(".") for spec in specs]
    by_app: dict[str, dict[str, list[Permission]]] = defaultdict(lambda: defaultdict(list))
    found = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted}
    ).select_related("content_type")
    for permission in found:
        by_app[permission.content_type.app_label][permission.codename].append(permission)
    perms: list[Permission] = []
    for app, codename in wanted:
        if codename == "*":
            perms.extend(p for same_name in by_app[app].values() for p in same_name)
        elif by_app[app][codename]:
            perms.extend(by_app[app][codename])
        else:
            raise LookupError(f"no permission {app}.{codename}")
    return perms


@transaction.atomic
def seed_roles() -> dict[str, Group]:
    """Create the role groups and add their permissions; HR's own additions stay, except
    the few a role must never hold (ROLE_FORBIDDEN)."""
    roles = {}
    for name, specs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(specs))
        group.permissions.remove(*_permissions(ROLE_FORBIDDEN.get(name, [])))
        roles[name] = group
    return roles
