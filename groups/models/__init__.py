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
from groups.models.people import AccountReport, GroupSuccession
from groups.models.roster import (
    BULK_BATCH,
    JoinMethod,
    MemberIdentity,
    MembershipException,
    RosterMember,
    RosterSnapshot,
)
from groups.models.runs import ReconciliationRun

__all__ = [
    "BULK_BATCH",
    "WECHAT_MEMBER_CAP",
    "AccountReport",
    "ChatGroup",
    "ChatGroupGroupObjectPermission",
    "ChatGroupUserObjectPermission",
    "ContentKind",
    "EligibilityRule",
    "Finding",
    "GroupSuccession",
    "JoinMethod",
    "MemberIdentity",
    "MembershipException",
    "ReconciliationRun",
    "RosterAction",
    "RosterMember",
    "RosterSnapshot",
]
