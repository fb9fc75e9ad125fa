"""The demo under the real explanation window (`make demo` runs with the default 1 working day,
the tests' settings with 0): HR's confirmations at once still work because the employees who
were told explained first, and the personas were told of their cases."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from notices.models import Notice
from violations.models import Case
from violations.services.telling import TOLD_BY_NOTICE

pytestmark = pytest.mark.django_db


def test_the_demo_runs_with_the_explanation_window_and_tells_the_personas(settings, monkeypatch):
    settings.CASE_EXPLANATION_WORKING_DAYS = 1
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-123")

    call_command("demo", "--employees", "300", "--seed", "3", stdout=StringIO())

    confirmed = Case.objects.filter(confirmed_at__isnull=False, joint_of__isnull=True)
    with_login = confirmed.filter(employee__user__is_active=True)
    assert with_login.exists()
    # Everyone with a login was told by the confirmation's notice and explained before it.
    assert not with_login.filter(explained_at__isnull=True).exists()
    assert set(with_login.values_list("told_how", flat=True)) == {TOLD_BY_NOTICE}
    # Nobody could tell an employee without a login: their window has not started.
    assert not confirmed.filter(employee__user__isnull=True, told_at__isnull=False).exists()
    kinds = set(
        Notice.objects.filter(recipient__username="employee").values_list("kind", flat=True)
    )
    assert {Notice.Kind.CASE_PROPOSED, Notice.Kind.CASE_CONFIRMED} <= kinds
