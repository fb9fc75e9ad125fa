"""Admin of the screening app (docs/screening.md): 筛查待审 (the hits HR reviews), HR's rules
and the allow-list suggestions, the chat-log imports and their messages."""

from screening.admin import hits, imports, rules  # noqa: F401 — registers the ModelAdmins
