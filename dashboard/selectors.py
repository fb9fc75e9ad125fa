"""What the admin's front page (工作台) shows each role, read through the selectors the lists
use — so that every figure is the count of the list it links to (docs/dashboard.md).

One section per role the user holds: 全公司 for HR and company leaders (leaders read-only, and
only the parts whose lists they may open), 本部门 for a department head (§9.12), 我的群 for a
group's creator or admins (§5.1, §5.2), 财务 for finance. Each section's queries are grouped
(a GROUP BY or conditional counts), never one per row, so the page's query count stays flat
as the company grows (tests/dashboard/test_queries.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, F, Func, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone

from announcements.selectors import announcements_waiting_count
from appraisal.exceptions import AppraisalError
from appraisal.models import Period, Result, SettlementImport
from appraisal.selectors import local_range
from appraisal.services.periods import check_lock
from company.roles import COMPANY_LEADERS, FINANCE, HR
from directives.models import DirectiveAssignment
from directives.selectors import directives_visible_to
from groups.models import Finding, RosterAction, RosterSnapshot
from groups.models.roster import compliance_display, compliance_rate
from groups.selectors import findings_visible_to, groups_for_changelist, roster_groups_visible_to
from members.models import PATH_SEPARATOR, Department
from violations.models import Case
from violations.selectors import cases_visible_to

# Who holds which role, told by the permissions that make it (company.roles, read from the
# permission cache the admin has loaded anyway, no query): 人力资源部 decides cases (§7.1);
# a 公司领导 approves as a leader, which HR never holds (ROLE_FORBIDDEN); 财务 imports the pay
# sheet, and HR, who may too, gets 全公司 instead. The superuser holds them all.
HR_PERMISSION = "violations.decide_case"
LEADER_PERMISSION = "announcements.approve_as_leader"
FINANCE_PERMISSION = "appraisal.import_settlement"
ROLES_BY_PERMISSION = {
    HR: HR_PERMISSION,
    COMPANY_LEADERS: LEADER_PERMISSION,
    FINANCE: FINANCE_PERMISSION,
}

MONTHS_SHOWN = 6  # 案件月度: this month and the five before it
TREND_SNAPSHOTS = 8  # 合规率趋势: a group's last reconciled snapshots
OLDEST_WAITING = 10  # 待处理案件: the oldest ones listed by name
TOP_ROWS = 10  # per group / per person / per rule tables: the largest rows
WAITING_STATES = (Case.State.PROPOSED, Case.State.APPEALED)  # HR's queue (QUEUE_ASKS)

NOTE_WAITING_IN_PERIOD = (
    "本期仍有 {n} 件案件待处理；锁定后才确认的，计入下一个未锁定的期间（§7.1）。"
)


# -- what the template draws -------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number and the filtered list it counts (the template links every number)."""

    label: str
    count: int
    url: str


@dataclass(frozen=True)
class GroupCompliance:
    """A group's latest 合规率, as its row in the group list shows it, and its trend."""

    name: str
    rate: float | None
    text: str  # the group list's words: "92%" or "—"
    url: str  # the group list, this group only
    trend: list[float | None]  # oldest first


@dataclass(frozen=True)
class Table:
    """Rows × months of figures: 案件月度 by rule, by department."""

    title: str
    columns: list[str]
    rows: list[tuple[str, list[Figure]]]


@dataclass(frozen=True)
class PeriodState:
    code: str
    state: str
    url: str
    blockers: list[str]  # what stops locking it: the lock service's own refusal, or none
    lockable: bool  # computed, nothing stops it: HR may lock it (period_lock)
    waiting: Figure | None  # its cases still waiting (proposed, appealed)


@dataclass
class Overview:
    """全公司: HR's (and, read-only, a company leader's) view of the whole company."""

    read_only: bool
    waiting: list[Figure] = field(default_factory=list)
    oldest: list[tuple[Case, str]] = field(default_factory=list)  # (case, its page)
    overdue: Figure | None = None
    overdue_by_group: list[Figure] = field(default_factory=list)
    overdue_by_assignee: list[Figure] = field(default_factory=list)
    compliance: list[GroupCompliance] | None = None
    findings_by_kind: list[Figure] | None = None
    months: list[Figure] | None = None
    month_tables: list[Table] = field(default_factory=list)
    period: PeriodState | None = None
    announcements: Figure | None = None


@dataclass(frozen=True)
class DepartmentSection:
    """本部门 (§9.12): a head's department with its sub-departments."""

    name: str
    figures: list[Figure]


@dataclass(frozen=True)
class GroupSection:
    """我的群 (§5.1, §5.2): one group its creator or admin runs."""

    name: str
    figures: list[Figure]


@dataclass
class Dashboard:
    overview: Overview | None = None
    departments: list[DepartmentSection] = field(default_factory=list)
    findings_seen: list[Figure] = field(default_factory=list)  # a head's findings list
    directives: Figure | None = None
    groups: list[GroupSection] = field(default_factory=list)
    finance: list[Figure] = field(default_factory=list)
    finance_periods: list[Figure] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.overview or self.departments or self.groups or self.finance or self.directives
        )


def list_url(model_name: str, **params) -> str:
    """The admin list of ``model_name`` ("violations.case") filtered by ``params``."""
    app, model = model_name.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


# -- the page --------------------------------------------------------------------------------


def dashboard_for(user, *, today: dt.date | None = None) -> Dashboard:
    """Every section ``user``'s roles call for, each figure counted over the same rows as the
    list it links to (the lists' own selectors)."""
    board = Dashboard()
    if user is None or not user.is_authenticated or not user.is_staff:
        return board
    today = today or timezone.localdate()
    is_hr, is_leader = user.has_perm(HR_PERMISSION), user.has_perm(LEADER_PERMISSION)
    if is_hr or is_leader:
        board.overview = overview_for(user, today=today, read_only=not is_hr)
        if is_leader:
            waiting = announcements_waiting_count(user, today=today)
            url = list_url("announcements.announcement", inbox="waiting")
            board.overview.announcements = Figure("待我审批的公告", waiting, url)
    headed = _headed_departments(user)
    if headed:
        board.departments = department_sections(user, headed, today=today)
        if not user.has_perm("groups.view_finding"):  # else 全公司 shows them all
            board.findings_seen = findings_by_kind(user)
        board.directives = open_assignments(user)
    if not user.has_perm("groups.view_rostersnapshot"):
        board.groups = group_sections(user, today=today)
    if user.has_perm(FINANCE_PERMISSION) and not user.has_perm(HR_PERMISSION):
        board.finance, board.finance_periods = finance_figures()
    return board


def _headed_departments(user) -> list[Department]:
    return list(Department.objects.filter(head__user=user).order_by("path"))


# -- 全公司 (HR, company leaders) ---------------------------------------------------------


def overview_for(user, *, today: dt.date, read_only: bool) -> Overview:
    """The parts of 全公司 whose lists ``user`` may open; the others are left out, never
    shown as —."""
    overview = Overview(read_only=read_only)
    if user.has_perm("violations.view_case"):
        overview.waiting, overview.oldest = waiting_cases(user)
        overview.months, overview.month_tables = cases_per_month(user, today=today)
    if user.has_perm("groups.view_rosteraction"):
        overview.overdue, overview.overdue_by_group, overview.overdue_by_assignee = overdue_todos(
            user, today=today
        )
    if user.has_perm("groups.view_chatgroup"):
        overview.compliance = group_compliance(user)
    if user.has_perm("groups.view_finding"):
        overview.findings_by_kind = findings_by_kind(user)
    if user.has_perm("appraisal.view_period"):
        overview.period = current_period(user, today=today)
    return overview


def waiting_cases(user) -> tuple[list[Figure], list[tuple[Case, str]]]:
    """待处理案件: proposed and appealed (HR's queue, violations.selectors.QUEUE_ASKS), and
    the oldest of them first."""
    visible = cases_visible_to(user)
    counts = (
        visible.filter(state__in=WAITING_STATES)  # the state index, not every case
        .order_by()
        .aggregate(**{str(state): Count("pk", filter=Q(state=state)) for state in WAITING_STATES})
    )
    figures = [
        Figure(
            Case.State(state).label,
            counts[str(state)],
            list_url("violations.case", state__exact=state),
        )
        for state in WAITING_STATES
    ]
    oldest = (
        visible.filter(state__in=WAITING_STATES)
        .select_related(None)
        .select_related("rule", "employee")
        .order_by("created_at", "pk")[:OLDEST_WAITING]
    )
    return figures, [
        (case, reverse("admin:violations_case_change", args=[case.pk])) for case in oldest
    ]


def _todos_visible_to(user) -> QuerySet[RosterAction]:
    # As the to-do list (groups.admin.mixins.RosterScopedAdmin): HR all, others their groups'.
    if user.has_perm("groups.view_rosteraction"):
        return RosterAction.objects.all()
    return RosterAction.objects.filter(group__in=roster_groups_visible_to(user))


def overdue_todos(user, *, today: dt.date) -> tuple[Figure, list[Figure], list[Figure]]:
    """逾期待办: open to-dos past their due date, all, by group and by the person they are
    assigned to (the group's creator, §5.1, or the member, §5.3.b) — the largest first."""
    overdue = _todos_visible_to(user).filter(status=RosterAction.Status.OPEN, due_on__lt=today)
    base = {"status__exact": RosterAction.Status.OPEN, "due_on__lt": today.isoformat()}
    total = Figure("逾期待办", overdue.count(), list_url("groups.rosteraction", **base))
    by_group = (
        overdue.order_by()
        .values("group_id", "group__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "group__name")[:TOP_ROWS]
    )
    by_assignee = (
        overdue.exclude(assignee=None)
        .order_by()
        .values("assignee_id", "assignee__name", "assignee__employee_no")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee__employee_no")[:TOP_ROWS]
    )
    url = "groups.rosteraction"
    return (
        total,
        [
            Figure(
                row["group__name"],
                row["n"],
                list_url(url, **base, group__id__exact=row["group_id"]),
            )
            for row in by_group
        ],
        [
            Figure(
                f"{row['assignee__name']}（{row['assignee__employee_no']}）",
                row["n"],
                list_url(url, **base, assignee__id__exact=row["assignee_id"]),
            )
            for row in by_assignee
        ],
    )


def group_compliance(user) -> list[GroupCompliance]:
    """Each group's 合规率 as the group list shows it to ``user`` (groups_for_changelist:
    a confidential group's only to those who may see its roster, §6.1), worst first, with
    the trend over its last reconciled snapshots — two queries."""
    figures = groups_for_changelist(user).filter(is_active=True)
    groups = [
        g
        # The annotations are groups_for_changelist's, which the type checker cannot see.
        for g in figures.values(  # type: ignore[misc]
            "pk",
            "name",
            "figures_visible",
            "latest_reconciled_at",
            "latest_member_count",
            "latest_flagged",
        )
        if g["figures_visible"] and g["latest_reconciled_at"]
    ]
    trends = _trends([g["pk"] for g in groups])
    rows = [
        GroupCompliance(
            name=g["name"],
            rate=compliance_rate(g["latest_member_count"], g["latest_flagged"]),
            text=compliance_display(g["latest_member_count"], g["latest_flagged"]),
            url=list_url("groups.chatgroup", id__exact=g["pk"]),
            trend=trends.get(g["pk"], []),
        )
        for g in groups
    ]
    return sorted(rows, key=lambda r: (r.rate is None, r.rate or 0, r.name))


def _trends(group_ids: list[int]) -> dict[int, list[float | None]]:
    """group id → 合规率 of its last TREND_SNAPSHOTS reconciled snapshots, oldest first."""
    if not group_ids:
        return {}
    place = Window(
        RowNumber(), partition_by=[F("group_id")], order_by=[F("taken_at").desc(), F("pk").desc()]
    )
    rows = (
        RosterSnapshot.objects.filter(group_id__in=group_ids, reconciled_at__isnull=False)
        .annotate(place=place)
        .filter(place__lte=TREND_SNAPSHOTS)
        .order_by("group_id", "taken_at", "pk")
        .values_list("group_id", "member_count", "members_with_findings")
    )
    trends: dict[int, list[float | None]] = {}
    for group_id, members, flagged in rows:
        trends.setdefault(group_id, []).append(compliance_rate(members, flagged))
    return trends


def findings_by_kind(user) -> list[Figure]:
    """待处理问题 by kind, the most first: the open findings of the findings list."""
    rows = (
        findings_visible_to(user)
        .filter(status=Finding.Status.OPEN)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("-n", "kind")
    )
    labels = dict(Finding.Kind.choices)
    return [
        Figure(
            labels.get(row["kind"], row["kind"]),
            row["n"],
            list_url("groups.finding", status__exact=Finding.Status.OPEN, kind__exact=row["kind"]),
        )
        for row in rows
    ]


def _months(today: dt.date) -> list[dt.date]:
    """The first days of the last MONTHS_SHOWN local months, oldest first."""
    month = today.replace(day=1)
    months = [month]
    for _ in range(MONTHS_SHOWN - 1):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def _month_q(month: dt.date) -> Q:
    end = (month + dt.timedelta(days=32)).replace(day=1)
    start_at, end_at = local_range(month, end - dt.timedelta(days=1))
    return Q(occurred_at__gte=start_at, occurred_at__lt=end_at)


def cases_per_month(user, *, today: dt.date) -> tuple[list[Figure], list[Table]]:
    """案件月度: cases by the local month they occurred in (the case list's 发生月份), in all,
    by rule and by top-level department (the list's 部门: sub-departments included) — one
    GROUP BY (rule, department) with a count per month, added up here: a second pass over
    half a year's cases cost PostgreSQL ~70 ms at 100,000 cases."""
    months = _months(today)
    keys = [f"{m:%Y-%m}" for m in months]
    per_month = {f"m{i}": Count("pk", filter=_month_q(m)) for i, m in enumerate(months)}
    since = local_range(months[0], months[0])[0]
    recent = cases_visible_to(user).select_related(None).filter(occurred_at__gte=since).order_by()
    rows = list(
        recent.values(
            "rule_id", "rule__code", "rule__title_zh", "employee__department__path"
        ).annotate(**per_month)
    )
    by_rule = _summed(rows, ("rule_id", "rule__code", "rule__title_zh"), len(months))
    by_path = _summed(rows, ("employee__department__path",), len(months))
    totals = [sum(row[f"m{i}"] for row in by_rule) for i in range(len(months))]
    labels = [f"{m.year}年{m.month}月" for m in months]
    columns = [
        Figure(labels[i], totals[i], list_url("violations.case", month=keys[i]))
        for i in range(len(months))
    ]

    def cells(row, **params) -> list[Figure]:
        return [
            Figure(labels[i], row[f"m{i}"], list_url("violations.case", month=keys[i], **params))
            for i in range(len(months))
        ]

    by_rule.sort(key=lambda r: (-sum(r[f"m{i}"] for i in range(len(months))), r["rule__code"]))
    rule_rows = [
        (f"{row['rule__code']} {row['rule__title_zh']}", cells(row, rule__id__exact=row["rule_id"]))
        for row in by_rule[:TOP_ROWS]
    ]
    department_rows = _by_top_department(by_path, len(months), cells)
    return columns, [
        # Only the rules with the most cases: the title says so (the columns' totals are
        # the chart's, over every rule).
        Table(
            f"按规则（案件最多的 {TOP_ROWS} 条，共 {len(by_rule)} 条）"
            if len(by_rule) > TOP_ROWS
            else "按规则",
            labels,
            rule_rows,
        ),
        Table("按部门（含下级部门）", labels, department_rows),
    ]


def _summed(rows: list[dict], keys: tuple[str, ...], n: int) -> list[dict]:
    """``rows`` added up per value of ``keys``, month by month (m0 … m{n-1})."""
    summed: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        into = summed.setdefault(
            key, {**dict(zip(keys, key, strict=True)), **{f"m{i}": 0 for i in range(n)}}
        )
        for i in range(n):
            into[f"m{i}"] += row[f"m{i}"]
    return list(summed.values())


def _by_top_department(rows: Iterable[dict], n: int, cells) -> list[tuple[str, list[Figure]]]:
    """Rows per department path, added up to their top-level departments."""
    summed: dict[str, dict[str, int]] = {}
    for row in rows:
        path = row["employee__department__path"]
        if not path:
            continue
        top = summed.setdefault(
            path.split(PATH_SEPARATOR)[0], dict.fromkeys((f"m{i}" for i in range(n)), 0)
        )
        for i in range(n):
            top[f"m{i}"] += row[f"m{i}"]
    pks = dict(Department.objects.filter(path__in=summed).values_list("path", "pk"))
    ordered = sorted(summed.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return [(path, cells(counts, department=pks[path])) for path, counts in ordered if path in pks][
        :TOP_ROWS
    ]


def current_period(user, *, today: dt.date) -> PeriodState | None:
    """The period HR works on: the earliest not locked that has begun (else the latest), its
    state, and what stops locking it — the lock service's own check (check_lock)."""
    begun = Period.objects.filter(starts_on__lte=today)
    period = (
        begun.exclude(state=Period.State.LOCKED).order_by("starts_on", "pk").first()
        or Period.objects.order_by("-starts_on", "-pk").first()
    )
    if period is None:
        return None
    blockers = []
    if period.state != Period.State.LOCKED:
        try:
            check_lock(period)
        except AppraisalError as refusal:
            blockers.append(str(refusal))
    waiting = None
    if period.state != Period.State.LOCKED and user.has_perm("violations.view_case"):
        start_at, end_at = local_range(period.starts_on, period.ends_on)
        n = (
            cases_visible_to(user)
            .filter(state__in=WAITING_STATES, occurred_at__gte=start_at, occurred_at__lt=end_at)
            .order_by()
            .count()
        )
        url = list_url(
            "violations.case",
            state__in=",".join(WAITING_STATES),
            occurred_at__gte=start_at.isoformat(),
            occurred_at__lt=end_at.isoformat(),
        )
        waiting = Figure("本期待处理案件", n, url)
    return PeriodState(
        code=period.code,
        state=period.get_state_display(),
        url=reverse("admin:appraisal_period_change", args=[period.pk]),
        blockers=blockers,
        lockable=period.state == Period.State.COMPUTED and not blockers,
        waiting=waiting,
    )


# -- 本部门 (a department head, §9.12) ------------------------------------------------------


def _latest_computed_period() -> Period | None:
    return Period.objects.exclude(state=Period.State.OPEN).order_by("-starts_on", "-pk").first()


def department_sections(
    user, headed: list[Department], *, today: dt.date
) -> list[DepartmentSection]:
    """Per department the head runs: its people's cases waiting (proposed, appealed) and
    confirmed this month, and their results of the latest computed period — a query each per department (a head runs one or two). A figure
    of 0 is left out: a head's lists open only when they have rows (ScopedAdmin).

    Counted on the department's rows alone: every case and result of the people of a
    department ``user`` heads is in their scope (§9.12: cases_visible_to and
    results_visible_to grant exactly that), so the scope's union — and its DISTINCT, 0.37 s
    over 100,000 cases on SQLite — adds nothing to these counts."""
    period = _latest_computed_period()
    month = today.replace(day=1)
    sections = []
    for department in headed:
        # Waiting (any month: the state index) and confirmed this month (the occurred_at
        # index): not every confirmed case ever, which read most of a large department's.
        waiting = Q(state__in=WAITING_STATES)
        confirmed = Q(state=Case.State.CONFIRMED) & _month_q(month)
        cases = (
            Case.objects.filter(department.subtree_q("employee__department__"))
            .filter(waiting | confirmed)
            .order_by()
            .aggregate(
                **{str(s): Count("pk", filter=Q(state=s)) for s in WAITING_STATES},
                confirmed=Count("pk", filter=Q(state=Case.State.CONFIRMED)),
            )
        )
        figures = [
            Figure(
                f"案件：{Case.State(s).label}",
                cases[str(s)],
                list_url("violations.case", department=department.pk, state__exact=s),
            )
            for s in WAITING_STATES
        ]
        figures.append(
            Figure(
                f"{month.year}年{month.month}月已确认的案件",
                cases["confirmed"],
                list_url(
                    "violations.case",
                    department=department.pk,
                    state__exact=Case.State.CONFIRMED,
                    month=f"{month:%Y-%m}",
                ),
            )
        )
        if period is not None:
            results = Result.objects.filter(department.subtree_q("department_"), period=period)
            figures.append(
                Figure(
                    f"{period.code} 考核结果",
                    results.order_by().count(),
                    list_url(
                        "appraisal.result", period__id__exact=period.pk, department=department.path
                    ),
                )
            )
        sections.append(DepartmentSection(department.path, [f for f in figures if f.count]))
    return sections


def open_assignments(user) -> Figure | None:
    """指令 not yet done, as the assignment list scopes them (directives_visible_to); None
    when there are none (a head's list opens only when it has rows)."""
    visible = directives_visible_to(user).values("pk")
    states = DirectiveAssignment.OPEN_STATES
    n = DirectiveAssignment.objects.filter(directive__in=visible, state__in=states).count()
    url = list_url("directives.directiveassignment", state__in=",".join(states))
    return Figure("未完成的指令", n, url) if n else None


# -- 我的群 (a group's creator or admins, §5.1, §5.2) ----------------------------------------


def _count(rows: QuerySet) -> Coalesce:
    """A correlated COUNT of ``rows`` (filtered on OuterRef), 0 when none."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted), 0)


def group_sections(user, *, today: dt.date) -> list[GroupSection]:
    """The groups whose rosters ``user`` sees, each with its open and overdue to-dos and
    open findings — one query whatever the number of groups."""
    todos = RosterAction.objects.filter(group=OuterRef("pk"), status=RosterAction.Status.OPEN)
    findings = Finding.objects.filter(group=OuterRef("pk"), status=Finding.Status.OPEN)
    groups = (
        roster_groups_visible_to(user)
        .annotate(
            todos=_count(todos), late=_count(todos.filter(due_on__lt=today)), open=_count(findings)
        )
        .order_by("code")
        .values_list("pk", "name", "todos", "late", "open")
    )
    sections = []
    for pk, name, n_todos, n_late, n_findings in groups:
        base = {"status__exact": RosterAction.Status.OPEN, "group__id__exact": pk}
        late = {**base, "due_on__lt": today.isoformat()}
        findings_url = list_url(
            "groups.finding", status__exact=Finding.Status.OPEN, group__id__exact=pk
        )
        sections.append(
            GroupSection(
                name,
                [
                    Figure("待办", n_todos, list_url("groups.rosteraction", **base)),
                    Figure("逾期待办", n_late, list_url("groups.rosteraction", **late)),
                    Figure("待处理问题", n_findings, findings_url),
                ],
            )
        )
    return sections


# -- 财务 -------------------------------------------------------------------------------------


def finance_figures() -> tuple[list[Figure], list[Figure]]:
    """Periods ready to export (locked: final; computed: a preview that may still change)
    and the pay sheets imported, in all and per recent period."""
    states = Period.objects.order_by().aggregate(
        locked=Count("pk", filter=Q(state=Period.State.LOCKED)),
        computed=Count("pk", filter=Q(state=Period.State.COMPUTED)),
    )
    imports = SettlementImport.objects.count()
    figures = [
        Figure(
            "已锁定、可导出的考核期间",
            states["locked"],
            list_url("appraisal.period", state__exact=Period.State.LOCKED),
        ),
        Figure(
            "已计算、未锁定的考核期间",
            states["computed"],
            list_url("appraisal.period", state__exact=Period.State.COMPUTED),
        ),
        Figure("已导入的工资表", imports, list_url("appraisal.settlementimport")),
    ]
    recent = (
        Period.objects.exclude(state=Period.State.OPEN)
        .annotate(n=Count("imports"))
        .order_by("-starts_on", "-pk")[:MONTHS_SHOWN]
    )
    per_period = [
        Figure(
            f"{p.code}（{p.get_state_display()}）已导入",
            p.n,
            list_url("appraisal.settlementimport", period__id__exact=p.pk),
        )
        for p in recent
    ]
    return figures, per_period
