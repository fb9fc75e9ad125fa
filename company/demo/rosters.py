"""Demo rosters: what HR really meets when it copies a WeChat member list.

For each group of the demo company, a member list built from the group's
eligible employees, with the usual anomalies mixed in — a departed colleague
still in the group, a stranger, a nickname, same-name colleagues without their
department, someone missing, someone who does not belong — plus a snapshot a
week earlier, so that someone leaving the group shows too (§9.5). Groups whose
eligible staff exceed WeChat's 500 get family groups (俊马欢乐谷2群 …).

Deterministic for a seed; running it again adds nothing (a group that already
has a snapshot is left alone).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from company.demo import DEMO
from groups import naming, selectors
from groups.models import ChatGroup, RosterSnapshot
from groups.services.roster import RosterRow, roster_snapshot_create
from groups.services.runs import reconcile_now
from members.models import Employee

# Room under WeChat's 500 for the anomalies added to each list.
GROUP_CAPACITY = 480
STRANGERS = ["快递小哥", "王师傅（外协）", "保险顾问小刘", "Lily🌸", "装修队老周", "房产中介-小陈"]
NICKNAME_DECORATIONS = ["🌸", "😊", "～", "🍀", "(休假中)"]


@dataclass(frozen=True)
class DemoRosterSummary:
    groups: int
    new_groups: int
    snapshots: int
    members: int


@transaction.atomic
def demo_family_groups(*, capacity: int = GROUP_CAPACITY) -> list[ChatGroup]:
    """Add family groups (代码 leisure-2, 名称 俊马欢乐谷2群 …) where one WeChat group cannot hold
    everyone eligible; returns the groups that were created."""
    created = []
    for root in ChatGroup.objects.filter(family=None, is_active=True).order_by("code"):
        eligible = selectors.eligible_employees(root).count()
        needed = max(1, -(-eligible // capacity))
        for number in range(2, needed + 1):
            group, made = ChatGroup.objects.get_or_create(
                code=f"{root.code}-{number}",
                defaults={
                    "name": f"{root.name}{number}群",
                    "family": root,
                    "creator": root.creator,
                    "naming_convention": root.naming_convention,
                    "is_confidential": root.is_confidential,
                },
            )
            if made:
                group.admins.set(root.admins.all())
                created.append(group)
    return created


# A house rule the demo shows (公司规定之外的要求): 俊马产销管理机制 asks for 部门-姓名, stricter
# than §5.3.b's real name; the other groups follow the policy's 姓名.
HOUSE_RULE_GROUP = "production_sales"


def _display(employee: Employee, convention: str) -> str:
    """How a compliant member shows in a group of ``convention`` (§5.3.b)."""
    return naming.suggested_display_name(
        real_name=employee.name,
        department_name=employee.department.name,
        convention=convention,
    )


def demo_house_rule() -> ChatGroup | None:
    """The demo's one house rule: 俊马产销管理机制 named 部门-姓名 (saved, so its history shows
    HR's choice). Only before its first snapshot: a re-run changes nothing."""
    group = ChatGroup.objects.filter(code=HOUSE_RULE_GROUP).first()
    if (
        group is None
        or RosterSnapshot.objects.filter(group__in=[group, *group.siblings.all()]).exists()
    ):
        return None
    for member in [group, *group.siblings.all()]:
        if member.naming_convention != ChatGroup.NamingConvention.DEPARTMENT_NAME:
            member.naming_convention = ChatGroup.NamingConvention.DEPARTMENT_NAME
            member.save(update_fields=["naming_convention"])
    return group


def build_rosters(
    family: list[ChatGroup], *, rng: random.Random, capacity: int = GROUP_CAPACITY
) -> dict[int, tuple[list[RosterRow], list[RosterRow]]]:
    """group id -> (rows a week ago, rows today) for one family of groups."""
    root = family[0]
    eligible = list(
        selectors.eligible_employees(root).select_related("department").order_by("employee_no")
    )
    eligible_ids = {e.pk for e in eligible}
    outsiders = list(
        Employee.objects.active()
        .exclude(pk__in=eligible_ids)
        .select_related("department")
        .order_by("employee_no")[:50]
    )
    departed = list(
        Employee.objects.filter(status=Employee.Status.LEFT)
        .select_related("department")
        .order_by("employee_no")[:50]
    )
    by_name: dict[str, list[Employee]] = {}
    for e in eligible:
        by_name.setdefault(e.name, []).append(e)
    namesakes = [people for people in by_name.values() if len(people) > 1]

    rng.shuffle(eligible)
    eligible.pop()  # §5.1 someone the creator never added: MISSING
    left_later = eligible.pop() if eligible else None  # §9.5 there last week, gone now
    size = max(1, -(-len(eligible) // len(family)))  # spread evenly over the family
    rosters = {}
    for index, group in enumerate(family):
        people = eligible[index * size : (index + 1) * size]
        convention = group.naming_convention
        rows = [(_display(e, convention), e.wechat_id) for e in people]
        if index == 0:
            rows = _add_anomalies(rows, people, namesakes, outsiders, departed, rng, convention)
        today = [RosterRow(i + 2, name, wechat_id) for i, (name, wechat_id) in enumerate(rows)]
        week_ago = list(today)
        if index == 0 and left_later is not None:
            week_ago.append(
                RosterRow(len(today) + 2, _display(left_later, convention), left_later.wechat_id)
            )
        rosters[group.pk] = (week_ago, today)
    return rosters


def _add_anomalies(rows, people, namesakes, outsiders, departed, rng, convention):
    """rows: (display name, wechat id) pairs of a compliant list; returns them with anomalies."""
    rows = list(rows)

    def display(employee: Employee) -> str:
        return _display(employee, convention)

    # §5.3.c a colleague who left is still in the group (with their WeChat id).
    if departed:
        person = rng.choice(departed)
        rows.append((display(person), person.wechat_id))
    # §5.3.c someone from outside.
    rows.append((rng.choice(STRANGERS), ""))
    # §5.3.b a nickname instead of the real name (matched by the WeChat id).
    with_id = [e for e in people if e.wechat_id]
    if with_id:
        person = rng.choice(with_id)
        rows.remove((display(person), person.wechat_id))
        rows.append((person.name[1:] + rng.choice(NICKNAME_DECORATIONS), person.wechat_id))
        with_id.remove(person)
    # Under a 部门-姓名 house rule: someone shown by their real name alone — all §5.3.b asks,
    # so the finding says it is the group's own rule (公司规定之外的要求).
    if convention == ChatGroup.NamingConvention.DEPARTMENT_NAME and with_id:
        person = rng.choice(with_id)
        rows[rows.index((display(person), person.wechat_id))] = (person.name, person.wechat_id)
    # Same-name colleagues, one without department or WeChat id: ambiguous, for HR to resolve.
    for pair in namesakes:
        shown = [e for e in pair if (display(e), e.wechat_id) in rows]
        if shown:
            person = shown[0]
            rows[rows.index((display(person), person.wechat_id))] = (person.name, "")
            break
    # §5.3.a someone who does not qualify for this group.
    if outsiders:
        person = rng.choice(outsiders)
        rows.append((display(person), person.wechat_id))
    return rows


@transaction.atomic
def demo_rosters_apply(
    *, seed: int, now: dt.datetime | None = None, reconcile: bool = True
) -> DemoRosterSummary:
    """Give every demo group without a snapshot two (a week ago, today) and reconcile them
    (``reconcile=False``: leave that to the caller, as the benchmark does to time it)."""
    now = now or timezone.now()
    demo_house_rule()
    new_groups = demo_family_groups()
    families: dict[int, list[ChatGroup]] = {}
    for group in ChatGroup.objects.filter(is_active=True).select_related("family").order_by("code"):
        families.setdefault(group.rules_group.pk, []).append(group)
    snapshots = members = 0
    touched = []
    for family in families.values():
        family.sort(key=lambda g: (g.family_id is not None, len(g.code), g.code))
        if RosterSnapshot.objects.filter(group__in=family).exists():
            continue
        rng = random.Random(f"{seed}:{family[0].code}")
        for group_id, (week_ago, today) in build_rosters(family, rng=rng).items():
            group = next(g for g in family if g.pk == group_id)
            if not today:
                continue
            for rows, taken_at in (
                (week_ago, now - dt.timedelta(days=7)),
                (today, now - dt.timedelta(hours=1)),
            ):
                roster_snapshot_create(group=group, rows=rows, taken_at=taken_at, actor=DEMO)
            snapshots += 2
            members += len(today)
            touched.append(group)
    if touched and reconcile:
        reconcile_now(groups=touched, actor=DEMO)
    return DemoRosterSummary(
        groups=sum(len(f) for f in families.values()),
        new_groups=len(new_groups),
        snapshots=snapshots,
        members=members,
    )
