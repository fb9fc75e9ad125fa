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
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
    RosterMember,
    RosterSnapshot,
)

__all__ = [
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
