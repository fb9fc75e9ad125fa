"""What every case service checks first: CaseError, the row lock, and who is party to a
case (own_interest) — shared by the workflow (cases.py) and the telling of the employee
(telling.py), so neither imports the other's guards.
"""

from __future__ import annotations

from common.actors import Actor
from common.exceptions import ServiceError
from violations.models import Case

DECIDE_PERMISSION = "violations.decide_case"
ERROR_OWN_CASE = "不能处理自己的案件：请另一位人力资源部同事处理（本人不裁决与自己有关的事）。"
ERROR_OWN_APPEAL = (
    "不能裁决自己提出的申诉：请另一位人力资源部同事处理（本人不裁决与自己有关的事）。"
)


class CaseError(ServiceError):
    """A forbidden move; the message says why, in words HR can act on."""


def locked(case: Case) -> Case:
    # Two HR clerks on the same case: the second sees the first's decision.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("rule", "employee__department", "employee__user", "group")
        .get(pk=case.pk)
    )


def own_interest(case: Case, actor: Actor) -> str:
    """Why ``actor`` may not decide ``case`` in its present state, being party to it:
    ERROR_OWN_CASE for their own case or one joint with it (§9.8), ERROR_OWN_APPEAL for an appeal they filed;
    "" if neither (always for the system, which is no party). The services refuse on it;
    the case page hides its 处理 box."""
    if actor.pk is None:
        return ""
    if actor.pk in parties(case):
        return ERROR_OWN_CASE
    if case.state == Case.State.APPEALED:
        appeal = (
            # The appeal itself, not a later row that changed no state (a telling recorded
            # on an appealed case: from_state == to_state == 申诉中).
            case.transitions.filter(from_state=Case.State.CONFIRMED, to_state=Case.State.APPEALED)
            .order_by("-at", "-pk")
            .first()
        )
        if appeal is not None and appeal.actor_id == actor.pk:
            return ERROR_OWN_APPEAL
    return ""


def parties(case: Case) -> set[int]:
    """The logins of everyone a decision on ``case`` charges: its employee, and through §9.8
    joint liability the employee of the case it is joint to, of the cases joint to it, and the
    department head a confirmation would make one for (a head decides neither their
    staff's case nor their own share of it)."""
    parties: set[int | None] = {case.employee.user_id}
    joint_of = case.joint_of  # no query when there is none
    if joint_of is not None:
        parties.add(joint_of.employee.user_id)
    parties.update(case.joint_cases.values_list("employee__user_id", flat=True))
    head = case.employee.department.head
    # Confirming would charge the head (cases._make_joint_case).
    if case.rule.head_share and head is not None:
        parties.add(head.user_id)
    return {pk for pk in parties if pk is not None}  # employees without a login
