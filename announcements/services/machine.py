"""The announcement's state machine (docs/architecture.md, "State machines"):

    draft → pending (step 1, 2, …) → approved → published
    draft → approved                  (a route without steps: 欢乐谷's greetings)
    pending → rejected → draft        (the author revises: a new version)
    draft | pending | rejected → withdrawn   (the author, before the last approval)

``pending → pending`` is one step approved and the next one waiting. ``move`` is the one
place the state changes; every move writes an AnnouncementDecision in the caller's
transaction, with the step and version it concerns and for whom a delegate acted.
"""

from __future__ import annotations

from announcements.models import Announcement, AnnouncementDecision
from announcements.services.errors import ERROR_FORBIDDEN_MOVE, AnnouncementError
from common.actors import Actor, actor_user

State = Announcement.State
ALLOWED = {
    (State.DRAFT, State.PENDING),
    (State.DRAFT, State.APPROVED),
    (State.PENDING, State.PENDING),
    (State.PENDING, State.APPROVED),
    (State.PENDING, State.REJECTED),
    (State.REJECTED, State.DRAFT),
    (State.DRAFT, State.WITHDRAWN),
    (State.PENDING, State.WITHDRAWN),
    (State.REJECTED, State.WITHDRAWN),
    (State.APPROVED, State.PUBLISHED),
}


def record_decision(
    announcement: Announcement,
    from_state: str,
    to_state: str,
    *,
    actor: Actor,
    comment: str = "",
    step: int | None = None,
    on_behalf_of=None,
) -> AnnouncementDecision:
    """The audit row; ``from_state`` empty for the draft's coming in (no state before it)."""
    return AnnouncementDecision.objects.create(
        announcement=announcement,
        from_state=from_state,
        to_state=to_state,
        step=step,
        version=announcement.version,
        actor=actor_user(actor),
        on_behalf_of=on_behalf_of,
        comment=comment,
    )


def check_move(announcement: Announcement, target: str) -> None:
    if (announcement.state, target) not in ALLOWED:
        raise AnnouncementError(
            ERROR_FORBIDDEN_MOVE.format(
                title=announcement.title,
                current=announcement.get_state_display(),
                target=State(target).label,
            )
        )


def move(
    announcement: Announcement,
    target: str,
    *,
    actor: Actor,
    comment: str = "",
    step: int | None = None,
    on_behalf_of=None,
    fields: tuple[str, ...] = (),
) -> Announcement:
    """The one place an announcement changes state: checks the pair, saves the state (and
    ``fields`` the caller changed), writes the audit row."""
    check_move(announcement, target)
    previous = announcement.state
    announcement.state = target
    announcement.save(update_fields=["state", "updated_at", *fields])
    record_decision(
        announcement,
        previous,
        target,
        actor=actor,
        comment=comment,
        step=step,
        on_behalf_of=on_behalf_of,
    )
    return announcement


def locked(announcement: Announcement) -> Announcement:
    # Two approvers at once: the second sees the first's decision.
    return Announcement.objects.select_for_update(of=("self",)).get(pk=announcement.pk)
