"""HR's decisions on findings: who a display name is.

Whether a member leaving a group is a §9.5 case is a decision about a case, so it is
the violations app's (violations.services.roster_cases.finding_decide_left_group).
"""

from __future__ import annotations

from django.db import transaction

from common.actors import Actor, actor_user, require_actor
from groups.models import ChatGroup, MemberIdentity
from groups.naming import normalize_display_name
from groups.services.runs import reconcile_start
from members.models import Employee


@transaction.atomic
def member_identity_remember(
    *,
    group: ChatGroup,
    display_name: str,
    employee: Employee | None,
    actor: Actor,
    note: str = "",
) -> MemberIdentity:
    """Remember that ``display_name`` in ``group`` is ``employee`` (None: not one of ours).

    Then reconcile the group's latest snapshot again, so the ambiguous or
    unknown member's finding turns into what it really is.
    """
    require_actor(actor)  # a group without a snapshot would never ask for it
    identity, _ = MemberIdentity.objects.update_or_create(
        group=group,
        display_name=normalize_display_name(display_name),
        defaults={"employee": employee, "note": note, "decided_by": actor_user(actor)},
    )
    _reconcile_latest(group, actor)
    return identity


@transaction.atomic
def member_identity_forget(*, identity: MemberIdentity, actor: Actor) -> None:
    """Forget HR's decision and reconcile the group again, so the member is matched afresh."""
    require_actor(actor)  # a group without a snapshot would never ask for it
    group = identity.group
    identity.delete()
    _reconcile_latest(group, actor)


def _reconcile_latest(group: ChatGroup, actor: Actor) -> None:
    latest = group.snapshots.first()  # Meta.ordering: the latest first
    if latest is not None:
        reconcile_start(snapshot=latest, actor=actor)
