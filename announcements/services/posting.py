"""After approval: the posting in each WeChat group, confirmed by a person (WeChat has no API
for ordinary groups), and the readers' acknowledgements (须确认). Also the delegations an
approver gives before going away."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from announcements.models import Acknowledgement, Announcement, Delegation, Publication
from announcements.selectors import announcement_target_employee_ids
from announcements.services.errors import (
    ERROR_ALREADY_POSTED,
    ERROR_DELEGATION_DATES,
    ERROR_DELEGATION_FORBIDDEN,
    ERROR_DELEGATION_SELF,
    ERROR_MAY_NOT_PUBLISH,
    ERROR_NO_ACKNOWLEDGEMENT,
    ERROR_NOT_ADDRESSED,
    ERROR_NOT_APPROVED,
    ERROR_NOT_TARGET,
    ERROR_NOT_YOURS_TO_ACKNOWLEDGE,
    ERROR_POSTED_IN_FUTURE,
    AnnouncementError,
)
from announcements.services.machine import locked, move
from common.actors import Actor, actor_may, actor_user, is_system, require_actor
from groups.models import ChatGroup
from members.models import Employee

State = Announcement.State
PUBLISH_PERMISSION = "announcements.publish_announcement"
DELEGATE_PERMISSION = "announcements.add_delegation"
# A posting is recorded after it happened: a time later than now is a typo, but the
# recorder's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)


@transaction.atomic
def announcement_publish(
    *,
    announcement: Announcement,
    group: ChatGroup,
    posted_at: dt.datetime,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Publication:
    """Record that the approved item was posted in ``group`` at ``posted_at`` by ``actor``
    (the author, or HR: publish_announcement); once every target group has it, the item is
    published. ``posted_at`` may not be later than ``now`` (CLOCK_SKEW allowed)."""
    require_actor(actor)
    now = now or timezone.now()
    if posted_at > now + CLOCK_SKEW:
        raise AnnouncementError(
            ERROR_POSTED_IN_FUTURE.format(minutes=int(CLOCK_SKEW.total_seconds() // 60))
        )
    announcement = locked(announcement)
    if actor_user(actor) != announcement.author and not actor_may(actor, PUBLISH_PERMISSION):
        raise AnnouncementError(ERROR_MAY_NOT_PUBLISH)
    if announcement.state != State.APPROVED:
        raise AnnouncementError(
            ERROR_NOT_APPROVED.format(
                title=announcement.title, current=announcement.get_state_display()
            )
        )
    targets = set(announcement.target_groups.values_list("pk", flat=True))
    if group.pk not in targets:
        raise AnnouncementError(ERROR_NOT_TARGET.format(group=group.name))
    if announcement.publications.filter(group=group).exists():
        raise AnnouncementError(ERROR_ALREADY_POSTED.format(group=group.name))
    publication = Publication.objects.create(
        announcement=announcement, group=group, posted_by=actor_user(actor), posted_at=posted_at
    )
    posted = set(announcement.publications.values_list("group_id", flat=True))
    if posted >= targets:
        move(announcement, State.PUBLISHED, actor=actor, comment=f"已在{group.name}发布")
    return publication


@transaction.atomic
def announcement_acknowledge(
    *,
    announcement: Announcement,
    employee: Employee,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Acknowledgement:
    """``employee`` confirms having read a published 须确认 item sent to a group they belong
    in (announcements.selectors.announcement_target_employee_ids). Confirming twice keeps
    the first time."""
    require_actor(actor)
    if not is_system(actor) and employee.user_id != actor.pk:
        raise AnnouncementError(ERROR_NOT_YOURS_TO_ACKNOWLEDGE)
    announcement = Announcement.objects.get(pk=announcement.pk)  # as it is now
    if not announcement.requires_acknowledgement or announcement.state != State.PUBLISHED:
        raise AnnouncementError(ERROR_NO_ACKNOWLEDGEMENT)
    if employee.pk not in announcement_target_employee_ids(announcement, among=[employee.pk]):
        raise AnnouncementError(ERROR_NOT_ADDRESSED)
    acknowledgement, _ = Acknowledgement.objects.get_or_create(
        announcement=announcement, employee=employee, defaults={"at": now or timezone.now()}
    )
    return acknowledgement


@transaction.atomic
def delegation_create(
    *,
    approver,
    delegate,
    starts_on: dt.date,
    ends_on: dt.date,
    actor: Actor,
    reason: str = "",
) -> Delegation:
    """``delegate`` decides ``approver``'s steps from ``starts_on`` to ``ends_on`` (both
    included). The approver sets their own; HR (add_delegation) anyone's."""
    require_actor(actor)
    if actor_user(actor) != approver and not actor_may(actor, DELEGATE_PERMISSION):
        raise AnnouncementError(ERROR_DELEGATION_FORBIDDEN)
    if approver == delegate:
        raise AnnouncementError(ERROR_DELEGATION_SELF)
    if ends_on < starts_on:
        raise AnnouncementError(ERROR_DELEGATION_DATES)
    return Delegation.objects.create(
        approver=approver,
        delegate=delegate,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip(),
    )
