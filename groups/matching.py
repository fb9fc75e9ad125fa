"""Matching roster members to employees (§5.3.b): WeChat id, HR's remembered
decision, then the real name in the display name — never a guess between two
people with the same name.

A member's inviter (the roster's 邀请人 column, §5.3.a) is matched by the same rules: the
text as an employee's WeChat id, else as the display name of a member of the same snapshot
(that member's match, or HR's remembered decision for the name), else the real name in it.
"""

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
    # §5.3.a: the employee who invited the member (their 邀请人 matched), when one is sure.
    inviter_id: int | None = None


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

    Three queries whatever the number of members (the inviters are looked up with them).
    """
    member_wechat_ids = {m.wechat_id for m in members if m.wechat_id}
    inviters = {m.inviter for m in members if m.inviter}
    wechat_ids = member_wechat_ids | inviters
    names = {m.display_name for m in members} | inviters
    candidates = set().union(
        *(naming.all_candidates(text) for text in {m.display_name for m in members} | inviters)
    )

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
    if inviters:
        _match_inviters(members, matches, by_wechat, identities, by_name, employees)
    shared = {w: ids for w, ids in by_wechat.items() if len(ids) > 1 and w in member_wechat_ids}
    return matches, employees, shared


def _match_inviters(members, matches, by_wechat, identities, by_name, employees) -> None:
    """§5.3.a: each member's 邀请人 matched to an employee (Match.inviter_id), or left None
    when nobody is sure (a WeChat id on two employees, namesakes, a stranger)."""
    by_display: dict[tuple[int, str], set[int | None]] = defaultdict(set)
    for member in members:
        by_display[(member.snapshot_id, member.display_name)].add(matches[member.pk].employee_id)
    for member in members:
        if member.inviter:
            seen = by_display.get((member.snapshot_id, member.inviter), set())
            matches[member.pk].inviter_id = _inviter(
                member.inviter, seen, by_wechat, identities, by_name, employees
            )


def _inviter(text, in_snapshot, by_wechat, identities, by_name, employees) -> int | None:
    if text in by_wechat:  # an employee's WeChat id; on two employees nobody is sure (§6.3)
        ids = by_wechat[text]
        return ids[0] if len(ids) == 1 else None
    matched = in_snapshot - {None}
    if len(matched) > 1:  # two members of that name, matched to different people
        return None
    if matched:  # the inviter is in the group under that name: their own match
        return next(iter(matched))
    if text in identities:  # HR's remembered decision about the name
        return identities[text]
    return _match_name(text, by_name, employees).employee_id


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
    return _match_name(member.display_name, by_name, employees)


def _match_name(display_name: str, by_name, employees) -> Match:
    """The real name in ``display_name``: one employee, or AMBIGUOUS between namesakes."""
    for tier in naming.name_candidates(display_name):
        ids = sorted({pk for name in tier for pk in by_name.get(name, ())})
        if not ids:
            continue
        if len(ids) == 1:
            return Match(ids[0], RosterMember.Match.NAME)
        # Same-name colleagues: the department in "部门-姓名" may decide; nothing else does.
        narrowed = _by_department(display_name, ids, employees)
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
