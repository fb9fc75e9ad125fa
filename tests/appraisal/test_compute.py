"""Computing a period, on a hand-checked example (§7.1, §9.8): escalation, joint liability,
overturned cases, the cap, adjustments after lock, idempotence."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appraisal.models import GradeBand, Line, Period, Result
from appraisal.services import (
    AppraisalError,
    PeriodCodeError,
    period_compute,
    period_get_or_create,
    period_lock,
)
from appraisal.tasks import compute_period
from company.roles import FINANCE, HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from violations.models import Rule
from violations.services import case_appeal, case_confirm, case_decide_appeal, case_file

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ)


@pytest.fixture
def hr(hr, hr2):
    """Three HR clerks (the shared two and hr3), so that four eyes hold at every step."""
    return [hr, hr2, UserFactory(username="hr3", roles=[HR])]


@pytest.fixture
def staff():
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(name="郭杰华", employee_no="S01", department=sales)
    department_set_head(department=sales, head=head)
    return {
        "head": head,
        "a": EmployeeFactory(name="李娜", employee_no="S02", department=sales),
        "b": EmployeeFactory(name="王芳", employee_no="S03", department=sales),
        "group": ChatGroupFactory(),
    }


def confirmed(staff, hr, who: str, code: str, day: str):
    case = case_file(
        rule=Rule.objects.get(code=code),
        employee=staff[who],
        group=staff["group"],
        occurred_at=at(day),
        description=f"§{code}",
        actor=hr[0],
    )
    return case_confirm(case=case, actor=hr[1], comment="属实")


def overturn(case, staff, hr):
    case_appeal(case=case, actor=hr[0], comment="员工申诉")
    return case_decide_appeal(case=case, actor=hr[2], uphold=False, comment="申诉成立")


@pytest.fixture
def october(staff, hr):
    """The hand-checked month. Expected (base 100):
    李娜 S02: §9.4 on 10-05 = 3.00 (warning) + §9.4 again on 10-20 = 3 × 1.5 = 4.50 → 7.50, 2 warnings
    王芳 S03: §9.8 on 10-10 = 2.00 (warning); §9.3 on 10-15 overturned → not counted → 2.00, 1 warning
    郭杰华 S01 (head of 销售部): §9.8 joint liability 50 % of 2.00 = 1.00 (warning) → 1.00, 1 warning
    Not counted: a proposed case, and a case of 11-02 (next month).
    """
    cases = {
        "a1": confirmed(staff, hr, "a", "9.4", "2026-10-05"),
        "a2": confirmed(staff, hr, "a", "9.4", "2026-10-20"),
        "b1": confirmed(staff, hr, "b", "9.8", "2026-10-10"),
        "b2": overturn(confirmed(staff, hr, "b", "9.3", "2026-10-15"), staff, hr),
        "a_next_month": confirmed(staff, hr, "a", "9.7", "2026-11-02"),
    }
    case_file(
        rule=Rule.objects.get(code="5.3.b"),
        employee=staff["a"],
        group=staff["group"],
        occurred_at=at("2026-10-07"),
        description="未审核",
        actor=hr[0],
    )
    return period_get_or_create(code="2026-10"), cases


def table(period) -> dict[str, tuple]:
    return {
        r.employee.employee_no: (r.deducted, r.warnings, r.final_score, r.grade)
        for r in Result.objects.filter(period=period).select_related("employee")
    }


def test_the_hand_checked_month(october, hr):
    period, cases = october
    summary = period_compute(period=period, actor=hr[0])
    assert table(period) == {
        "S02": (Decimal("7.50"), 2, Decimal("92.50"), ""),
        "S03": (Decimal("2.00"), 1, Decimal("98.00"), ""),
        "S01": (Decimal("1.00"), 1, Decimal("99.00"), ""),
    }
    lines = {
        (line.employee.employee_no, line.case_id): (line.clause, line.points, line.is_joint)
        for line in Line.objects.filter(period=period).select_related("employee")
    }
    joint = cases["b1"].joint_cases.get()
    assert lines == {
        ("S02", cases["a1"].pk): ("9.4", Decimal("3.00"), False),
        ("S02", cases["a2"].pk): ("9.4", Decimal("4.50"), False),
        ("S03", cases["b1"].pk): ("9.8", Decimal("2.00"), False),
        ("S01", joint.pk): ("9.8", Decimal("1.00"), True),
    }
    assert summary.lines == 4
    assert summary.deducted == Decimal("10.50")
    period.refresh_from_db()
    assert period.state == Period.State.COMPUTED
    assert period.computed_by == hr[0]


def test_the_cap_and_the_grades_are_data(october, hr):
    period, _ = october
    period.deduction_cap = Decimal("5")
    period.save()
    GradeBand.objects.create(grade="A", min_score=Decimal("95"))
    GradeBand.objects.create(grade="B", min_score=Decimal("80"))
    period_compute(period=period, actor=hr[0])
    assert table(period)["S02"] == (Decimal("5.00"), 2, Decimal("95.00"), "A")
    assert table(period)["S03"] == (Decimal("2.00"), 1, Decimal("98.00"), "A")


def test_computing_twice_gives_the_same_rows(october, hr):
    period, _ = october
    period_compute(period=period, actor=hr[0])
    first = (table(period), sorted(Line.objects.values_list("case_id", "points", "is_joint")))
    period_compute(period=period, actor=hr[0])
    again = (table(period), sorted(Line.objects.values_list("case_id", "points", "is_joint")))
    assert again == first
    assert Result.objects.filter(period=period).count() == 3


def test_a_failing_run_leaves_the_previous_result(october, hr, monkeypatch):
    period, _ = october
    period_compute(period=period, actor=hr[0])
    before = table(period)

    from appraisal.services import compute

    real_insert = compute.insert_many

    def dies_after_the_results(model, objects, **kwargs):
        if model is Line:  # the results are already replaced when the worker dies
            raise RuntimeError("worker died")
        real_insert(model, objects, **kwargs)

    monkeypatch.setattr(compute, "insert_many", dies_after_the_results)
    with pytest.raises(RuntimeError, match="worker died"):
        period_compute(period=period, actor=hr[0])
    assert table(period) == before


def test_a_locked_period_never_changes_corrections_go_to_the_next_open_one(october, staff, hr):
    period, cases = october
    period_compute(period=period, actor=hr[0])
    period_lock(period=period, actor=hr[0])
    locked_rows = table(period)

    # After the lock: a late case of October is confirmed, and one is overturned.
    late = confirmed(staff, hr, "b", "9.4", "2026-10-25")
    overturn(cases["a2"], staff, hr)
    with pytest.raises(AppraisalError, match="已锁定"):
        period_compute(period=period, actor=hr[0])
    assert table(period) == locked_rows

    november = period_get_or_create(code="2026-11")
    summary = period_compute(period=november, actor=hr[0])
    adjustments = {
        (line.employee.employee_no, line.case_id): line.points
        for line in Line.objects.filter(period=november, corrects=period).select_related("employee")
    }
    assert adjustments == {
        ("S03", late.pk): Decimal("3.00"),
        ("S02", cases["a2"].pk): Decimal("-4.50"),
    }
    assert summary.adjustments == 2
    # 李娜 in November: §9.7 on 11-02 (1.00, a reminder) − 4.50 given back = a net credit
    # of 3.50, shown as such so that payroll returns it.
    assert table(november)["S02"] == (Decimal("-3.50"), 0, Decimal("103.50"), "")
    assert table(november)["S03"] == (Decimal("3.00"), 0, Decimal("97.00"), "")

    # Locking November and computing December: the corrections are not made twice.
    period_lock(period=november, actor=hr[0])
    december = period_get_or_create(code="2026-12")
    assert period_compute(period=december, actor=hr[0]).adjustments == 0


def test_only_hr_computes_and_locks(october, hr):
    period, _ = october
    finance = UserFactory(username="fin", roles=[FINANCE])
    with pytest.raises(AppraisalError, match="人力资源部"):
        period_compute(period=period, actor=finance)
    period_compute(period=period, actor=hr[0])
    with pytest.raises(AppraisalError, match="人力资源部"):
        period_lock(period=period, actor=finance)


def test_lock_needs_a_computed_period_and_happens_once(october, hr):
    period, _ = october
    with pytest.raises(AppraisalError, match="还没有计算"):
        period_lock(period=period, actor=hr[0])
    period_compute(period=period, actor=hr[0])
    period_lock(period=period, actor=hr[0])
    with pytest.raises(AppraisalError, match="已经锁定"):
        period_lock(period=period, actor=hr[0])


@pytest.mark.parametrize(
    ("code", "kind", "starts", "ends"),
    [
        ("2026-02", "monthly", "2026-02-01", "2026-02-28"),
        ("2026-12", "monthly", "2026-12-01", "2026-12-31"),
        ("2026-Q4", "quarterly", "2026-10-01", "2026-12-31"),
        ("2027-Q1", "quarterly", "2027-01-01", "2027-03-31"),
    ],
)
def test_period_codes(code, kind, starts, ends):
    period = period_get_or_create(code=code)
    assert (period.kind, period.starts_on.isoformat(), period.ends_on.isoformat()) == (
        kind,
        starts,
        ends,
    )


@pytest.mark.parametrize("code", ["2026-13", "2026/11", "26-11", "2026-Q5"])
def test_bad_period_codes_are_refused(code):
    with pytest.raises(PeriodCodeError, match="2026-11"):
        period_get_or_create(code=code)


def test_the_celery_task_and_the_command(october, hr):
    period, _ = october
    report = compute_period.delay(period.pk).get()
    assert report["employees"] == 3
    assert report["deducted"] == "10.50"
    out = StringIO()
    call_command("compute_appraisal", "--period", "2026-10", "--lock", stdout=out)
    assert "已锁定" in out.getvalue()
    with pytest.raises(CommandError, match="已锁定"):
        call_command("compute_appraisal", "--period", "2026-10")
    with pytest.raises(CommandError, match="2026-11"):
        call_command("compute_appraisal", "--period", "November")


def test_query_count_does_not_grow_with_employees_or_cases(october, staff, hr):
    period, _ = october

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            period_compute(period=period, actor=hr[0])
        return len(ctx.captured_queries)

    few = queries()
    for i in range(30):
        employee = EmployeeFactory(department=staff["a"].department)
        confirmed({**staff, "x": employee}, hr, "x", "9.10", f"2026-10-{i % 28 + 1:02d}")
    assert queries() == few


def test_a_recomputation_rewrites_only_the_rows_that_changed(october, staff, hr):
    """Unchanged lines and results keep their rows (PostgreSQL checks the foreign keys of
    every row inserted, at COMMIT); an overturned case's line goes, a late one comes."""
    period, cases = october
    period_compute(period=period, actor=hr[0])
    lines = dict(Line.objects.filter(period=period).values_list("case_id", "pk"))
    results = dict(Result.objects.filter(period=period).values_list("employee_id", "pk"))

    overturn(cases["a2"], staff, hr)
    late = confirmed(staff, hr, "b", "9.7", "2026-10-25")
    summary = period_compute(period=period, actor=hr[0])

    after = dict(Line.objects.filter(period=period).values_list("case_id", "pk"))
    assert set(after) == set(lines) - {cases["a2"].pk} | {late.pk}
    assert after[cases["a1"].pk] == lines[cases["a1"].pk]
    assert after[cases["b1"].pk] == lines[cases["b1"].pk]
    results_after = dict(Result.objects.filter(period=period).values_list("employee_id", "pk"))
    assert results_after[staff["head"].pk] == results[staff["head"].pk]  # 1.00, unchanged
    assert results_after[staff["a"].pk] != results[staff["a"].pk]
    assert table(period)["S02"][:2] == (Decimal("3.00"), 1)
    assert table(period)["S03"][:2] == (Decimal("3.00"), 1)
    assert (summary.lines, summary.deducted) == (4, Decimal("7.00"))


def counters(period: Period) -> tuple[int, int]:
    period.refresh_from_db()
    return period.result_count, period.line_count


def real_counts(period: Period) -> tuple[int, int]:
    return (
        Result.objects.filter(period=period).count(),
        Line.objects.filter(period=period).count(),
    )


def test_the_period_keeps_its_counts_of_results_and_lines(october, staff, hr):
    """The periods list shows the stored counts (it counted ~337,000 rows per view at
    20,000 employees): computing, recomputing after a change, and adjustments keep them."""
    period, cases = october
    assert counters(period) == (0, 0)
    period_compute(period=period, actor=hr[0])
    assert counters(period) == real_counts(period) == (3, 4)

    overturn(cases["a2"], staff, hr)
    confirmed(staff, hr, "b", "9.7", "2026-10-25")
    confirmed(staff, hr, "b", "9.7", "2026-10-26")
    period_compute(period=period, actor=hr[0])
    assert counters(period) == real_counts(period) == (3, 5)

    period_lock(period=period, actor=hr[0])
    overturn(cases["a1"], staff, hr)  # a correction: an adjustment line in November
    november = period_get_or_create(code="2026-11")
    period_compute(period=november, actor=hr[0])
    assert counters(november) == real_counts(november)
    assert Line.objects.filter(period=november, corrects=period).count() == 1
    assert counters(period) == real_counts(period) == (3, 5)  # the locked one unchanged


def test_a_failing_run_leaves_the_previous_counts(october, hr, monkeypatch):
    period, _ = october
    period_compute(period=period, actor=hr[0])
    before = counters(period)

    from appraisal.services import compute

    def dies(model, objects, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(compute, "insert_many", dies)
    Line.objects.filter(period=period).delete()  # so that the rerun has lines to insert
    with pytest.raises(RuntimeError, match="worker died"):
        period_compute(period=period, actor=hr[0])
    assert counters(period) == before


def test_the_migration_fills_the_counts_of_existing_periods(october, hr):
    from django.apps import apps

    fill_counters = importlib.import_module(
        "appraisal.migrations.0004_period_counters"
    ).fill_counters
    period, _ = october
    period_compute(period=period, actor=hr[0])
    empty = period_get_or_create(code="2026-12")
    Period.objects.update(result_count=0, line_count=0)  # as the migration finds them
    fill_counters(apps, None)
    assert counters(period) == real_counts(period) == (3, 4)
    assert counters(empty) == (0, 0)
