"""The announcements' data (§4, §6.1): the item and its versions, the approval routes and
each item's own copy of its steps, delegations, publications and acknowledgements."""

from announcements.models.announcement import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementDecision,
    AnnouncementVersion,
)
from announcements.models.posting import Acknowledgement, Publication
from announcements.models.routes import (
    AnnouncementStep,
    ApprovalReminder,
    ApprovalRoute,
    ApprovalStep,
    ApproverKind,
    Delegation,
    TimeUnit,
)

__all__ = [
    "Acknowledgement",
    "Announcement",
    "AnnouncementAttachment",
    "AnnouncementDecision",
    "AnnouncementStep",
    "AnnouncementVersion",
    "ApprovalReminder",
    "ApprovalRoute",
    "ApprovalStep",
    "ApproverKind",
    "Delegation",
    "Publication",
    "TimeUnit",
]
