"""One base class for every refusal a service gives (docs/architecture.md, "Errors").

A service refuses with a subclass of ``ServiceError`` whose message is Chinese and says
what to do next, in words an HR clerk, a finance clerk or an employee can act on; the
admin, the self-service pages and the commands show ``str(error)`` as it is. Each app
keeps its own subclasses next to its services (``CaseError``, ``AppraisalError``, …), so
a caller catches exactly the refusals it can explain and lets programming errors through.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A service refused: nothing was written, and the message says why (in Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(ServiceError, ValueError):
    """A spreadsheet cell that cannot be read. Also a ValueError because that is what
    django-import-export's widgets raise to turn a cell into a row error (its contract,
    not ours): the row and column are added by whoever reports it."""
