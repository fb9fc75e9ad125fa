"""Writes for the appraisal, split by concept; import from here."""

from appraisal.exceptions import AppraisalError, PeriodCodeError
from appraisal.services.compute import ComputeSummary, period_compute
from appraisal.services.periods import (
    period_change_scoring,
    period_create_for_corrections,
    period_get_or_create,
    period_lock,
)
from appraisal.services.settlements import SettlementChange, SettlementReport, settlement_import

__all__ = [
    "AppraisalError",
    "ComputeSummary",
    "PeriodCodeError",
    "SettlementChange",
    "SettlementReport",
    "period_change_scoring",
    "period_compute",
    "period_create_for_corrections",
    "period_get_or_create",
    "period_lock",
    "settlement_import",
]
