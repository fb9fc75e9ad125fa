from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from company.roles import FINANCE, HR
from tests.factories import UserFactory


@pytest.fixture
def seeded(db):
    """The policy's departments, four groups, rule catalog and roles."""
    call_command("seed_policy", stdout=StringIO())


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw")


# -- personas every app's tests share (STYLE.md); a test module may define its own -----------
@pytest.fixture
def hr(seeded):
    """One HR clerk (人力资源部's role)."""
    return UserFactory(username="hr1", roles=[HR])


@pytest.fixture
def finance(seeded):
    """One finance clerk (财务's role)."""
    return UserFactory(username="fin1", roles=[FINANCE])
