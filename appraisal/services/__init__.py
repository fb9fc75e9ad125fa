"""Writes for the appraisal, split by concept; import from here."""

from appraisal.services.compute import (
    AppraisalError,
    ComputeSummary,
    period_compute,
    period_get_or_create,
    period_lock,
)

__all__ = [
    "AppraisalError",
    "ComputeSummary",
    "period_compute",
    "period_get_or_create",
    "period_lock",
]
