"""The announcements' writes (docs/architecture.md): content.py (drafts, versions,
attachments, the §4/§6.1 checks), routes.py (approval routes, the seed), machine.py (the
state machine), workflow.py (submit, approve, reject, withdraw, review), posting.py
(publication, acknowledgement, delegation), escalation.py (late steps)."""

from announcements.services.content import (
    announcement_check_targets,
    announcement_create,
    announcement_revise,
)
from announcements.services.errors import AnnouncementError
from announcements.services.escalation import approvals_escalate
from announcements.services.posting import (
    announcement_acknowledge,
    announcement_publish,
    delegation_create,
)
from announcements.services.routes import approval_route_seed, route_plan
from announcements.services.workflow import (
    announcement_approve,
    announcement_reject,
    announcement_review,
    announcement_submit,
    announcement_withdraw,
)

__all__ = [
    "AnnouncementError",
    "announcement_acknowledge",
    "announcement_approve",
    "announcement_check_targets",
    "announcement_create",
    "announcement_publish",
    "announcement_reject",
    "announcement_review",
    "announcement_revise",
    "announcement_submit",
    "announcement_withdraw",
    "approval_route_seed",
    "approvals_escalate",
    "delegation_create",
    "route_plan",
]
