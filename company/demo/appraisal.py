"""Demo appraisal: last month's period computed from the demo cases, so that `make run`
shows results, lines and an export to download.

Like the rest of the demo, a second run changes nothing: the period is computed
when it has never been, and left as it is once computed (or locked). Computing it
again — the admin's action, `compute_appraisal` — would replace its rows with the
same ones (appraisal.services.compute is idempotent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from appraisal.models import Line, Period, Result
from appraisal.services import period_compute, period_get_or_create
from company.demo import DEMO


@dataclass(frozen=True)
class DemoAppraisalSummary:
    period: str
    computed: bool  # computed by this run (False: it already had its results)
    employees: int
    lines: int
    deducted: Decimal


def previous_month_code(today: dt.date) -> str:
    """'2026-12' for any day of January 2027."""
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last_month:%Y-%m}"


def demo_appraisal_apply(*, today: dt.date | None = None) -> DemoAppraisalSummary:
    """Last month's period, created and computed unless it already was; returns its totals."""
    code = previous_month_code(today or timezone.localdate())
    period = period_get_or_create(code=code)
    computed = period.state == Period.State.OPEN
    if computed:
        period_compute(period=period, actor=DEMO)
    results = Result.objects.filter(period=period)
    return DemoAppraisalSummary(
        period=code,
        computed=computed,
        employees=results.count(),
        lines=Line.objects.filter(period=period).count(),
        deducted=results.aggregate(total=Sum("deducted"))["total"] or Decimal("0"),
    )
