"""Violations' data migrations run on frozen code: the live models and helpers may change
later, a migration that has run must not change with them."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import types
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import migrations
from django.utils import timezone

from tests.factories import CaseFactory
from violations.models import Case, Rule, clause_sort_key
from violations.services.telling import appeal_deadline

# The project's own packages (apps, common, config): what a migration must not run.
PROJECT_APPS = {init.parent.name for init in Path(settings.BASE_DIR).glob("*/__init__.py")}


def violations_migrations() -> list[types.ModuleType]:
    package = importlib.import_module("violations.migrations")
    return [
        importlib.import_module(f"violations.migrations.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]


def project_code_used_by(function, module, seen=None) -> list[str]:
    """Globals of the project's apps that ``function`` uses, through the migration's own
    helpers too."""
    seen = set() if seen is None else seen
    found = []
    for name in function.__code__.co_names:
        value = module.__dict__.get(name)
        owner = getattr(value, "__module__", None) or ""
        if owner == module.__name__ and isinstance(value, types.FunctionType):
            if value not in seen:
                seen.add(value)
                found += project_code_used_by(value, module, seen)
        elif owner.split(".")[0] in PROJECT_APPS:
            found.append(f"{name} ({owner})")
    return found


@pytest.mark.parametrize("module", violations_migrations(), ids=lambda m: m.__name__)
def test_data_migrations_use_no_live_project_code(module):
    for operation in module.Migration.operations:
        if isinstance(operation, migrations.RunPython):
            assert project_code_used_by(operation.code, module) == [], module.__name__


@pytest.mark.django_db
def test_the_sort_key_migration_fills_the_keys_in_clause_order(seeded):
    migration = importlib.import_module("violations.migrations.0004_rule_sort_key_appeal_material")
    Rule.objects.update(sort_key="")
    migration.fill_sort_keys(apps, None)
    keys = dict(Rule.objects.values_list("code", "sort_key"))
    assert keys == {code: clause_sort_key(code) for code in keys}
    assert keys["9.2"] < keys["9.10"]


@pytest.mark.django_db
def test_the_told_at_backfill_counts_old_confirmed_cases_as_told_at_confirmation(seeded):
    """Before 0005 the appeal window ran from the confirmation; a confirmed case left without
    told_at would count as "not told yet" and stay appealable for ever."""
    migration = importlib.import_module("violations.migrations.0007_told_at_backfill")
    confirmed_at = timezone.now() - dt.timedelta(days=90)
    told_at = confirmed_at + dt.timedelta(hours=1)
    confirmed = {"state": Case.State.CONFIRMED, "confirmed_at": confirmed_at, "points": 2}
    old = CaseFactory(**confirmed)
    told = CaseFactory(**confirmed, told_at=told_at, told_how="当面告知")
    proposed = CaseFactory()

    migration.told_at_confirmation(apps, None)

    old.refresh_from_db()
    assert (old.told_at, old.told_how) == (confirmed_at, migration.TOLD_HOW)
    assert appeal_deadline(old) < timezone.now()  # the window closed long ago
    ours = Case.history.filter(history_change_reason=migration.REASON)
    assert list(ours.values_list("id", "told_at")) == [(old.pk, confirmed_at)]
    told.refresh_from_db()
    assert (told.told_at, told.told_how) == (told_at, "当面告知")
    proposed.refresh_from_db()
    assert (proposed.told_at, proposed.told_how) == (None, "")
    migration.told_at_confirmation(apps, None)  # again: nothing left to do
    assert ours.count() == 1


def test_the_told_at_backfill_runs_after_0006_and_reverses_as_a_no_op():
    migration = importlib.import_module("violations.migrations.0007_told_at_backfill")
    [operation] = migration.Migration.operations
    assert ("violations", "0006_rule_5_3_a_repeat_points") in migration.Migration.dependencies
    assert operation.reverse_code is migrations.RunPython.noop
