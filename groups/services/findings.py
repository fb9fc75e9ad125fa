"""HR's decisions on findings: who a display name is, and whether leaving a group is a §9.5 case."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from groups.models import ChatGroup, Finding, MemberIdentity
from groups.naming import normalize_display_name
from groups.services.runs import reconcile_start
from members.models import Employee
from violations.models import Case
from violations.services import case_propose

ERROR_NOT_A_PENDING_LEFT_GROUP = "只能对待决定的退群记录（§9.5）作出决定。"


@transaction.atomic
def member_identity_remember(
    *,
    group: ChatGroup,
    display_name: str,
    employee: Employee | None,
    note: str = "",
    actor=None,
) -> MemberIdentity:
    """Remember that ``display_name`` in ``group`` is ``employee`` (None: not one of ours).

    Then reconcile the group's latest snapshot again, so the ambiguous or
    unknown member's finding turns into what it really is.
    """
    identity, _ = MemberIdentity.objects.update_or_create(
        group=group,
        display_name=normalize_display_name(display_name),
        defaults={"employee": employee, "note": note, "decided_by": actor},
    )
    _reconcile_latest(group, actor)
    return identity


@transaction.atomic
def member_identity_forget(*, identity: MemberIdentity, actor=None) -> None:
    """Forget HR's decision and reconcile the group again, so the member is matched afresh."""
    group = identity.group
    identity.delete()
    _reconcile_latest(group, actor)


def _reconcile_latest(group: ChatGroup, actor) -> None:
    latest = group.snapshots.first()  # Meta.ordering: the latest first
    if latest is not None:
        reconcile_start(snapshot=latest, actor=actor)


@transaction.atomic
def finding_decide_left_group(*, finding: Finding, propose_case: bool, actor=None) -> Finding:
    """§9.5: HR decides whether a member leaving the group is a case. Never automatic.

    Proposing makes a *proposed* §9.5 case for HR's own review queue (four eyes
    come with the case workflow); either way the finding is closed.
    """
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("group", "employee", "first_seen")
        .get(pk=finding.pk)
    )
    if finding.kind != Finding.Kind.LEFT_GROUP or finding.status != Finding.Status.OPEN:
        raise ValueError(ERROR_NOT_A_PENDING_LEFT_GROUP)
    if propose_case:
        case_propose(
            rule_code="9.5",
            employee=finding.employee,
            group=finding.group,
            source=Case.Source.RECONCILIATION,
            source_key=f"finding:{finding.pk}",
            description=f"{finding.employee} 退出了 {finding.group.name}（{finding.detail}）。",
            occurred_at=finding.first_seen.taken_at,
            reported_by=actor,
        )
    finding.decision = Finding.Decision.PROPOSE_CASE if propose_case else Finding.Decision.NO_CASE
    finding.status = Finding.Status.RESOLVED
    finding.resolved_at = timezone.now()
    finding.decided_by = actor
    finding.save(update_fields=["decision", "status", "resolved_at", "decided_by"])
    return finding
