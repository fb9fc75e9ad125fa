"""Writes of the screening app (docs/screening.md)."""

from screening.services.importing import chatlog_import, chatlog_rescreen
from screening.services.rules import screen_compile, screening_rules_seed

__all__ = ["chatlog_import", "chatlog_rescreen", "screen_compile", "screening_rules_seed"]
