"""Admin of the groups app: the groups themselves, their rosters and findings, and §6.3
account reports."""

from groups.admin import (  # noqa: F401 — registers the ModelAdmins
    accounts,
    chat_group,
    eligibility,
    roster,
)
