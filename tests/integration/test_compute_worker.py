"""compute_period through a real worker on Redis and PostgreSQL: two at once, same rows."""

from __future__ import annotations

import pytest

from appraisal.models import Line, Result
from appraisal.tasks import compute_period

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_computations_at_once_give_the_rows_of_one(celery_worker, period_with_confirmed_cases):
    period = period_with_confirmed_cases
    first, second = compute_period.delay(period.pk), compute_period.delay(period.pk)
    reports = [first.get(timeout=60), second.get(timeout=60)]
    assert reports[0] == reports[1]
    assert Result.objects.filter(period=period).count() == reports[0]["employees"]
    assert Line.objects.filter(period=period).count() == 20
    assert reports[0]["deducted"] == "60.00"
