"""The appraisal's refusals (common.exceptions): one base for the app, in Chinese.

Here rather than next to the services because the model refuses too: a period code that
is not 2026-11 or 2026-Q4 (models.period_bounds).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from common.exceptions import ServiceError


class AppraisalError(ServiceError):
    """A refused appraisal action (compute, lock, a period's scoring or creation)."""


class PeriodCodeError(AppraisalError):
    """A period code that names no month or quarter (models.ERROR_PERIOD_CODE)."""


class SettlementForbidden(AppraisalError, PermissionDenied):
    """No right to import Finance's settlement sheet (settlements.ERROR_NOT_ALLOWED). Also a
    PermissionDenied, as it was before it was an AppraisalError: the import_appraisal command
    catches that, and a view that lets it through still answers 403."""
