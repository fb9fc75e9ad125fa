"""The period's state machine (§7.1): every move checked and recorded once, in
appraisal.services.periods — 未计算 → 已计算 (again as often as needed) → 已锁定; a computed
period whose scoring changes goes back to 未计算. A refused move changes and records nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from appraisal.models import Period, PeriodTransition
from appraisal.services import (
    AppraisalError,
    period_change_scoring,
    period_compute,
    period_get_or_create,
    period_lock,
)
from appraisal.services.periods import (
    ERROR_ALREADY_LOCKED,
    ERROR_COMPUTING,
    ERROR_LOCKED,
    ERROR_LOCKED_SCORING,
    ERROR_NOT_COMPUTED,
    ERROR_NOT_HR,
    check_lock,
)
from common.actors import SystemActor
from dashboard.selectors import current_period
from jobs.models import Job
from members.selectors import person_label

pytestmark = pytest.mark.django_db
State = Period.State
TASK = SystemActor("task:appraisal.compute_period")


@pytest.fixture
def october(seeded) -> Period:
    return period_get_or_create(code="2026-10")


def moves(period: Period) -> list[tuple[str, str, object]]:
    rows = PeriodTransition.objects.filter(period=period).order_by("pk")
    return [(t.from_state, t.to_state, t.actor) for t in rows]


def test_every_move_is_recorded_with_who_made_it(october, hr):
    period_compute(period=october, actor=hr)
    period_compute(period=october, actor=TASK)  # again: the rows replaced, a move all the same
    assert period_change_scoring(
        period=october, actor=hr, base_score=Decimal("90"), deduction_cap=None
    )
    period_compute(period=october, actor=hr)
    period_lock(period=october, actor=hr)
    assert moves(october) == [
        (State.OPEN, State.COMPUTED, hr),
        (State.COMPUTED, State.COMPUTED, None),  # the system: no person
        (State.COMPUTED, State.OPEN, hr),
        (State.OPEN, State.COMPUTED, hr),
        (State.COMPUTED, State.LOCKED, hr),
    ]
    reopened = PeriodTransition.objects.get(to_state=State.OPEN)
    assert "计分设置已修改" in reopened.comment


def test_scoring_changed_on_an_open_period_is_no_move(october, hr):
    assert not period_change_scoring(
        period=october, actor=hr, base_score=Decimal("90"), deduction_cap=Decimal("20")
    )
    october.refresh_from_db()
    assert (october.state, october.base_score) == (State.OPEN, Decimal("90"))
    assert moves(october) == []


@pytest.mark.parametrize(
    ("prepare", "attempt", "message"),
    [
        ([], "lock", ERROR_NOT_COMPUTED),
        (["compute", "lock"], "lock", ERROR_ALREADY_LOCKED),
        (["compute", "lock"], "compute", ERROR_LOCKED),
        (["compute", "lock"], "scoring", ERROR_LOCKED_SCORING),
    ],
)
def test_a_forbidden_move_changes_and_records_nothing(october, hr, prepare, attempt, message):
    do = {
        "compute": lambda: period_compute(period=october, actor=hr),
        "lock": lambda: period_lock(period=october, actor=hr),
        "scoring": lambda: period_change_scoring(
            period=october, actor=hr, base_score=Decimal("80"), deduction_cap=None
        ),
    }
    for step in prepare:
        do[step]()
    before = (Period.objects.get(pk=october.pk).state, moves(october))
    with pytest.raises(AppraisalError, match=message.format(code="2026-10")):
        do[attempt]()
    assert (Period.objects.get(pk=october.pk).state, moves(october)) == before


def test_finance_may_neither_compute_nor_lock(october, hr, finance):
    with pytest.raises(AppraisalError, match=ERROR_NOT_HR):
        period_compute(period=october, actor=finance)
    period_compute(period=october, actor=hr)
    with pytest.raises(AppraisalError, match=ERROR_NOT_HR):
        period_lock(period=october, actor=finance)
    assert moves(october) == [(State.OPEN, State.COMPUTED, hr)]


def test_no_actor_is_refused_rather_than_skipping_the_check(october):
    with pytest.raises(TypeError, match="actor is required"):
        period_compute(period=october, actor=None)
    assert moves(october) == []


@pytest.mark.parametrize("who", ["hr", "finance"])
def test_the_period_page_shows_its_timeline(client, october, hr, finance, who):
    period_compute(period=october, actor=TASK)
    period_compute(period=october, actor=hr)
    client.force_login({"hr": hr, "finance": finance}[who])
    html = client.get(reverse("admin:appraisal_period_change", args=[october.pk])).content
    page = html.decode()
    assert "计算与锁定记录" in page
    assert "系统" in page  # the task's computation
    assert person_label(hr) in page


@pytest.mark.parametrize("status", [Job.Status.PENDING, Job.Status.RUNNING])
def test_a_period_cannot_be_locked_while_its_computation_is_queued_or_running(october, hr, status):
    period_compute(period=october, actor=hr)
    Job.objects.create(
        owner=hr, kind=Job.Kind.PERIOD_COMPUTE, status=status, params={"period_id": october.pk}
    )
    with pytest.raises(AppraisalError, match="正在后台计算，计算完成后才能锁定"):
        period_lock(period=october, actor=hr)
    october.refresh_from_db()
    assert october.state == State.COMPUTED
    # The dashboard says the same: the lock's own check.
    shown = current_period(hr, today=october.starts_on)
    assert shown.blockers == [ERROR_COMPUTING.format(code="2026-10")]
    assert not shown.lockable


def test_another_periods_job_or_a_finished_one_does_not_stop_the_lock(october, hr):
    period_compute(period=october, actor=hr)
    november = period_get_or_create(code="2026-11")
    for kind, status, period in [
        (Job.Kind.PERIOD_COMPUTE, Job.Status.DONE, october),
        (Job.Kind.PERIOD_COMPUTE, Job.Status.FAILED, october),
        (Job.Kind.PERIOD_COMPUTE, Job.Status.PENDING, november),
        (Job.Kind.PERIOD_EXPORT, Job.Status.RUNNING, october),
    ]:
        Job.objects.create(owner=hr, kind=kind, status=status, params={"period_id": period.pk})
    assert current_period(hr, today=october.starts_on).lockable
    period_lock(period=october, actor=hr)
    october.refresh_from_db()
    assert october.state == State.LOCKED


def test_the_lock_check_is_one_query(october, hr, django_assert_num_queries):
    period_compute(period=october, actor=hr)
    october.refresh_from_db()
    with django_assert_num_queries(1):
        check_lock(october)
