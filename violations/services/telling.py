"""The employee's side of their case (issue 12, point 6): their explanation while it is
proposed (OpenHRMS's "waiting explanation" step, shown to the decider), and when they were
told of the confirmed case — the start of their appeal window (appeal_deadline).

Told of a proposal: its notice (tell_proposed), which reaches only an active login; HR waits
for the explanation only for an employee that notice reached, counted from it
(explanation_due) — an employee without a login, or whose login came later, never holds
HR up. Told of a confirmation: the confirmation's notice (record_told_by_notice, called by
case_confirm), the employee's first view of the case on /me/, or HR telling them in person
(case_record_told). Whichever came first counts, and is never moved later.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user, is_system, require_actor
from notices.models import Notice
from violations.models import Case, CaseTransition
from violations.services import notify
from violations.services.guards import (
    DECIDE_PERMISSION,
    ERROR_OWN_CASE,
    CaseError,
    locked,
    own_interest,
)
from workdays.selectors import working_days_after

# How the employee was told of their confirmed case (Case.told_how).
TOLD_BY_NOTICE = "站内通知"
TOLD_BY_VIEW = "查看案件"
TOLD_IN_PERSON = "当面告知"

EXPLANATION_MAX_CHARS = 2000
ERROR_EXPLAIN_NOT_YOURS = "只有案件本人可以说明情况。"
ERROR_EXPLAIN_CLOSED = "案件已处理（{state}），不能再修改说明；如有异议，确认后可以申诉。"
ERROR_EXPLANATION_REQUIRED = "请填写说明。"
ERROR_EXPLANATION_TOO_LONG = f"说明不能超过 {EXPLANATION_MAX_CHARS} 字。"
ERROR_EXPLANATION_PENDING = (
    "员工尚未说明：通知本人后 {days} 个工作日内（截至 {until:%Y年%-m月%-d日 %H:%M}）"
    "等待本人在页面上说明，之后才能确认；驳回不受此限。"
)
ERROR_TOLD_UNKNOWN_WAY = "未知的告知方式：{how}。"
ERROR_TOLD_NOT_CONFIRMED = "案件 #{pk} 尚未确认（{state}）：确认后才需要告知员工处理结果。"
ERROR_TOLD_NOT_YOURS = "只有案件本人查看案件时才记为“查看案件”。"
ERROR_TOLD_NOT_HR = "只有人力资源部可以记录已当面告知员工。"
# Recording "told in person" starts the employee's appeal clock: nobody with a stake in the
# case starts it (the same people who may not decide it, cases.py).
ERROR_TOLD_SYSTEM = "当面告知须由人力资源部的同事本人记录，系统不能代为记录。"
ERROR_TOLD_OWN_CASE = (
    "不能记录与自己有关的案件（本人的或连带的）已告知员工：请另一位人力资源部同事告知并记录。"
)
ERROR_TOLD_OWN_APPEAL = (
    "不能记录自己代为提出申诉的案件已告知员工：请另一位人力资源部同事告知并记录。"
)
ERROR_TOLD_OWN_REPORT = "不能记录自己报告的案件已告知员工：请另一位人力资源部同事告知并记录。"
TIMELINE_TOLD_IN_PERSON = "已当面告知员工，申诉期自 {at:%Y年%-m月%-d日 %H:%M} 起算（截至 {deadline:%Y年%-m月%-d日 %H:%M}）。"
ERROR_TOLD_OWN_CONFIRMATION = (
    "不能记录自己确认的案件已告知员工：申诉期由此起算，请另一位人力资源部同事告知并记录。"
)


# ---------------------------------------------------------------------------
# Before HR decides: the employee's explanation
# ---------------------------------------------------------------------------


def tell_proposed(case: Case) -> Notice | None:
    """Tell the employee of a new proposal (None: no active login, nobody told); the
    notice names until when HR waits for their explanation (explanation_due)."""
    return notify.notify_proposed(case, explanation_until(timezone.now()))


def explanation_until(told_at: dt.datetime) -> dt.datetime | None:
    """The end of the explanation window for an employee told at ``told_at``:
    CASE_EXPLANATION_WORKING_DAYS working days later; None when the setting is 0."""
    days = settings.CASE_EXPLANATION_WORKING_DAYS
    return working_days_after(told_at, days) if days >= 1 else None


def explanation_untils(told_ats) -> dict[dt.datetime, dt.datetime | None]:
    """explanation_until for many notices' times at once (a list of cases): one calendar
    query per local day among them, not one per case."""
    by_day: dict[dt.date, dt.datetime | None] = {}
    untils = {}
    for told_at in set(told_ats):
        day = timezone.localtime(told_at, timezone.get_default_timezone()).date()
        if day not in by_day:
            by_day[day] = explanation_until(told_at)
        first = by_day[day]
        local = timezone.localtime(told_at, timezone.get_default_timezone())
        # The same wall time as the notice, on the day the window ends (working_days_after).
        untils[told_at] = (
            None if first is None else dt.datetime.combine(first.date(), local.timetz())
        )
    return untils


def explanation_due(case: Case) -> dt.datetime | None:
    """Until when HR waits for the employee's explanation before confirming ``case``, or
    None when it does not wait: the case is no longer proposed, the employee explained, or
    was never told of it — no active login now, or no proposal notice reached them (a login
    made after the proposal does not hold HR up after the fact). Counted in working days
    from the proposal's notice."""
    if case.state != Case.State.PROPOSED or case.explained_at is not None:
        return None
    user = case.employee.user
    if user is None or not user.is_active:
        return None
    told_at = notify.proposal_notice_at(case)
    return None if told_at is None else explanation_until(told_at)


def explanation_pending(case: Case) -> str:
    """Why ``case`` may not be confirmed yet ("" if it may): the employee may still explain.
    case_confirm refuses on it; the case page disables its 确认 button with it."""
    until = explanation_due(case)
    if until is None or timezone.now() >= until:
        return ""
    return ERROR_EXPLANATION_PENDING.format(
        days=settings.CASE_EXPLANATION_WORKING_DAYS, until=timezone.localtime(until)
    )


def refuse_while_explanation_due(case: Case) -> None:
    """case_confirm's wait: refuse while the employee may still explain."""
    reason = explanation_pending(case)
    if reason:
        raise CaseError(reason)


@transaction.atomic
def case_explain(*, case: Case, text: str, actor: Actor) -> Case:
    """The case's own employee explains (or edits their explanation) while it is proposed;
    the decider sees it next to the 处理 box, and it ends HR's wait (explanation_due)."""
    require_actor(actor)
    case = locked(case)
    if actor.pk is None or actor.pk != case.employee.user_id:
        raise CaseError(ERROR_EXPLAIN_NOT_YOURS)
    if case.state != Case.State.PROPOSED:
        raise CaseError(ERROR_EXPLAIN_CLOSED.format(state=case.get_state_display()))
    text = (text or "").strip()
    if not text:
        raise CaseError(ERROR_EXPLANATION_REQUIRED)
    if len(text) > EXPLANATION_MAX_CHARS:
        raise CaseError(ERROR_EXPLANATION_TOO_LONG)
    case.explanation = text
    case.explained_at = timezone.now()
    case.save(update_fields=["explanation", "explained_at"])
    return case


# ---------------------------------------------------------------------------
# After HR confirmed: when the employee was told (the appeal window)
# ---------------------------------------------------------------------------


def appeal_deadline(case: Case) -> dt.datetime | None:
    """The end of the appeal window: CASE_APPEAL_WINDOW_DAYS from when the employee was told
    of the confirmed case; None before that (not confirmed, or not told yet: the window has
    not started, and an appeal is allowed). Cases confirmed before told_at existed count as
    told at their confirmation (migration violations 0007)."""
    if case.confirmed_at is None or case.told_at is None:
        return None
    return case.told_at + dt.timedelta(days=settings.CASE_APPEAL_WINDOW_DAYS)


def record_told_by_notice(case: Case) -> None:
    """The confirmation's notice; reaching an active login, it is when the employee was
    told, and their appeal window starts (appeal_deadline). In case_confirm's transaction."""
    notice = notify.notify_confirmed(case)
    if notice is not None and case.told_at is None:
        case.told_at = notice.created_at
        case.told_how = TOLD_BY_NOTICE
        case.save(update_fields=["told_at", "told_how"])


def told_in_person_refusal(case: Case, actor: Actor) -> str:
    """Why ``actor`` may not record that they told the employee of ``case`` in person ("" if
    they may): HR only, a person, and nobody with a stake in the case — party to it
    (own_interest: the employee, a §9.8 joint head, whoever filed its appeal), its reporter
    or its confirmer. The service refuses on it; the case page hides its button."""
    if not actor_may(actor, DECIDE_PERMISSION):
        return ERROR_TOLD_NOT_HR
    if is_system(actor):
        return ERROR_TOLD_SYSTEM
    party = own_interest(case, actor)
    if party:
        return ERROR_TOLD_OWN_CASE if party == ERROR_OWN_CASE else ERROR_TOLD_OWN_APPEAL
    if case.reported_by_id is not None and case.reported_by_id == actor.pk:
        return ERROR_TOLD_OWN_REPORT
    if case.confirmed_by_id is not None and case.confirmed_by_id == actor.pk:
        return ERROR_TOLD_OWN_CONFIRMATION
    return ""


@transaction.atomic
def case_record_told(*, case: Case, how: str, actor: Actor) -> tuple[Case, bool]:
    """Record that the employee was told of their confirmed case: by their first view of it
    (``TOLD_BY_VIEW``, the employee's own login) or by HR in person (``TOLD_IN_PERSON``,
    told_in_person_refusal). Returns (case, recorded): an earlier telling stands (recorded
    False), since the appeal window counts from the first."""
    require_actor(actor)
    if how not in (TOLD_BY_VIEW, TOLD_IN_PERSON):
        raise CaseError(ERROR_TOLD_UNKNOWN_WAY.format(how=how))
    if how == TOLD_IN_PERSON and not actor_may(actor, DECIDE_PERMISSION):
        raise CaseError(ERROR_TOLD_NOT_HR)  # before the lock: a stranger locks nothing
    case = locked(case)
    if how == TOLD_BY_VIEW:
        if actor.pk is None or actor.pk != case.employee.user_id:
            raise CaseError(ERROR_TOLD_NOT_YOURS)
    else:
        refused = told_in_person_refusal(case, actor)
        if refused:
            raise CaseError(refused)
    if case.confirmed_at is None:
        raise CaseError(ERROR_TOLD_NOT_CONFIRMED.format(pk=case.pk, state=case.get_state_display()))
    if case.told_at is not None:
        return case, False
    case.told_at = timezone.now()
    case.told_how = how
    case.save(update_fields=["told_at", "told_how"])
    if how == TOLD_IN_PERSON:
        # The appeal clock starts on HR's word: the timeline says who started it, and when
        # (a row that changes no state: from_state == to_state).
        CaseTransition.objects.create(
            case=case,
            from_state=case.state,
            to_state=case.state,
            actor=actor_user(actor),
            comment=TIMELINE_TOLD_IN_PERSON.format(
                at=timezone.localtime(case.told_at),
                deadline=timezone.localtime(cast(dt.datetime, appeal_deadline(case))),
            ),
        )
    return case, True
