"""Approval routes (§4): which steps an item needs, who each step's approver is, and the
routes seeded from the policy.

Several target groups: the steps of every group's route, each approver once
(one group: its route's order as it is) (the same
kind and person keep the shortest time limit), ordered from the lowest level to the
highest — department head, named person, HR, company leader — so the company leader's
word is the last; 事后复核 when any of the routes asks for it. A group without a route for
the category needs one company leader (DEFAULT_STEPS: never less than that by omission);
a route without steps, or only such routes, needs none: approved at once (欢乐谷's
greetings). A group family shares its root's routes (ChatGroup.rules_group).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from announcements.models import ApprovalRoute, ApprovalStep, ApproverKind, TimeUnit
from announcements.services.errors import (
    ERROR_NO_DEPARTMENT_HEAD,
    ERROR_NO_EMPLOYEE,
    AnnouncementError,
)
from groups.models import ChatGroup, ContentKind
from groups.policy_data import CONTENT_KINDS
from members.models import Department, Employee

# The order of the levels in a combined route: lowest first.
LEVEL = {
    ApproverKind.DEPARTMENT_HEAD: 0,
    ApproverKind.NAMED: 1,
    ApproverKind.HR: 2,
    ApproverKind.COMPANY_LEADER: 3,
}


@dataclass(frozen=True)
class StepSpec:
    approver_kind: str
    time_limit: int = 1
    time_unit: str = TimeUnit.WORKING_DAYS
    approver_id: int | None = None  # 指定人员 only

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.approver_kind, self.approver_id)


DEFAULT_STEPS = [StepSpec(ApproverKind.COMPANY_LEADER)]


@dataclass(frozen=True)
class Plan:
    steps: list[StepSpec]
    review_after: bool


def route_plan(*, category: ContentKind, groups: Iterable[ChatGroup]) -> Plan:
    """The steps an item of ``category`` for ``groups`` needs (module docstring); two
    queries whatever the number of groups."""
    roots = {group.rules_group.pk for group in groups}
    routes = {
        route.group_id: route
        for route in ApprovalRoute.objects.filter(
            group_id__in=roots, category=category
        ).prefetch_related("steps")
    }
    chosen: dict[tuple[str, int | None], StepSpec] = {}
    review_after = False
    for root in sorted(roots):
        route = routes.get(root)
        specs = (
            [
                StepSpec(s.approver_kind, s.time_limit, s.time_unit, s.approver_id)
                for s in route.steps.all()
            ]
            if route
            else DEFAULT_STEPS
        )
        review_after = review_after or bool(route and route.review_after)
        for spec in specs:
            kept = chosen.get(spec.key)
            if kept is None or _hours(spec) < _hours(kept):
                chosen[spec.key] = spec
    steps = list(chosen.values())  # one group: its route's own order
    if len(roots) > 1:
        steps.sort(key=lambda s: (LEVEL[ApproverKind(s.approver_kind)], str(s.key)))
    return Plan(steps=steps, review_after=review_after)


def _hours(spec: StepSpec) -> int:
    # To compare limits only: a working day as 24 hours.
    return spec.time_limit * (24 if spec.time_unit == TimeUnit.WORKING_DAYS else 1)


def head_above(employee: Employee, *, start: Department | None = None):
    """The login of the first head of ``start`` (default: the employee's department) or of a
    department above it who is not ``employee`` themselves, active and with a login; None
    when the tree has none. §4: the head approves for their department, and a head's own
    item goes to the head above them."""
    department: Department | None = start or employee.department
    while department is not None:
        head = department.head
        if (
            head is not None
            and head.pk != employee.pk
            and head.is_active
            and head.user_id is not None
        ):
            return head.user
        department = department.parent
    return None


# §4: the head of a top department (HR's, 总经办's) has nobody above in the tree; the company
# leaders are above every department, so their 部门负责人 step goes to 任一公司领导.
NOTE_TOP_HEAD = (
    "{name}是最上级部门的负责人，上面没有部门负责人：“部门负责人”环节改由任一公司领导审批"
)
NOTE_MERGED = "；与后面的“任一公司领导”环节合为一个（取较短的时限）"


@dataclass(frozen=True)
class ResolvedSteps:
    steps: list[StepSpec]  # approver_id filled for a 部门负责人 step
    note: str = ""  # why a step changed, for the timeline


def heads_a_top_department(employee: Employee) -> bool:
    """Whether ``employee`` heads their department or one above it (and, head_above having
    found nobody, there is no other head above)."""
    department: Department | None = employee.department
    while department is not None:
        if department.head_id == employee.pk:
            return True
        department = department.parent
    return False


def resolve_steps(steps: list[StepSpec], author) -> ResolvedSteps:
    """The plan's steps with the 部门负责人 step's person found now; at the top of the tree
    (a top department's head) that step becomes 任一公司领导, merged with a 任一公司领导 step
    of the same route (the shorter limit kept) so nobody is asked twice."""
    if not any(s.approver_kind == ApproverKind.DEPARTMENT_HEAD for s in steps):
        return ResolvedSteps(list(steps))
    employee = Employee.objects.filter(user=author).select_related("department").first()
    if employee is None:
        raise AnnouncementError(ERROR_NO_EMPLOYEE)
    head = head_above(employee)
    if head is None and not heads_a_top_department(employee):
        raise AnnouncementError(ERROR_NO_DEPARTMENT_HEAD.format(name=employee.name))
    note = ""
    resolved: list[StepSpec] = []
    for spec in steps:
        if spec.approver_kind != ApproverKind.DEPARTMENT_HEAD:
            resolved.append(spec)
        elif head is not None:
            resolved.append(StepSpec(spec.approver_kind, spec.time_limit, spec.time_unit, head.pk))
        else:
            note = NOTE_TOP_HEAD.format(name=employee.name)
            resolved.append(StepSpec(ApproverKind.COMPANY_LEADER, spec.time_limit, spec.time_unit))
    merged: list[StepSpec] = []
    for spec in resolved:
        same = next((i for i, kept in enumerate(merged) if kept.key == spec.key), None)
        if same is None:
            merged.append(spec)
            continue
        note += NOTE_MERGED if note and NOTE_MERGED not in note else ""
        if _hours(spec) < _hours(merged[same]):
            merged[same] = spec
    return ResolvedSteps(merged, note)


# §4, group by group: what the seed creates for each (group code, content kind code) pair.
LEADER = StepSpec(ApproverKind.COMPANY_LEADER)
HEAD = StepSpec(ApproverKind.DEPARTMENT_HEAD)
HR = StepSpec(ApproverKind.HR)
# 应急: any one company leader, within two hours, reviewed after (review_after).
EMERGENCY = StepSpec(ApproverKind.COMPANY_LEADER, 2, TimeUnit.HOURS)
SEED_ROUTES: dict[tuple[str, str], list[StepSpec]] = {
    # 俊马管理群: confidential and high-level matters — a company leader.
    ("management", "confidential"): [LEADER],
    ("management", "major_matters"): [LEADER],
    ("management", "daily_office"): [LEADER],
    ("management", "emergency"): [EMERGENCY],
    # 俊马产销管理机制: the department's business — its head.
    ("production_sales", "sales_production"): [HEAD],
    ("production_sales", "work_communication"): [HEAD],
    # 俊马工作群: "经部门领导、公司领导批准发布" — the department head, then a company leader.
    ("work", "news"): [HEAD, LEADER],
    ("work", "plans_summaries"): [HEAD, LEADER],
    ("work", "notices"): [HEAD, LEADER],
    ("work", "approved_release"): [HEAD, LEADER],
    ("work", "work_communication"): [HEAD],
    ("work", "emergency"): [EMERGENCY],
    ("work", "holiday_greetings"): [HR],  # the company's greetings go out through HR
    # 俊马欢乐谷: greetings and leisure need nobody.
    ("leisure", "holiday_greetings"): [],
    ("leisure", "leisure"): [],
}
REVIEW_AFTER = {"emergency"}


@transaction.atomic
def approval_route_seed() -> list[ApprovalRoute]:
    """Create the routes of SEED_ROUTES that are missing (a group or kind not seeded is
    skipped); never changes a route HR has edited. Three queries when nothing is missing.
    Returns the routes it created."""
    groups = {g.code: g for g in ChatGroup.objects.filter(code__in={g for g, _ in SEED_ROUTES})}
    kinds = {k.code: k for k in ContentKind.objects.filter(code__in=CONTENT_KINDS)}
    existing = set(
        ApprovalRoute.objects.filter(group__in=groups.values()).values_list(
            "group_id", "category_id"
        )
    )
    created = []
    for (group_code, kind_code), specs in SEED_ROUTES.items():
        group, kind = groups.get(group_code), kinds.get(kind_code)
        if group is None or kind is None or (group.pk, kind.pk) in existing:
            continue  # not seeded, or already there as HR left it
        route = ApprovalRoute.objects.create(
            group=group,
            category=kind,
            review_after=kind_code in REVIEW_AFTER,
            note="按制度第四条初始化",
        )
        ApprovalStep.objects.bulk_create(
            ApprovalStep(
                route=route,
                position=position,
                approver_kind=spec.approver_kind,
                time_limit=spec.time_limit,
                time_unit=spec.time_unit,
            )
            for position, spec in enumerate(specs, start=1)
        )
        created.append(route)
    return created
