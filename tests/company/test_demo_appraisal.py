"""The demo's appraisal: last month's period computed from the demo cases, once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from appraisal.models import Line, Period, Result
from appraisal.services import period_compute, period_lock
from common.actors import SystemActor
from company.demo.appraisal import demo_appraisal_apply, previous_month_code
from members.models import Employee

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("demo", "--employees", "300", "--seed", "3", stdout=out)
    return out.getvalue()


def rows(period: Period) -> tuple[list, list]:
    """The period's rows as the export sees them (not their primary keys)."""
    results = Result.objects.filter(period=period).values_list(
        "employee_id", "department_path", "base_score", "deducted", "warnings", "final_score"
    )
    lines = Line.objects.filter(period=period).values_list(
        "employee_id", "case_id", "clause", "sanction", "occurred_on", "points", "is_joint"
    )
    return sorted(results), sorted(lines)


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)


@pytest.fixture
def demo(no_password) -> str:
    return run_demo()


@pytest.mark.parametrize(
    ("today", "code"),
    [("2026-11-26", "2026-10"), ("2027-01-01", "2026-12"), ("2026-03-31", "2026-02")],
)
def test_previous_month_code(today, code):
    assert previous_month_code(dt.date.fromisoformat(today)) == code


def test_last_months_period_is_computed_with_results_and_lines(demo):
    code = previous_month_code(timezone.localdate())
    period = Period.objects.get(code=code)
    assert period.state == Period.State.COMPUTED
    assert Result.objects.filter(period=period).count() >= Employee.objects.active().count()
    # The demo's cases happened 3 to 50 days ago: some always fall in last month.
    assert Line.objects.filter(period=period).exists()
    assert f"考核期间 {code} 已计算：" in demo


def test_running_the_demo_twice_leaves_the_same_rows(demo):
    period = Period.objects.get(code=previous_month_code(timezone.localdate()))
    before = (
        list(Result.objects.order_by("pk").values()),
        list(Line.objects.order_by("pk").values()),
        period.computed_at,
    )

    out = run_demo()

    period.refresh_from_db()
    after = (
        list(Result.objects.order_by("pk").values()),
        list(Line.objects.order_by("pk").values()),
        period.computed_at,
    )
    assert after == before
    assert "已有结果，未重算" in out


def test_computing_the_demo_period_again_gives_the_same_rows(demo):
    period = Period.objects.get(code=previous_month_code(timezone.localdate()))
    before = rows(period)
    period_compute(period=period, actor=SystemActor("demo"))
    assert rows(period) == before


def test_a_locked_demo_period_is_left_alone(db):
    today = dt.date(2026, 11, 26)
    summary = demo_appraisal_apply(today=today)
    period = Period.objects.get(code="2026-10")
    period_lock(period=period, actor=SystemActor("demo"))

    again = demo_appraisal_apply(today=today)

    assert (summary.computed, again.computed) == (True, False)
    period.refresh_from_db()
    assert period.state == Period.State.LOCKED
