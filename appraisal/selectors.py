"""Reads for the appraisal: who sees which results and lines (§7.1, §9.12).

HR, Finance and whoever else holds the model's view permission see every row; a
department head sees their department's, sub-departments included; everyone with
a login sees their own. A department is the one the result was computed with
(``Result.department_path``), so a locked period keeps its org chart: a head sees
what their department was appraised on, not who moved in since. A line goes with
its employee's result for the same period.

Also the cases a period counts, and the corrections a locked period is owed (§7.1):
the computation writes them as adjustments, the admin tells HR when no later period
exists yet to take them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from appraisal.models import Line, Period, Result, period_after
from members.models import Department
from members.selectors import headed_departments_q
from violations.models import Case, CaseTransition

ZERO = Decimal("0")
TZ = timezone.get_default_timezone()  # Asia/Shanghai: a case belongs to its local day
# What a Line needs of a case (read as plain values: a period has up to 100,000).
CASE_FIELDS = (
    "pk",
    "employee_id",
    "points",
    "sanction",
    "occurred_at",
    "joint_of_id",
    "rule__code",
    "rule__title_zh",
)


def _visible_results_q(user) -> Q:
    # department_path, department_path__startswith: the department computed with.
    return Q(employee__user=user) | headed_departments_q(user, "department_")


def results_visible_to(user) -> QuerySet[Result]:
    """Every Result ``user`` may see, with what lists show (period, employee), in one query."""
    qs = Result.objects.select_related("period", "employee")
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("appraisal.view_result"):
        return qs
    return qs.filter(_visible_results_q(user))


def lines_visible_to(user) -> QuerySet[Line]:
    """Every Line ``user`` may see: those of the results they may see (same period, employee)."""
    qs = Line.objects.select_related("period", "employee", "corrects")
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("appraisal.view_line"):
        return qs
    visible = Result.objects.filter(
        _visible_results_q(user), period=OuterRef("period"), employee=OuterRef("employee")
    )
    return qs.filter(Exists(visible))


def departments_visible_to(user) -> QuerySet[Department]:
    """The departments whose results ``user`` may list (the admin's department filter)."""
    if user.has_perm("appraisal.view_result"):
        return Department.objects.all()
    return Department.objects.filter(headed_departments_q(user))


# -- what a period counts, and what a locked period is owed (§7.1) ---------------------------


def local_range(starts: dt.date, ends: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(starts, dt.time.min, tzinfo=TZ)
    end = dt.datetime.combine(ends + dt.timedelta(days=1), dt.time.min, tzinfo=TZ)
    return start, end


def counting_cases(
    starts: dt.date, ends: dt.date, *, case_ids: set[int] | None = None
) -> list[dict]:
    """The cases that count (Case.COUNTING_STATES) between ``starts`` and ``ends`` (local dates),
    as CASE_FIELDS values, optionally only among ``case_ids``."""
    start, end = local_range(starts, ends)
    qs = Case.objects.filter(
        state__in=Case.COUNTING_STATES, occurred_at__gte=start, occurred_at__lt=end
    )
    if case_ids is not None:
        qs = qs.filter(pk__in=case_ids)
    return list(qs.order_by("employee_id", "occurred_at", "pk").values(*CASE_FIELDS))


def corrections_of(
    locked: Period, *, case_ids: set[int] | None = None
) -> list[tuple[dict, Decimal]]:
    """(case, points to add) for every case of ``locked`` whose points now differ from
    what the period and the adjustments locked since recorded: a case confirmed after
    the computation (positive), one overturned (negative). Optionally only ``case_ids``."""
    recorded: dict[int, Decimal] = defaultdict(lambda: ZERO)
    lines = Line.objects.filter(
        Q(period=locked, corrects__isnull=True)
        | Q(corrects=locked, period__state=Period.State.LOCKED)
    )
    if case_ids is not None:
        lines = lines.filter(case_id__in=case_ids)
    for case_id, points in lines.values_list("case_id", "points"):
        recorded[case_id] += points
    now_counting = {
        c["pk"]: c for c in counting_cases(locked.starts_on, locked.ends_on, case_ids=case_ids)
    }
    missing = set(recorded) - set(now_counting)
    gone = {c["pk"]: c for c in Case.objects.filter(pk__in=missing).values(*CASE_FIELDS)}
    corrections = []
    for case_id in sorted(set(recorded) | set(now_counting)):
        desired = now_counting[case_id]["points"] if case_id in now_counting else ZERO
        delta = desired - recorded[case_id]
        if delta:
            corrections.append((now_counting.get(case_id) or gone[case_id], delta))
    return corrections


@dataclass(frozen=True)
class WaitingCorrections:
    """Corrections of a locked period that no later period can take yet: ``needed`` is
    the code of the period to create (the first after ``locked`` that does not exist)."""

    locked: Period
    needed: str
    corrections: list[tuple[int, Decimal]]  # (case id, points: negative is given back)


def corrections_waiting() -> list[WaitingCorrections]:
    """Locked periods owed a correction while no not-locked period follows them (§7.1:
    corrections go to the first not-locked period after the locked one; with none, they
    wait). A few queries when nothing waits, whatever the number of periods and lines."""
    periods = list(Period.objects.order_by("starts_on"))
    open_starts = [p.starts_on for p in periods if p.state != Period.State.LOCKED]
    stranded = [
        p
        for p in periods
        if p.state == Period.State.LOCKED and not any(s > p.ends_on for s in open_starts)
    ]
    if not stranded:
        return []
    # Only a case that changed after the computation can be owed a correction: every
    # change of state writes a CaseTransition (violations.services.cases), and the
    # points are fixed at confirmation.
    changed_q = Q()
    for period in stranded:
        start, end = local_range(period.starts_on, period.ends_on)
        since = period.computed_at or period.locked_at
        in_period = Q(case__occurred_at__gte=start, case__occurred_at__lt=end)
        changed_q |= in_period & Q(at__gte=since) if since else in_period
    changed = list(
        CaseTransition.objects.filter(changed_q)
        .values_list("case_id", "case__occurred_at")
        .distinct()
    )
    existing = {p.code for p in periods}
    waiting = []
    for period in stranded:
        start, end = local_range(period.starts_on, period.ends_on)
        case_ids = {pk for pk, at in changed if start <= at < end}
        if not case_ids:
            continue
        corrections = corrections_of(period, case_ids=case_ids)
        if not corrections:
            continue
        needed = period_after(period.code)
        while needed in existing:
            needed = period_after(needed)
        waiting.append(
            WaitingCorrections(
                locked=period,
                needed=needed,
                corrections=[(case["pk"], delta) for case, delta in corrections],
            )
        )
    return waiting
