from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def seeded(db):
    """The policy's departments, four groups, rule catalog and roles."""
    call_command("seed_policy", stdout=StringIO())


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw")
