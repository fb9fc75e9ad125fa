"""The life of an appraisal period (§7.1): 未计算 → 已计算 (computed again as often as
needed) → 已锁定, for good; a computed period whose scoring changes goes back to 未计算.

Written like the case workflow (violations.services.cases): the transitions table below,
each move with the permission it takes, and one move() — the only place a period's state
changes — which checks the actor and the move, saves, and writes a PeriodTransition (who,
when, why) in the caller's transaction. A forbidden move raises AppraisalError and changes
nothing. The computation itself (what a period counts) is compute.py; it moves the period
through here.

The actor is explicit (common.actors): HR in the admin, the system for a task, a command
or the demo, which passes the permission checks and is recorded as no person.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appraisal.exceptions import AppraisalError
from appraisal.models import Period, PeriodTransition, period_bounds
from appraisal.selectors import corrections_waiting
from common.actors import Actor, actor_may, actor_user
from jobs.models import Job

State = Period.State
COMPUTE_PERMISSION = "appraisal.compute_period"
LOCK_PERMISSION = "appraisal.lock_period"
CHANGE_PERMISSION = "appraisal.change_period"

ERROR_LOCKED = "考核期间 {code} 已锁定，不能再计算；之后确认的更正会计入下一个未锁定的期间。"
ERROR_NOT_COMPUTED = "考核期间 {code} 还没有计算，不能锁定。"
ERROR_ALREADY_LOCKED = "考核期间 {code} 已经锁定。"
ERROR_NOT_HR = "只有人力资源部可以计算或锁定考核期间。"
ERROR_LOCKED_SCORING = "考核期间 {code} 已锁定，计分设置不能再修改（§7.1）。"
ERROR_NOT_HR_CHANGE = "只有人力资源部可以修改考核期间的计分设置。"
ERROR_NOT_HR_CREATE = "只有人力资源部可以新建考核期间。"
ERROR_NOT_WAITED_FOR = (
    "没有锁定期间的更正在等待考核期间 {code}，未新建。其他考核期间请用“增加考核期间”添加。"
)
ERROR_FORBIDDEN = "考核期间 {code} 当前为“{current}”，不能改为“{target}”。"
ERROR_COMPUTING = "考核期间 {code} 正在后台计算，计算完成后才能锁定。"

# The moves a period may make (from, to).
ALLOWED: set[tuple[str, str]] = {
    (State.OPEN, State.COMPUTED),
    (State.COMPUTED, State.COMPUTED),  # computed again: the rows are replaced
    (State.COMPUTED, State.OPEN),  # its scoring changed: the results no longer match
    (State.COMPUTED, State.LOCKED),
}
# Who may move a period to each state, and what a person without the right is told.
PERMISSIONS: dict[str, tuple[str, str]] = {
    State.COMPUTED: (COMPUTE_PERMISSION, ERROR_NOT_HR),
    State.LOCKED: (LOCK_PERMISSION, ERROR_NOT_HR),
    State.OPEN: (CHANGE_PERMISSION, ERROR_NOT_HR_CHANGE),
}
# Why a move is forbidden, in HR's words (any other: ERROR_FORBIDDEN).
REFUSALS: dict[tuple[str, str], str] = {
    (State.LOCKED, State.COMPUTED): ERROR_LOCKED,
    (State.LOCKED, State.LOCKED): ERROR_ALREADY_LOCKED,
    (State.LOCKED, State.OPEN): ERROR_LOCKED_SCORING,
    (State.OPEN, State.LOCKED): ERROR_NOT_COMPUTED,
}
COMMENT_SCORING_CHANGED = "计分设置已修改（基础分 {base_score}，扣分上限 {cap}），需重新计算。"


def check_permission(actor: Actor, target: str) -> None:
    """AppraisalError unless ``actor`` may move a period to ``target``."""
    permission, refusal = PERMISSIONS[target]
    if not actor_may(actor, permission):
        raise AppraisalError(refusal)


def check_move(period: Period, target: str) -> None:
    """AppraisalError unless ``period`` may go from its state to ``target``."""
    if (period.state, target) not in ALLOWED:
        refusal = REFUSALS.get((period.state, target), ERROR_FORBIDDEN)
        raise AppraisalError(
            refusal.format(
                code=period.code, current=period.get_state_display(), target=State(target).label
            )
        )


def check_lock(period: Period) -> None:
    """AppraisalError unless ``period`` may be locked now: the move is allowed, and no
    computation of it is queued or running (jobs.Job, appraisal.jobs.period_compute_job) —
    it would replace the results after the lock. One query beyond the move's check."""
    check_move(period, State.LOCKED)
    computing = Job.objects.filter(
        kind=Job.Kind.PERIOD_COMPUTE,
        status__in=[Job.Status.PENDING, Job.Status.RUNNING],
        params__period_id=period.pk,
    )
    if computing.exists():
        raise AppraisalError(ERROR_COMPUTING.format(code=period.code))


def move(
    period: Period,
    target: str,
    *,
    actor: Actor,
    comment: str = "",
    fields: tuple[str, ...] = (),
) -> Period:
    """The one place a period changes state: checks the actor and the move, saves the state
    (and ``fields``, set by the caller), writes the audit row. Call it on a row locked with
    lock_row() inside the caller's transaction."""
    check_permission(actor, target)
    check_move(period, target)
    previous = period.state
    period.state = target
    period.save(update_fields=["state", *fields])
    PeriodTransition.objects.create(
        period=period,
        from_state=previous,
        to_state=target,
        actor=actor_user(actor),
        comment=comment,
    )
    return period


def lock_row(period: Period) -> Period:
    # Two HR clerks on the same period (or a clerk and a task): the second sees the first's move.
    return Period.objects.select_for_update().get(pk=period.pk)


# ---------------------------------------------------------------------------
# Periods coming in
# ---------------------------------------------------------------------------


@transaction.atomic
def period_get_or_create(*, code: str) -> Period:
    """The period named ``code`` (2026-11, 2026-Q4), created open if new; PeriodCodeError
    for any other code."""
    kind, starts, ends = period_bounds(code)
    period, _ = Period.objects.get_or_create(
        code=code, defaults={"kind": kind, "starts_on": starts, "ends_on": ends}
    )
    return period


@transaction.atomic
def period_create_for_corrections(*, code: str, actor: Actor) -> Period:
    """HR creates the period ``code`` that a locked period's corrections wait for (§7.1:
    they go to the first not-locked period after it, and none exists yet).

    Only such a code is accepted (selectors.corrections_waiting names them); any other
    raises AppraisalError and creates nothing. The period starts open, validated by
    full_clean; its history names ``actor``.
    """
    if not (actor_may(actor, "appraisal.add_period") and actor_may(actor, COMPUTE_PERMISSION)):
        raise AppraisalError(ERROR_NOT_HR_CREATE)
    kind, starts, ends = period_bounds(code)  # PeriodCodeError is an AppraisalError
    if code not in {waiting.needed for waiting in corrections_waiting()}:
        raise AppraisalError(ERROR_NOT_WAITED_FOR.format(code=code))
    period = Period(code=code, kind=kind, starts_on=starts, ends_on=ends)
    try:
        period.full_clean()
    except ValidationError as exc:  # e.g. created by another HR a moment ago
        raise AppraisalError("；".join(exc.messages)) from exc
    period._history_user = actor_user(actor)  # type: ignore[attr-defined]  # simple_history's
    period.save()
    return period


# ---------------------------------------------------------------------------
# HR's moves (computing is compute.period_compute)
# ---------------------------------------------------------------------------


@transaction.atomic
def period_lock(*, period: Period, actor: Actor) -> Period:
    """HR locks a computed period: from now on it never changes. Refused while a
    computation of it waits or runs in the background (check_lock)."""
    check_permission(actor, State.LOCKED)
    period = lock_row(period)
    check_lock(period)
    period.locked_at = timezone.now()
    period.locked_by = actor_user(actor)
    return move(period, State.LOCKED, actor=actor, fields=("locked_at", "locked_by"))


@transaction.atomic
def period_change_scoring(
    *, period: Period, actor: Actor, base_score: Decimal, deduction_cap: Decimal | None
) -> bool:
    """HR sets a period's base score and deduction cap. The row is locked and read afresh, so
    a lock or a computation that landed meanwhile is never undone (docs/security.md, 1: the
    admin saved the whole row it had loaded, and a lock came back as 未锁定). A computed period whose
    scoring changes goes back to 未计算: its results no longer match (§7.1). Returns whether
    it did."""
    check_permission(actor, State.OPEN)
    period = lock_row(period)
    if period.state != State.OPEN:
        check_move(period, State.OPEN)  # a locked period's scoring never changes
    if (period.base_score, period.deduction_cap) == (base_score, deduction_cap):
        return False
    period.base_score, period.deduction_cap = base_score, deduction_cap
    period.full_clean()
    if period.state == State.OPEN:
        period.save(update_fields=["base_score", "deduction_cap"])
        return False
    comment = COMMENT_SCORING_CHANGED.format(
        base_score=base_score, cap="不设" if deduction_cap is None else deduction_cap
    )
    move(period, State.OPEN, actor=actor, comment=comment, fields=("base_score", "deduction_cap"))
    return True
