"""Matching roster members to employees (§5.3.b): WeChat id, HR's remembered
decision, then the real name in the display name — never a guess between two
people with the same name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from groups import naming
from groups.models import ChatGroup, MemberIdentity, RosterMember
from members.models import Employee


@dataclass
class Match:
    employee_id: int | None
    method: str
    candidates: tuple[int, ...] = ()


@dataclass
class ReconEmployee:
    pk: int
    employee_no: str
    name: str
    status: str
    department_path: str
    department_name: str
    wechat_id: str


def _load_employees(qs) -> list[ReconEmployee]:
    return [
        ReconEmployee(*row)
        for row in qs.values_list(
            "pk",
            "employee_no",
            "name",
            "status",
            "department__path",
            "department__name",
            "wechat_id",
        )
    ]


def match_members(
    group: ChatGroup, members: list[RosterMember]
) -> tuple[dict[int, Match], dict[int, ReconEmployee], dict[str, list[int]]]:
    """Match each member; returns (member pk -> Match, employees seen, wechat id -> employees).

    Three queries whatever the number of members.
    """
    wechat_ids = {m.wechat_id for m in members if m.wechat_id}
    names = {m.display_name for m in members}
    candidates = set().union(*(naming.all_candidates(m.display_name) for m in members))

    by_wechat: dict[str, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    employees: dict[int, ReconEmployee] = {}
    for e in _load_employees(
        Employee.objects.filter(wechat_id__in=wechat_ids)
        | Employee.objects.filter(name__in=candidates)
    ):
        employees[e.pk] = e
        if e.wechat_id in wechat_ids:
            by_wechat[e.wechat_id].append(e.pk)
        if e.name in candidates:
            by_name[e.name].append(e.pk)
    identities = dict(
        MemberIdentity.objects.filter(group=group, display_name__in=names).values_list(
            "display_name", "employee_id"
        )
    )
    # A remembered identity may name someone no wechat id or name brought in.
    missing = {pk for pk in identities.values() if pk and pk not in employees}
    if missing:
        for e in _load_employees(Employee.objects.filter(pk__in=missing)):
            employees[e.pk] = e

    matches = {}
    for member in members:
        matches[member.pk] = _match_one(member, by_wechat, identities, by_name, employees)
    return matches, employees, {w: ids for w, ids in by_wechat.items() if len(ids) > 1}


def _match_one(member, by_wechat, identities, by_name, employees) -> Match:
    if member.wechat_id and member.wechat_id in by_wechat:
        ids = by_wechat[member.wechat_id]
        if len(ids) == 1:
            return Match(ids[0], RosterMember.Match.WECHAT_ID)
        # §6.3: one WeChat id on two employees. The name may still tell them apart.
        narrowed = _by_department(member.display_name, ids, employees, require_name=True)
        if len(narrowed) == 1:
            return Match(narrowed[0], RosterMember.Match.WECHAT_ID)
    if member.display_name in identities:
        return Match(identities[member.display_name], RosterMember.Match.IDENTITY)
    for tier in naming.name_candidates(member.display_name):
        ids = sorted({pk for name in tier for pk in by_name.get(name, ())})
        if not ids:
            continue
        if len(ids) == 1:
            return Match(ids[0], RosterMember.Match.NAME)
        # Same-name colleagues: the department in "部门-姓名" may decide; nothing else does.
        narrowed = _by_department(member.display_name, ids, employees)
        if len(narrowed) == 1:
            return Match(narrowed[0], RosterMember.Match.NAME)
        return Match(None, RosterMember.Match.AMBIGUOUS, tuple(ids))
    return Match(None, RosterMember.Match.NONE)


def _by_department(
    display_name: str,
    ids: list[int],
    employees: dict[int, ReconEmployee],
    require_name: bool = False,
) -> list[int]:
    parts = set(naming.segments(display_name))
    return [
        pk
        for pk in ids
        if parts & set(employees[pk].department_path.split("/"))
        and (not require_name or employees[pk].name in naming.all_candidates(display_name))
    ]
