"""Writes of the screening app (docs/screening.md)."""

from screening.services.importing import chatlog_import
from screening.services.rules import screen_compile, screening_rules_seed

__all__ = ["chatlog_import", "screen_compile", "screening_rules_seed"]
