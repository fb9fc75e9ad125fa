"""How a case comes in (§7.1): proposed by another part of the system, or filed by hand.

Either way the case starts as 待审核 with its first CaseTransition ("" → proposed), the
employee is told (a notice on their page and an email: they may explain before HR decides,
violations.services.notify), and from there only the workflow of cases.py moves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from common.actors import Actor, actor_user, require_actor
from violations import selectors
from violations.models import Case, Rule
from violations.services.cases import (
    ERROR_FILE_FORBIDDEN,
    ERROR_UNKNOWN_RULE,
    CaseError,
    record_transition,
)
from violations.services.evidence import evidence_check_all, evidence_store_checked
from violations.services.telling import tell_proposed


def case_propose(
    *,
    rule_code: str,
    employee,
    source: str,
    source_key: str,
    description: str,
    occurred_at: dt.datetime,
    actor: Actor,
    group=None,
) -> tuple[Case, bool]:
    """The one door for proposals from other parts (reconciliation, directives, screening).

    ``actor`` is who proposes: HR deciding a finding is a case (recorded as its reporter, so
    four eyes keep them from confirming it), or the system (a task: no reporter).
    Returns (case, created). The same source event never makes two cases, even
    when two workers propose it at once: the unique constraint on (source,
    source_key) decides, and the loser gets the winner's case.
    A proposal is for HR to decide, never a penalty by itself: no permission is needed.
    """
    rule = Rule.objects.filter(code=rule_code, is_active=True).first()
    if rule is None:
        raise CaseError(ERROR_UNKNOWN_RULE.format(code=rule_code))
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                source=source,
                source_key=source_key,
                defaults={
                    "rule": rule,
                    "employee": employee,
                    "group": group,
                    "description": description,
                    "occurred_at": occurred_at,
                    "reported_by": actor_user(actor),
                },
            )
            if created:
                record_transition(case, "", actor, f"由{case.get_source_display()}提出")
                tell_proposed(case)
            return case, created
    except IntegrityError:
        return Case.objects.get(source=source, source_key=source_key), False


@transaction.atomic
def case_file(
    *,
    rule: Rule,
    employee,
    occurred_at: dt.datetime,
    description: str,
    actor: Actor,
    group=None,
    evidence: Sequence[tuple[str, bytes]] = (),
) -> Case:
    """A case filed by hand (HR, or a group's admin/creator for their group), with its evidence.

    Nothing is stored — no row, no file on disk — if any evidence file is refused: every
    file is inspected (evidence_check_all) before the case is saved. Whoever may file the
    case attaches its evidence with it (no view-evidence check: it is their own filing;
    adding to a filed case later is evidence_add_all's, with that check).
    """
    require_actor(actor)
    if not selectors.can_file_case(actor, group):
        raise CaseError(ERROR_FILE_FORBIDDEN)
    kinds = evidence_check_all(evidence)
    case = Case(
        rule=rule,
        employee=employee,
        group=group,
        occurred_at=occurred_at,
        description=description,
        reported_by=actor_user(actor),
        source=Case.Source.MANUAL,
    )
    case.full_clean()
    case.save()
    record_transition(case, "", actor, "登记")
    evidence_store_checked(case=case, files=evidence, kinds=kinds, actor=actor)
    tell_proposed(case)
    return case
