"""Reads for the WeChat groups: who is eligible (§4), who may see which group (§5.2).

The house rules (公司规定之外的要求) and who may see which roster finding (§9.12) are in
groups.selectors.findings, re-exported here: import every read from ``groups.selectors``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict, cast

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from common.permissions import objects_for_user
from groups.models import (
    ChatGroup,
    EligibilityRule,
    Finding,
    MembershipException,
    RosterAction,
    RosterSnapshot,
)
from groups.policy_data import FINDING_SPECS
from members.models import Department, Employee


def rule_q(rule: EligibilityRule) -> Q:
    """The employees one eligibility rule selects (before the §3 'active' filter)."""
    kind = EligibilityRule.Kind
    if rule.kind == kind.DEPARTMENT_HEAD:
        return Q(Exists(Department.objects.filter(head=OuterRef("pk"))))
    if rule.kind == kind.MIN_RANK:
        return Q(rank__gte=rule.min_rank)
    if rule.kind == kind.DEPARTMENT:
        # A check constraint on EligibilityRule makes a department rule name its department.
        # A subquery, not a join: _eligible_among asks it of a few rows in the SELECT list.
        subtree = cast(Department, rule.department).subtree_q()
        return Q(department__in=Department.objects.filter(subtree).values("pk"))
    if rule.kind == kind.CATEGORY:
        return Q(category=rule.category)
    if rule.kind == kind.EVERYONE:
        return Q()
    # A programming error, not a refusal: a Kind added without its branch here. Not a
    # ServiceError (no one may show it as a message and carry on) nor a ValueError (an
    # import's row handling would report it as a bad cell); raised, not ``assert``ed, so it
    # holds under ``python -O`` too.
    raise AssertionError(f"unknown eligibility rule kind {rule.kind!r}")


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
    if not user.is_authenticated:  # guardian has no anonymous user here (ANONYMOUS_USER_NAME)
        return base.none()
    if user.has_perm("groups.view_chatgroup"):
        return base
    return objects_for_user(user, "groups.view_chatgroup", klass=base, accept_global_perms=False)


def active_exceptions(group: ChatGroup, *, today: date | None = None) -> dict[int, str]:
    """employee id -> MembershipException.Kind for the family's exceptions in force today."""
    today = today or timezone.localdate()
    return dict(
        MembershipException.objects.filter(group=group.rules_group)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values_list("employee_id", "kind")
    )


def eligible_employee_ids(
    group: ChatGroup, *, among: Iterable[int] | None = None, today: date | None = None
) -> set[int]:
    """Ids of the eligible employees, rules first, then approved exceptions on top.

    ``among`` limits the question to some employees (the members of a snapshot),
    so the query stays as small as the roster, not the company.
    """
    exceptions = active_exceptions(group, today=today)
    include = [pk for pk, kind in exceptions.items() if kind == MembershipException.Kind.INCLUDE]
    if among is None:
        ids = set(eligible_employees(group).values_list("pk", flat=True))
        ids |= set(Employee.objects.active().filter(pk__in=include).values_list("pk", flat=True))
    else:
        ids = _eligible_among(group, list(among), include)
    return {pk for pk in ids if exceptions.get(pk) != MembershipException.Kind.EXCLUDE}


def _eligible_among(group: ChatGroup, among: list[int], include: list[int]) -> set[int]:
    """Which of ``among`` are active and selected by the rules or an INCLUDE exception.

    Asked of each of those rows in the SELECT list, not in the WHERE clause: the only filter
    left is the primary key, so the planner reads these few hundred employees by their ids
    whatever it believes of the table. With the rules in the WHERE clause, on a table just
    bulk-loaded and not analyzed yet (an import, then the reconciliation before autovacuum
    gets there), it took ``status = 'active'`` or a department's employees for a handful of
    rows and walked that index over the whole company, checking each row against the ids:
    85–110 ms per group at 20,000 employees instead of 1 ms (docs/performance.md).
    """
    q = eligibility_q(group)
    if q is not None and not q:  # EVERYONE
        selected: Q | None = Q()
    elif include:
        selected = Q(pk__in=include) if q is None else q | Q(pk__in=include)
    else:
        selected = q
    if selected is None or not among:
        return set()
    rows = (
        Employee.objects.filter(pk__any_of=among)
        .order_by()
        .annotate(ok=ExpressionWrapper(Q(status=Employee.Status.ACTIVE) & selected, BooleanField()))
        .values_list("pk", "ok")
    )
    return {pk for pk, ok in rows if ok}


def groups_of_employee(employee: Employee) -> list[int]:
    """Ids of the active groups ``employee`` belongs in by the policy (their rules, then HR's
    approved exceptions, §4): who an announcement reaches and where an employee may raise a
    question. A few queries per group, whatever the size of the company."""
    return [
        group.pk
        for group in ChatGroup.objects.filter(is_active=True).select_related("family")
        if employee.pk in eligible_employee_ids(group, among=[employee.pk])
    ]


def findings_for_report(*, group: ChatGroup, snapshot) -> list[dict]:
    """The group's open findings plus this snapshot's events, as plain data (--json, exports)."""
    findings = (
        Finding.objects.filter(group=group)
        .filter(
            Q(status=Finding.Status.OPEN)
            | Q(
                kind__in=[Finding.Kind.LEFT_GROUP, Finding.Kind.JOINED],
                subject__endswith=f"@{snapshot.pk}",
            )
        )
        # A 新入群 a later run found to be a known member is kept for the record only.
        .exclude(kind=Finding.Kind.JOINED, resolved_by__isnull=False)
        .select_related("employee")
        .order_by("-severity", "kind", "display_name", "pk")
    )
    return [
        {
            "kind": f.kind,
            "clause": f.clause,
            "action": FINDING_SPECS[f.kind].action,
            "display_name": f.display_name,
            "employee_no": f.employee.employee_no if f.employee else None,
        }
        for f in findings
    ]


def can_view_roster(user, group: ChatGroup) -> bool:
    """Who may see a group's members and findings.

    HR (the model permission) sees every roster; a group's admins see theirs; its
    creator too, except for a confidential group, whose roster only HR and that
    group's admins see (§6.1, the management group).
    """
    if user.has_perm("groups.view_rostersnapshot") or user.has_perm("groups.moderate", group):
        return True
    return not group.is_confidential and user.has_perm("groups.manage_roster", group)


def can_upload_roster(user, group: ChatGroup) -> bool:
    """HR, and the group's creator and admins, may capture its roster (§5.1, §5.2)."""
    return (
        user.has_perm("groups.add_rostersnapshot")
        or user.has_perm("groups.manage_roster", group)
        or user.has_perm("groups.moderate", group)
    )


def roster_groups_visible_to(user) -> QuerySet[ChatGroup]:
    """The groups whose rosters, findings and to-dos ``user`` may see (see can_view_roster)."""
    if not user.is_authenticated:
        return ChatGroup.objects.none()
    if user.has_perm("groups.view_rostersnapshot"):
        return ChatGroup.objects.all()
    moderated = objects_for_user(
        user, "groups.moderate", klass=ChatGroup, accept_global_perms=False
    )
    created = objects_for_user(
        user, "groups.manage_roster", klass=ChatGroup, accept_global_perms=False
    ).filter(is_confidential=False)
    return ChatGroup.objects.filter(
        Q(pk__in=moderated.values("pk")) | Q(pk__in=created.values("pk"))
    )


class LatestSnapshot(TypedDict):
    latest_snapshot: int | None
    latest_reconciled_at: datetime | None


if TYPE_CHECKING:  # django-stubs' helper (a development requirement), for the type checker
    from django_stubs_ext import WithAnnotations

    GroupWithLatest = WithAnnotations[ChatGroup, LatestSnapshot]


def with_latest_snapshot(groups: QuerySet[ChatGroup]) -> QuerySet[GroupWithLatest]:
    """``groups`` with their latest snapshot's id (``latest_snapshot``) and when it was
    reconciled (``latest_reconciled_at``, None before): what reconciliation, the family's
    应入群 question and the personnel events ask of each group, one query for all."""
    latest = RosterSnapshot.objects.filter(group=OuterRef("pk")).order_by("-taken_at", "-pk")
    return groups.annotate(
        latest_snapshot=Subquery(latest.values("pk")[:1]),
        latest_reconciled_at=Subquery(latest.values("reconciled_at")[:1]),
    )


def groups_for_changelist(user) -> QuerySet[ChatGroup]:
    """The group list with its latest snapshot's figures and open findings, in one query."""
    latest = RosterSnapshot.objects.filter(group=OuterRef("pk")).order_by("-taken_at", "-pk")
    visible = _figures_visible(user)

    def shown(figure):
        # §6.1: a confidential group's roster figures are empty for whoever may not see its
        # roster — in the database, so that sorting by them (?o=…) tells nothing either
        # (docs/security.md, 8: a leader bracketed a confidential group's member count by sorting).
        return figure if isinstance(visible, Value) else Case(When(visible, then=figure))

    def count_of(rows):
        # A subquery, not Count() over a join: grouping by every figure above (each a subquery,
        # each wrapped in the visibility test) cost PostgreSQL 100 s over a crawl.
        counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
        return Coalesce(Subquery(counted), 0)

    open_findings = Finding.objects.filter(group=OuterRef("pk"), status=Finding.Status.OPEN)
    admins = ChatGroup.admins.through.objects.filter(chatgroup=OuterRef("pk"))
    return (
        chat_groups_visible_to(user)
        .annotate(
            latest_taken_at=shown(Subquery(latest.values("taken_at")[:1])),
            latest_member_count=shown(Subquery(latest.values("member_count")[:1])),
            latest_flagged=shown(Subquery(latest.values("members_with_findings")[:1])),
            latest_reconciled_at=shown(Subquery(latest.values("reconciled_at")[:1])),
            open_findings=shown(count_of(open_findings)),
            admin_count=count_of(admins),
            figures_visible=visible,
            roster_visible=_roster_visible(user),
        )
        .order_by("code")
    )  # Meta.ordering is dropped once Count groups the rows


def _figures_visible(user):
    """An annotation: may ``user`` see this group's roster figures (最近快照, 成员数, 合规率,
    待处理问题) — whoever sees its roster, and whoever sees every group (公司领导:
    ``groups.view_chatgroup``) for a group that is not confidential: counts, not the roster
    (issue 14: a leader saw every figure as —). A confidential group's stay hidden (§6.1)."""
    if user.has_perm("groups.view_rostersnapshot"):
        return Value(True)
    if not user.has_perm("groups.view_chatgroup"):
        return _roster_visible(user)
    visible = list(roster_groups_visible_to(user).values_list("pk", flat=True))
    return ExpressionWrapper(
        Q(is_confidential=False) | Q(pk__in=visible), output_field=BooleanField()
    )


def _roster_visible(user):
    """An annotation: may ``user`` see this group's roster figures (see can_view_roster).
    The few groups are listed once, so the test in every figure is a plain IN (…)."""
    if user.has_perm("groups.view_rostersnapshot"):
        return Value(True)
    visible = list(roster_groups_visible_to(user).values_list("pk", flat=True))
    return ExpressionWrapper(Q(pk__in=visible), output_field=BooleanField())


# The group page lists at most this many open findings of each kind; the rest are a link away
# (the findings list, filtered). A family's first group holds every 应入群未入群 of the family:
# 1,747 at 20,000 employees, a page of 0.4 s listed whole (docs/performance.md). Rendering a
# finding's row is most of the page's CPU (100 a kind: ~75 ms of Python, 30: ~60 ms).
FINDINGS_PER_KIND_ON_PAGE = 30


@dataclass(frozen=True)
class KindFindings:
    """One kind of a group's open findings, as its page shows it."""

    kind: str
    label: str
    total: int  # open findings of this kind, all of them
    findings: list[Finding]  # the first FINDINGS_PER_KIND_ON_PAGE, in the page's order

    @property
    def more(self) -> bool:
        return self.total > len(self.findings)


def open_findings_by_kind(group: ChatGroup, *, per_kind: int | None = None) -> list[KindFindings]:
    """The group's open findings grouped by kind, worst kind first, at most ``per_kind``
    (FINDINGS_PER_KIND_ON_PAGE) of each with the kind's total — two queries, however many
    findings the group has.

    The findings alone are numbered first (the (group, status, kind) index, no join): a
    family's first group holds ~1,800 open findings at 20,000 employees, and numbering them
    joined to their employees, departments and to-dos cost PostgreSQL ~15 ms a page. Only
    the kept rows are then read with their employee and to-do.
    """
    per_kind = per_kind or FINDINGS_PER_KIND_ON_PAGE
    by_kind = Window(RowNumber(), partition_by=[F("kind")], order_by=[F("display_name"), F("pk")])
    kept = dict(
        Finding.objects.filter(group=group, status=Finding.Status.OPEN)
        .annotate(place=by_kind, kind_total=Window(Count("pk"), partition_by=[F("kind")]))
        .filter(place__lte=per_kind)
        .order_by()
        .values_list("pk", "kind_total")
    )
    findings = (
        Finding.objects.filter(pk__in=kept)
        .select_related("employee__department", "action")
        .order_by("-severity", "kind", "display_name", "pk")
    )
    grouped: dict[str, list[Finding]] = {}
    totals: dict[str, int] = {}
    for finding in findings:
        grouped.setdefault(finding.kind, []).append(finding)
        totals[finding.kind] = kept[finding.pk]
    labels = dict(Finding.Kind.choices)
    return [
        KindFindings(kind, labels[kind], totals[kind], items) for kind, items in grouped.items()
    ]


def open_finding_counts(group: ChatGroup) -> list[tuple[str, int]]:
    """(kind's label, open findings) of the group, worst kind first: one GROUP BY."""
    rows = (
        Finding.objects.filter(group=group, status=Finding.Status.OPEN)
        .values("kind")
        .annotate(n=Count("pk"), worst=Max("severity"))
        .order_by("-worst", "kind")
    )
    labels = dict(Finding.Kind.choices)
    return [(labels[row["kind"]], row["n"]) for row in rows]


def todo_for_creator(group: ChatGroup) -> QuerySet:
    """Open roster actions of a group (and, for a family's first group, MISSING ones), oldest due first."""
    return (
        RosterAction.objects.filter(group=group, status=RosterAction.Status.OPEN)
        .select_related("finding__employee__department", "assignee", "group")
        .order_by("due_on", "finding__kind", "pk")
    )


def rename_todos_of(employee: Employee) -> QuerySet[RosterAction]:
    """The member's own open rename to-dos (§5.3.b), earliest due first: their /me/ page.
    Only the member's: the to-do's finding is about them and it is theirs to fix."""
    return (
        RosterAction.objects.filter(
            finding__employee=employee,
            owner=RosterAction.Owner.MEMBER,
            kind=RosterAction.Kind.RENAME,
            status=RosterAction.Status.OPEN,
        )
        .select_related("group", "finding__employee__department")
        .order_by("due_on", "group__name", "pk")
    )


# Re-exported last: groups.selectors.findings builds on the visibility rules above (a package's
# __init__ always runs first, so importing the submodule directly works too).
from groups.selectors.findings import (  # noqa: E402
    HOUSE_RULE_LABEL,
    can_view_finding,
    finding_seen_as_head_only,
    findings_visible_to,
    heads_confidential_findings,
    house_rules,
    name_breaks_only_house_rule,
)

__all__ = [
    "FINDINGS_PER_KIND_ON_PAGE",
    "HOUSE_RULE_LABEL",
    "KindFindings",
    "active_exceptions",
    "can_upload_roster",
    "can_view_finding",
    "can_view_roster",
    "chat_groups_visible_to",
    "eligibility_q",
    "eligible_employee_ids",
    "eligible_employees",
    "finding_seen_as_head_only",
    "findings_for_report",
    "findings_visible_to",
    "groups_for_changelist",
    "groups_of_employee",
    "heads_confidential_findings",
    "house_rules",
    "name_breaks_only_house_rule",
    "open_finding_counts",
    "open_findings_by_kind",
    "rename_todos_of",
    "roster_groups_visible_to",
    "rule_q",
    "todo_for_creator",
]
