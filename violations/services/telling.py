"""The employee's side of their case (issue 12, point 6): their explanation while it is
proposed (OpenHRMS's "waiting explanation" step, shown to the decider), and when they were
told of the confirmed case — the start of their appeal window (cases.appeal_deadline).

Told by the confirmation's notice is recorded by case_confirm itself; here the two other
ways: the employee's first view of the confirmed case on /me/, and HR telling them in
person. Whichever came first counts, and is never moved later.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_may, require_actor
from violations.models import Case
from violations.services.cases import (
    DECIDE_PERMISSION,
    TOLD_BY_VIEW,
    TOLD_IN_PERSON,
    CaseError,
    _locked,
)

EXPLANATION_MAX_CHARS = 2000
ERROR_EXPLAIN_NOT_YOURS = "只有案件本人可以说明情况。"
ERROR_EXPLAIN_CLOSED = "案件已处理（{state}），不能再修改说明；如有异议，确认后可以申诉。"
ERROR_EXPLANATION_REQUIRED = "请填写说明。"
ERROR_EXPLANATION_TOO_LONG = f"说明不能超过 {EXPLANATION_MAX_CHARS} 字。"
ERROR_TOLD_UNKNOWN_WAY = "未知的告知方式：{how}。"
ERROR_TOLD_NOT_CONFIRMED = "案件 #{pk} 尚未确认（{state}）：确认后才需要告知员工处理结果。"
ERROR_TOLD_NOT_YOURS = "只有案件本人查看案件时才记为“查看案件”。"
ERROR_TOLD_NOT_HR = "只有人力资源部可以记录已当面告知员工。"


@transaction.atomic
def case_explain(*, case: Case, text: str, actor: Actor) -> Case:
    """The case's own employee explains (or edits their explanation) while it is proposed;
    the decider sees it next to the 处理 box, and it ends HR's wait (explanation_due)."""
    require_actor(actor)
    case = _locked(case)
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


@transaction.atomic
def case_record_told(*, case: Case, how: str, actor: Actor) -> tuple[Case, bool]:
    """Record that the employee was told of their confirmed case: by their first view of it
    (``TOLD_BY_VIEW``, the employee's own login) or by HR in person (``TOLD_IN_PERSON``).
    Returns (case, recorded): an earlier telling stands (recorded False), since the appeal
    window counts from the first."""
    require_actor(actor)
    if how == TOLD_BY_VIEW:
        case = _locked(case)
        if actor.pk is None or actor.pk != case.employee.user_id:
            raise CaseError(ERROR_TOLD_NOT_YOURS)
    elif how == TOLD_IN_PERSON:
        if not actor_may(actor, DECIDE_PERMISSION):
            raise CaseError(ERROR_TOLD_NOT_HR)
        case = _locked(case)
    else:
        raise CaseError(ERROR_TOLD_UNKNOWN_WAY.format(how=how))
    if case.confirmed_at is None:
        raise CaseError(ERROR_TOLD_NOT_CONFIRMED.format(pk=case.pk, state=case.get_state_display()))
    if case.told_at is not None:
        return case, False
    case.told_at = timezone.now()
    case.told_how = how
    case.save(update_fields=["told_at", "told_how"])
    return case, True
