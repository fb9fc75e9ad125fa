"""The appraisal's small company (October 2026 computed), for the jobs started on it."""

from tests.appraisal.test_visibility import appraised, confirmed  # noqa: F401 — fixtures
from tests.groups.test_run_faults import broker_down  # noqa: F401 — fixture
from tests.reports.test_list_export import cases, findings  # noqa: F401 — fixtures
