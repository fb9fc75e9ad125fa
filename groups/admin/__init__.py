"""Admin of the groups app: the groups themselves, their rosters and findings, and §6.3
account reports, and the hand-overs of leavers' groups (离职继承)."""

from groups.admin import (  # noqa: F401 — registers the ModelAdmins
    accounts,
    chat_group,
    eligibility,
    findings,
    roster,
    succession,
)
