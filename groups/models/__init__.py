"""Models of the groups app, split by concept (STYLE.md: ~400 lines a module)."""

from groups.models.chat_group import (
    WECHAT_MEMBER_CAP,
    ChatGroup,
    ChatGroupGroupObjectPermission,
    ChatGroupUserObjectPermission,
    ContentKind,
    EligibilityRule,
)
from groups.models.roster import (
    BULK_BATCH,
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
    RosterMember,
    RosterSnapshot,
)

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
