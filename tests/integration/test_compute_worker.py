"""compute_period through a real worker on Redis and PostgreSQL: two at once, same rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appraisal.models import Line, Result
from appraisal.services import period_get_or_create
from appraisal.tasks import compute_period
from members.roles import HR
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from violations.models import Rule
from violations.services import case_confirm, case_file

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_computations_at_once_give_the_rows_of_one(celery_worker, seeded):
    hr = [UserFactory(username=f"hr{i}") for i in range(2)]
    for user in hr:
        user.groups.add(Group.objects.get(name=HR))
    group = ChatGroupFactory()
    when = timezone.now().replace(day=1) - dt.timedelta(days=10)  # last month
    for i in range(20):
        case = case_file(
            rule=Rule.objects.get(code="9.4"),
            employee=EmployeeFactory(),
            group=group,
            occurred_at=when,
            description=f"案件{i}",
            actor=hr[0],
        )
        case_confirm(case=case, actor=hr[1])
    period = period_get_or_create(code=f"{when:%Y-%m}")
    first, second = compute_period.delay(period.pk), compute_period.delay(period.pk)
    reports = [first.get(timeout=60), second.get(timeout=60)]
    assert reports[0] == reports[1]
    assert Result.objects.filter(period=period).count() == reports[0]["employees"]
    assert Line.objects.filter(period=period).count() == 20
    assert reports[0]["deducted"] == "60.00"
