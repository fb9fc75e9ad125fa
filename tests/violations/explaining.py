"""What the tests of the explanation step share (issue 12, point 6): a proposal the system makes
about one of the ``people`` (tests/violations/conftest.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from common.actors import SystemActor
from violations.models import Case
from violations.services import case_propose


def propose(employee, key="screening:1") -> Case:
    case, _ = case_propose(
        rule_code="9.4",
        employee=employee,
        source=Case.Source.SCREENING,
        source_key=key,
        description="群内发布赌博链接",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        actor=SystemActor("test"),
    )
    return case
