"""Matching roster members to employees (§5.3.b): WeChat id, HR's remembered
decision, then the real name in the display name — never a guess between two
people with the same name.

A member's inviter (the roster's 邀请人 column, §5.3.a) is matched by the same rules: the
text as an employee's WeChat id, else as the display name of a member of the same snapshot
(that member's match, or HR's remembered decision for the name), else the real name in it.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from groups import naming
from groups.models import ChatGroup, MemberIdentity, RosterMember
from members.models import PATH_SEPARATOR, Department, Employee


# A display name's candidate names and parts, worked out once per name and run: the same
# names recur across both snapshots, the inviters and the checks of each member (about
# 53,000 calls per run over the demo company of 20,000; 2 s of profiled CPU). Read only.
@functools.lru_cache(maxsize=65_536)
def _name_candidates(display_name: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tier) for tier in naming.name_candidates(display_name))


@functools.lru_cache(maxsize=65_536)
def _segments(display_name: str) -> frozenset[str]:
    return frozenset(naming.segments(display_name))


@functools.lru_cache(maxsize=65_536)
def _all_candidates(display_name: str) -> frozenset[str]:
    return frozenset(naming.all_candidates(display_name))


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

    At most six queries whatever the number of members (the inviters are looked up with
    them), and only the employees a member can match are read: those a WeChat id or HR's
    decision names, and by name only for the texts neither settles (_names_read) — so the
    rows read per member stay flat as the company, and its namesakes, grow.
    """
    member_wechat_ids = {m.wechat_id for m in members if m.wechat_id}
    inviters = {m.inviter for m in members if m.inviter}
    wechat_ids = member_wechat_ids | inviters
    names = {m.display_name for m in members} | inviters
    identities = dict(
        MemberIdentity.objects.filter(group=group, display_name__any_of=names).values_list(
            "display_name", "employee_id"
        )
    )
    # A remembered identity may name someone no WeChat id brings in: read with them.
    remembered = {pk for pk in identities.values() if pk}
    employees: dict[int, ReconEmployee] = {}
    by_wechat: dict[str, list[int]] = defaultdict(list)
    if wechat_ids or remembered:
        for e in _load_employees(
            Employee.objects.filter(Q(wechat_id__any_of=wechat_ids) | Q(pk__any_of=remembered))
        ):
            employees[e.pk] = e
            if e.wechat_id in wechat_ids:
                by_wechat[e.wechat_id].append(e.pk)

    # The name is the last resort (§5.3.b): read for the members a WeChat id or HR's
    # decision does not settle, and for the inviters neither names (an inviter may also be
    # a member of the snapshot under that name, then matched by it).
    texts = {m.display_name for m in members if not _settled(m, by_wechat, identities, employees)}
    texts |= {text for text in inviters if text not in by_wechat and text not in identities}
    by_name = _names_read(texts, employees)

    matches = {}
    for member in members:
        matches[member.pk] = _match_one(member, by_wechat, identities, by_name, employees)
    if inviters:
        _match_inviters(members, matches, by_wechat, identities, by_name, employees)
    shared = {w: ids for w, ids in by_wechat.items() if len(ids) > 1 and w in member_wechat_ids}
    return matches, employees, shared


def _settled(member, by_wechat, identities, employees) -> bool:
    """Does _match_one match the member before it looks at their name?"""
    if member.display_name in identities:
        return True
    ids = by_wechat.get(member.wechat_id) if member.wechat_id else None
    if not ids:
        return False
    return len(ids) == 1 or len(_by_department(member.display_name, ids, employees, True)) == 1


def _names_read(texts: set[str], employees: dict[int, ReconEmployee]) -> dict[str, list[int]]:
    """Real name -> the employees of that name _match_name needs to decide for ``texts``.

    _match_name takes the first tier of a text's name candidates that names anyone. Counting
    the employees of each candidate name (the name index, no rows) tells which tier that is
    and whether it names one person: then that person is read. Namesakes: only those in a
    department the display names mention are read — the department in "部门-姓名" is the
    one thing that tells them apart. Still not one person: the member is AMBIGUOUS and its
    finding names every namesake, so all of them are read, for those names only. A namesake
    nobody's display name points at is never read for a member who is matched.

    The lists are partial, and may hold a namesake from another department read for another
    reason (a WeChat id, another member's department), but each holds every employee that
    could decide its texts: one person alone, else every namesake in the departments the
    text names — which _by_department keeps and the others it drops — else, for an
    ambiguous member, everyone. So _match_name answers as it would with the whole company
    in hand (tests/groups/test_reconcile_queries.py reads the same rows, and answers the
    same, with namesakes added elsewhere).
    """
    by_name: dict[str, list[int]] = defaultdict(list)
    tiers = {text: _name_candidates(text) for text in texts}
    candidates = {name for text_tiers in tiers.values() for tier in text_tiers for name in tier}
    if not candidates:
        return by_name
    counts = dict(
        Employee.objects.filter(name__any_of=candidates)
        .order_by()
        .values("name")
        .annotate(n=Count("pk"))
        .values_list("name", "n")
    )
    alone: set[str] = set()  # names of a tier that names one person
    several: dict[str, set[str]] = {}  # text -> the names of its tier naming several
    for text, text_tiers in tiers.items():
        for tier in text_tiers:
            found = {name for name in tier if name in counts}
            if found:
                if sum(counts[name] for name in found) == 1:
                    alone |= found
                else:
                    several[text] = found
                break
    if several:
        namesakes = set().union(*several.values())
        parts = {part for text in several for part in _segments(text)}
        _names_load(
            Q(name__any_of=alone) | (Q(name__any_of=namesakes) & _in_departments(parts)),
            alone | namesakes,
            by_name,
            employees,
        )
    elif alone:
        _names_load(Q(name__any_of=alone), alone, by_name, employees)
    ambiguous = {
        name
        for text, found in several.items()
        if len(_by_department(text, _ids(found, by_name), employees)) != 1
        for name in found
    }
    if ambiguous:
        _names_load(Q(name__any_of=ambiguous), ambiguous, by_name, employees)
    return by_name


def _ids(names: set[str], by_name: dict[str, list[int]]) -> list[int]:
    return sorted({pk for name in names for pk in by_name.get(name, ())})


def _in_departments(parts: set[str]) -> Q:
    """Employees whose department path has one of ``parts`` as a segment (_by_department's
    test): the departments of that name and everything below them."""
    q = Q(pk__in=[])
    for path in Department.objects.filter(name__any_of=parts).values_list("path", flat=True):
        q |= Q(department__path=path) | Q(department__path__startswith=path + PATH_SEPARATOR)
    return q


def _names_load(
    q: Q, names: set[str], by_name: dict[str, list[int]], employees: dict[int, ReconEmployee]
) -> None:
    """The employees of ``names`` that ``q`` selects, into ``by_name``. Those read already (by
    WeChat id, HR's decision or an earlier read) are not read again; any of them bearing one
    of ``names`` joins its list — a namesake more in a list changes no answer (_names_read)."""
    listed = {pk for ids in by_name.values() for pk in ids}
    known = [e for e in employees.values() if e.name in names]
    for e in known:
        if e.pk not in listed:
            by_name[e.name].append(e.pk)
    # ``q`` selects only ``names``: the others read already need not be named here (every id
    # is a parameter Django and psycopg process one by one).
    for e in _load_employees(Employee.objects.filter(q).exclude(pk__any_of=[e.pk for e in known])):
        employees[e.pk] = e
        by_name[e.name].append(e.pk)


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
    for tier in _name_candidates(display_name):
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
    parts = _segments(display_name)
    return [
        pk
        for pk in ids
        if parts & set(employees[pk].department_path.split("/"))
        and (not require_name or employees[pk].name in _all_candidates(display_name))
    ]
