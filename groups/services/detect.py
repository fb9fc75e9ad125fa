"""What a roster snapshot shows: the findings, before they are stored (§4, §5.3, §6.3, §9.5).

Plain functions over matched members; reconcile.py turns their answer into
open, kept and resolved Finding rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from django.utils import timezone

from groups import naming
from groups.matching import Match, ReconEmployee
from groups.models import AccountReport, ChatGroup, Finding, RosterMember, RosterSnapshot
from groups.selectors import HOUSE_RULE_LABEL, name_breaks_only_house_rule
from members.models import Employee

# Findings about the members of this group's snapshot: resolved when a later
# snapshot no longer shows them.
GROUP_KINDS = frozenset(
    {
        Finding.Kind.DEPARTED,
        Finding.Kind.STRANGER,
        Finding.Kind.INELIGIBLE,
        Finding.Kind.NOT_REAL_NAME,
        Finding.Kind.AMBIGUOUS,
        Finding.Kind.DUPLICATE_ACCOUNT,
        Finding.Kind.REPORTED_ACCOUNT,
        Finding.Kind.OVER_CAPACITY,
    }
)
# Findings that count a member as non-compliant in the compliance rate.
MEMBER_KINDS = GROUP_KINDS - {Finding.Kind.OVER_CAPACITY}
# Events between two snapshots: made once per snapshot, never resolved by a later one.
EVENT_KINDS = frozenset({Finding.Kind.LEFT_GROUP, Finding.Kind.JOINED})


class _Who(TypedDict):
    """The member a finding is about, as the finding shows them."""

    display_name: str
    wechat_id: str


@dataclass
class Seen:
    """A finding the snapshot shows."""

    kind: str
    subject: str
    employee_id: int | None = None
    display_name: str = ""
    wechat_id: str = ""
    detail: str = ""
    member_ids: list[int] = field(default_factory=list)
    # §5.3.a: who brought a stranger or an ineligible member in (STRANGER, INELIGIBLE only).
    inviter_text: str = ""
    inviter_id: int | None = None


def _invited(member: RosterMember, match: Match) -> dict:
    # Who invited them is kept apart from ``detail`` (the text everyone who sees the finding
    # reads): in a confidential group the inviter is another member, hidden from a department
    # head (§6.1); groups.provenance words it for those who may see it.
    return {"inviter_text": member.inviter, "inviter_id": match.inviter_id}


def _reported(report: AccountReport) -> str:
    """§6.3: "该微信号已于 2024-03-01 由 李娜 报告丢失"."""
    return (
        f"该微信号已于 {timezone.localtime(report.reported_at):%Y年%-m月%-d日} 由 "
        f"{report.employee.name} 报告{report.get_kind_display()}"
    )


def findings_for_members(
    group: ChatGroup,
    members: list[RosterMember],
    matches: dict[int, Match],
    employees: dict[int, ReconEmployee],
    shared_wechat: dict[str, list[int]],
    eligible: set[int],
    reports: Mapping[str, AccountReport] | None = None,
) -> list[Seen]:
    """``reports``: the open §6.3 reports (lost or stolen account) by WeChat id, made at or
    before the snapshot was taken."""
    reports = reports or {}
    seen: list[Seen] = []
    convention = group.naming_convention
    rows_of: dict[int, list[RosterMember]] = defaultdict(list)
    for member in members:
        match = matches[member.pk]
        base = _Who(display_name=member.display_name, wechat_id=member.wechat_id)
        if match.employee_id is None:
            if match.method == RosterMember.Match.AMBIGUOUS:
                who = "、".join(
                    f"{employees[pk].name}（{employees[pk].employee_no}，{employees[pk].department_path}）"
                    for pk in match.candidates
                )
                seen.append(
                    Seen(
                        Finding.Kind.AMBIGUOUS,
                        f"n:{member.display_name}",
                        detail=f"可能是：{who}",
                        member_ids=[member.pk],
                        **base,
                    )
                )
            else:
                seen.append(
                    Seen(
                        Finding.Kind.STRANGER,
                        f"n:{member.display_name}",
                        detail="无法对应到任何员工（§5.3.c）",
                        member_ids=[member.pk],
                        **base,
                        **_invited(member, match),
                    )
                )
            continue
        employee = employees[match.employee_id]
        rows_of[employee.pk].append(member)
        if employee.status == Employee.Status.LEFT:
            # §3: someone who left is never allowed to stay, eligible or not.
            seen.append(
                Seen(
                    Finding.Kind.DEPARTED,
                    f"e:{employee.pk}",
                    employee.pk,
                    detail=f"{employee.name}（{employee.employee_no}）已离职",
                    member_ids=[member.pk],
                    **base,
                )
            )
            continue
        if employee.pk not in eligible:
            seen.append(
                Seen(
                    Finding.Kind.INELIGIBLE,
                    f"e:{employee.pk}",
                    employee.pk,
                    detail=f"{employee.department_path} 的 {employee.name} 不符合本群入群条件",
                    member_ids=[member.pk],
                    **base,
                    **_invited(member, match),
                )
            )
            # To be removed (§5.3.a), not renamed: a rename to-do would ask them to stay.
            continue
        # §6.3: an account reported lost or stolen is not the employee speaking: its display
        # name is not theirs to fix (the REPORTED_ACCOUNT finding is HR's question).
        if member.wechat_id not in reports and not naming.follows_convention(
            member.display_name,
            real_name=employee.name,
            department_path=employee.department_path,
            convention=convention,
        ):
            seen.append(
                Seen(
                    Finding.Kind.NOT_REAL_NAME,
                    f"e:{employee.pk}",
                    employee.pk,
                    detail=_rename_detail(member, employee, convention),
                    member_ids=[member.pk],
                    **base,
                )
            )
    # §6.3: one employee on two accounts in this group.
    for pk, rows in rows_of.items():
        if len(rows) > 1:
            names = "、".join(m.display_name for m in rows)
            reported = [
                f"{m.wechat_id}：{_reported(reports[m.wechat_id])}"
                for m in rows
                if m.wechat_id in reports
            ]
            seen.append(
                Seen(
                    Finding.Kind.DUPLICATE_ACCOUNT,
                    f"e:{pk}",
                    pk,
                    display_name=rows[0].display_name,
                    wechat_id=rows[0].wechat_id,
                    detail=f"同一员工在群内有 {len(rows)} 个账号：{names}"
                    + "".join(f"；{r}" for r in reported),
                    member_ids=[m.pk for m in rows],
                )
            )
    # §6.3: one WeChat id recorded on two employees.
    for member in members:
        ids = shared_wechat.get(member.wechat_id)
        if ids:
            who = "、".join(f"{employees[pk].name}（{employees[pk].employee_no}）" for pk in ids)
            seen.append(
                Seen(
                    Finding.Kind.DUPLICATE_ACCOUNT,
                    f"w:{member.wechat_id}",
                    display_name=member.display_name,
                    wechat_id=member.wechat_id,
                    detail=f"微信号 {member.wechat_id} 登记在多名员工名下：{who}"
                    + (
                        f"；{_reported(reports[member.wechat_id])}"
                        if member.wechat_id in reports
                        else ""
                    ),
                    member_ids=[member.pk],
                )
            )
    seen += _reported_accounts(members, reports)
    if len(members) > group.member_cap:
        seen.append(
            Seen(
                Finding.Kind.OVER_CAPACITY,
                "group",
                detail=f"{len(members)} 人，上限 {group.member_cap} 人",
            )
        )
    return seen


def _reported_accounts(
    members: list[RosterMember], reports: Mapping[str, AccountReport]
) -> list[Seen]:
    """§6.3: the rows of an account its owner reported lost or stolen, one finding per
    account (HR's to look into), for as long as the report is open."""
    rows_of: dict[str, list[RosterMember]] = defaultdict(list)
    for member in members:
        if member.wechat_id in reports:
            rows_of[member.wechat_id].append(member)
    return [
        Seen(
            Finding.Kind.REPORTED_ACCOUNT,
            f"w:{wechat_id}",
            reports[wechat_id].employee_id,
            display_name=rows[0].display_name,
            wechat_id=wechat_id,
            detail=_reported(reports[wechat_id]) + "，挂失期间该账号在群内的发言不代表本人（§6.3）",
            member_ids=[m.pk for m in rows],
        )
        for wechat_id, rows in rows_of.items()
    ]


def _rename_detail(member: RosterMember, employee: ReconEmployee, convention: str) -> str:
    """What a NOT_REAL_NAME finding says: the expected display name, and whether only the
    group's own rule asks for it (a 部门-姓名 house rule: the real name is all §5.3.b asks)."""
    expected = naming.suggested_display_name(
        real_name=employee.name, department_name=employee.department_name, convention=convention
    )
    detail = f"群昵称应为“{expected}”"
    if name_breaks_only_house_rule(
        member.display_name, real_name=employee.name, convention=convention
    ):
        detail += f"（{HOUSE_RULE_LABEL}：本群要求“部门-姓名”，§5.3.b 只要求真实姓名）"
    return detail


def events_between(
    snapshot: RosterSnapshot,
    previous_members: list[RosterMember] | None,
    members: list[RosterMember],
    matches: dict[int, Match],
    eligible: set[int],
) -> list[Seen]:
    """LEFT_GROUP and JOINED between the previous snapshot and this one.

    The previous snapshot's members are matched again with this run (``matches``
    covers both): its stored matches may be missing, when its own run was
    skipped because this newer snapshot arrived first.
    """
    if previous_members is None:
        return []
    before = [(matches[m.pk].employee_id, m.display_name, m.wechat_id) for m in previous_members]
    before_keys = {f"e:{pk}" if pk else f"n:{name}" for pk, name, _ in before}
    now_keys = set()
    seen: list[Seen] = []
    suffix = f"@{snapshot.pk}"
    for member in members:
        pk = matches[member.pk].employee_id
        key = f"e:{pk}" if pk else f"n:{member.display_name}"
        now_keys.add(key)
        if key not in before_keys:
            seen.append(
                Seen(
                    Finding.Kind.JOINED,
                    key + suffix,
                    pk,
                    member.display_name,
                    member.wechat_id,
                    detail="新入群",
                    member_ids=[member.pk],
                )
            )
    # Someone who left and was eligible there is a possible §9.5 case for HR to
    # decide; an active employee only (a departed one leaving is the fix).
    for pk, name, wechat_id in before:
        if pk and f"e:{pk}" not in now_keys and pk in eligible:
            seen.append(
                Seen(
                    Finding.Kind.LEFT_GROUP,
                    f"e:{pk}{suffix}",
                    pk,
                    name,
                    wechat_id,
                    detail="符合入群条件的成员退出了本群",
                )
            )
    return seen


def missing_from_family(
    group: ChatGroup, eligible_all: set[int], in_family: set[int]
) -> list[Seen]:
    """§5.1: eligible employees in none of the family's groups."""
    return [
        Seen(Finding.Kind.MISSING, f"e:{pk}", pk, detail="符合入群条件但不在群内")
        for pk in sorted(eligible_all - in_family)
    ]
