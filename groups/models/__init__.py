"""Models of the groups app, split by concept (docs/architecture.md: ~400 lines a module)."""

from groups.models.chat_group import (
    WECHAT_MEMBER_CAP,
    ChatGroup,
    ChatGroupGroupObjectPermission,
    ChatGroupUserObjectPermission,
    ContentKind,
    EligibilityRule,
)
from groups.models.findings import Finding, RosterAction
from groups.models.roster import (
    BULK_BATCH,
    MemberIdentity,
    MembershipException,
    RosterMember,
    RosterSnapshot,
)
from groups.models.runs import ReconciliationRun

__all__ = [
    "BULK_BATCH",
    "WECHAT_MEMBER_CAP",
    "ChatGroup",
    "ChatGroupGroupObjectPermission",
    "ChatGroupUserObjectPermission",
    "ContentKind",
    "EligibilityRule",
    "Finding",
    "MemberIdentity",
    "MembershipException",
    "ReconciliationRun",
    "RosterAction",
    "RosterMember",
    "RosterSnapshot",
]
