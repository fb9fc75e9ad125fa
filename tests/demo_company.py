"""The demo company (`make run`'s) for the module-wide page tests: the crawler and the
permission matrix build it once, inside a transaction rolled back when the module ends."""

from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction


@contextmanager
def demo_company_rolled_back(*, employees: int, password: str):
    """Build the demo company — its persona logins with ``password`` and the superuser — in
    an open transaction; everything is rolled back on leaving (each test runs in a savepoint
    inside it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMO_PASSWORD", password)
        mp.setenv("DJANGO_SUPERUSER_PASSWORD", password)
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("demo", employees=employees, stdout=StringIO())
            call_command("ensure_admin", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
