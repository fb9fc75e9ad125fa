"""Reads for violations: who may see, file, appeal which case (§5.2, §7.1, §9.12)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from common.permissions import objects_for_user
from groups.models import ChatGroup
from members.selectors import headed_departments_q
from notices.models import Notice
from violations.models import Case, CaseTransition

GROUP_PERMS = ["groups.moderate", "groups.manage_roster"]


def _run_groups(user) -> QuerySet[ChatGroup]:
    """Groups the user administers or created (object permissions, §5.1/§5.2)."""
    return objects_for_user(
        user, GROUP_PERMS, klass=ChatGroup, any_perm=True, accept_global_perms=False
    )


def _scoped_q(user) -> Q:
    """Cases a user sees without the model permission: their own, their groups'
    (§5.1/§5.2), their departments' (§9.12)."""
    return (
        Q(employee__user=user)
        | Q(group__in=_run_groups(user))
        | headed_departments_q(user, "employee__department__")
    )


# What a row of the case list shows (violations.admin.cases): joined for the page's rows; the
# reporters' names in one more query for the page — a join through the logins to their
# employees made SQLite scan the employees for every row (its statistics count the employees
# without a login as one value).
CASE_LIST_RELATED = ["rule", "employee__department", "group"]
CASE_LIST_PREFETCH = ["reported_by__employee"]


def cases_visible_to(user) -> QuerySet[Case]:
    """Every case ``user`` may see, with what lists show, in one query.

    HR, leaders and finance (the model permission) see all; a group's admins and
    creator see their groups' cases; a department head sees their department's
    (sub-departments included); everyone with a login sees their own.
    """
    qs = Case.objects.select_related(
        "rule",
        "employee__department",
        "group",
        "reported_by__employee",
        "confirmed_by__employee",
    )
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("violations.view_case"):
        return qs
    return qs.filter(_scoped_q(user)).distinct()


def can_view_case(user, case: Case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def can_view_evidence(user, case: Case) -> bool:
    """Evidence is for those who judge (HR), run the group, head the department, or
    the employee themselves — not for seeing every case for the appraisal (Finance,
    leaders), unless one of those roles applies to this case too."""
    if user.has_perm("violations.view_evidence"):
        return True
    if not user.is_authenticated:
        return False
    return Case.objects.filter(_scoped_q(user), pk=case.pk).exists()


def can_file_case(user, group: ChatGroup | None) -> bool:
    """HR files anywhere; a group's admins and creator file for their group (§5.2, §7.1)."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm("violations.add_case"):
        return True
    return group is not None and _run_groups(user).filter(pk=group.pk).exists()


def can_add_evidence(user, case: Case) -> bool:
    """More evidence for a filed case: whoever may file for its group and see its evidence
    (HR; a group's admins and creator for their group's cases)."""
    return can_view_evidence(user, case) and can_file_case(user, case.group)


def can_appeal_case(user, case: Case) -> bool:
    """An appeal (and its materials) comes from the employee's own login, or from HR for
    them (§7.1); the deadline and the case's state are the appeal's own checks."""
    is_self = user.pk is not None and case.employee.user_id == user.pk
    return is_self or user.has_perm("violations.decide_case")


def groups_user_can_file_for(user) -> QuerySet[ChatGroup]:
    if user.has_perm("violations.add_case"):
        return ChatGroup.objects.all()
    return _run_groups(user)


# What HR is asked to do with a case waiting in the queue, by its state.
QUEUE_ASKS = {
    Case.State.PROPOSED: "确认或驳回",
    Case.State.APPEALED: "裁决申诉（维持或撤销）",
}
# A proposal inside its explanation window (violations.services.telling.explanation_due).
QUEUE_ASK_WAITING = "等待员工说明（至 {until:%-m月%-d日 %H:%M}）；可驳回"


def proposed_queue(user=None) -> QuerySet[Case]:
    """HR's work queue: proposed cases and appeals, oldest first, evidence prefetched for
    thumbnails; ``QUEUE_ASKS`` says what each one asks of HR. For ``user``, without the
    proposals they reported: four eyes, another clerk confirms or dismisses those
    (violations.services.cases.own_report); an appeal stays theirs to decide."""
    queue = Case.objects.filter(state__in=list(QUEUE_ASKS))
    if user is not None and user.pk is not None:
        queue = queue.exclude(Q(state=Case.State.PROPOSED) & Q(reported_by_id=user.pk))
    return (
        queue.select_related("rule", "employee__department", "group", "reported_by__employee")
        .prefetch_related("evidence")
        .order_by("created_at", "pk")
    )


def proposals_told_at(cases: Iterable[Case]) -> dict[int, dt.datetime]:
    """When each proposal among ``cases`` (their employees loaded) was told to the employee's
    present, active login, by case pk (absent: nobody told, HR waits for no explanation) —
    the start of the explanation window (violations.services.telling.explanation_due) for a
    page of a list in one query. Asked for the page's rows, not annotated on the list's
    queryset: the list's COUNT over every case then joins nothing for it
    (docs/performance.md, 案件列表)."""
    keys = {
        (case.employee.user_id, f"case:{case.pk}:proposed"): case.pk
        for case in cases
        if case.state == Case.State.PROPOSED and case.employee.user_id is not None
    }
    if not keys:
        return {}
    # notice_once_per_recipient_and_event: at most one notice per login and proposal.
    told = Notice.objects.filter(
        recipient_id__in={user for user, _ in keys},
        subject_key__in={key for _, key in keys},
        recipient__is_active=True,
    ).values_list("recipient_id", "subject_key", "created_at")
    return {keys[(user, key)]: at for user, key, at in told if (user, key) in keys}


PROPOSAL_KEY = re.compile(r"^case:(\d+):proposed$")  # violations.services.notify.SUBJECT_KEY


def proposals_decided(subject_keys: Iterable[str]) -> set[str]:
    """Of the notices' ``subject_keys``, those of proposals decided since (the case left
    待审核): /me/notices/ marks them （已处理）, their invitation to explain answered. One query."""
    by_pk = {}
    for key in subject_keys:
        match = PROPOSAL_KEY.match(key or "")
        if match:
            by_pk[int(match.group(1))] = key
    if not by_pk:
        return set()
    decided = (
        Case.objects.filter(pk__in=by_pk)
        .exclude(state=Case.State.PROPOSED)
        .values_list("pk", flat=True)
    )
    return {by_pk[pk] for pk in decided}


def appeal_of(case: Case) -> CaseTransition | None:
    """The appeal of ``case`` (its reason is the transition's comment), latest first."""
    return (
        # The move into 申诉中 (from 已确认), not a telling recorded on it since.
        case.transitions.filter(from_state=Case.State.CONFIRMED, to_state=Case.State.APPEALED)
        .select_related("actor__employee")
        .order_by("-at", "-pk")
        .first()
    )


# Source events in words (Case.source_key is an idempotency key, not for people).
EVENT_KINDS = {
    "screening": "内容筛查记录",
    "directive": "逾期的群内指令",
    "question": "逾期未回复的问题",
    "reconciliation": "群成员核对",
}
DEMO_PREFIX = "demo:"


def source_event_label(source_key: str) -> str:
    """``finding:12`` → 群成员核对发现 #12, ``message:7:rule:2`` → 内容筛查：群消息 #7,
    ``demo:screening:ads`` → 演示数据：内容筛查记录 …"""
    if not source_key:
        return "—"
    prefix = ""
    if source_key.startswith(DEMO_PREFIX):
        prefix, source_key = "演示数据：", source_key.removeprefix(DEMO_PREFIX)
    kind, _, rest = source_key.partition(":")
    if kind == "finding" and rest.isdigit():
        text = f"群成员核对发现 #{rest}"
    elif kind == "joint" and rest.isdigit():
        text = f"案件 #{rest} 的部门负责人连带责任（§9.8、§9.12）"
    elif kind == "message" and rest.partition(":")[0].isdigit():
        # screening: "message:<pk>:rule:<pk>" — the message a screening rule hit.
        text = f"内容筛查：群消息 #{rest.partition(':')[0]}"
    elif kind == "flood":
        # screening, §9.7: "flood:<rule>:<group>:<employee>:<YYYY-MM-DD>".
        day = rest.rsplit(":", 1)[-1]
        try:
            day = f"{dt.date.fromisoformat(day):%Y年%-m月%-d日}"
        except ValueError:
            pass
        text = f"内容筛查：{day}刷图（§9.7）"
    elif kind == "roster-actions":
        due = rest.rsplit(":", 1)[-1]  # ISO in the key; as people write it on the page
        try:
            due = f"{dt.date.fromisoformat(due):%Y年%-m月%-d日}"
        except ValueError:
            pass
        text = f"群成员待办逾期（截止 {due}）"
    else:
        text = EVENT_KINDS.get(kind, "其他来源事件")
    return prefix + text
