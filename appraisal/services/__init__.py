"""Writes for the appraisal, split by concept; import from here."""

from appraisal.services.compute import (
    AppraisalError,
    ComputeSummary,
    period_change_scoring,
    period_compute,
    period_create_for_corrections,
    period_get_or_create,
    period_lock,
)
from appraisal.services.settlements import SettlementChange, SettlementReport, settlement_import

__all__ = [
    "SettlementChange",
    "SettlementReport",
    "settlement_import",
    "AppraisalError",
    "ComputeSummary",
    "period_change_scoring",
    "period_compute",
    "period_create_for_corrections",
    "period_get_or_create",
    "period_lock",
]
