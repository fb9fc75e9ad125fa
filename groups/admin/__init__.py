"""Admin of the groups app: the groups themselves, and their rosters and findings."""

from groups.admin import chat_group, eligibility, roster  # noqa: F401 — registers the ModelAdmins
