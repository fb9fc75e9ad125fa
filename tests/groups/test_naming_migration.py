"""groups 0006: existing groups named 部门-姓名 only by the old default become 姓名 (§5.3.b);
a convention HR chose — their history shows another value — stays (issue 12, 4)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from groups.models import ChatGroup
from tests.factories import ChatGroupFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("groups.migrations.0006_naming_convention_policy_default")
NAME, DEPARTMENT_NAME = ChatGroup.NamingConvention.NAME, ChatGroup.NamingConvention.DEPARTMENT_NAME


@pytest.fixture
def apps():
    """The models as the migration sees them (frozen, no history signals)."""
    loader = MigrationExecutor(connection).loader
    return loader.project_state(("groups", "0006_naming_convention_policy_default")).apps


def convention(group: ChatGroup) -> str:
    return ChatGroup.objects.values_list("naming_convention", flat=True).get(pk=group.pk)


def test_a_group_on_the_old_default_all_its_life_becomes_name_and_it_is_recorded(apps):
    admin = EmployeeFactory()
    group = ChatGroupFactory(naming_convention=DEPARTMENT_NAME)  # created: one history row
    group.admins.add(admin)
    group.function = "日常办公"
    group.save()  # edited, the convention untouched: a second row, still 部门-姓名
    before = group.history.count()
    MIGRATION.to_policy_default(apps, None)
    assert convention(group) == NAME
    assert group.history.count() == before + 1
    latest = group.history.order_by("-history_id").first()
    assert (latest.naming_convention, latest.history_change_reason) == (NAME, MIGRATION.REASON)
    assert list(latest.admins.values_list("employee", flat=True)) == [admin.pk]


def test_a_group_without_any_history_counts_as_never_edited(apps):
    group = ChatGroupFactory()
    ChatGroup.objects.filter(pk=group.pk).update(naming_convention=DEPARTMENT_NAME)
    group.history.all().delete()
    MIGRATION.to_policy_default(apps, None)
    assert convention(group) == NAME


def test_a_convention_hr_switched_to_department_name_stays(apps):
    group = ChatGroupFactory(naming_convention=NAME)
    group.naming_convention = DEPARTMENT_NAME  # HR's choice, in the history
    group.save()
    before = group.history.count()
    MIGRATION.to_policy_default(apps, None)
    assert convention(group) == DEPARTMENT_NAME
    assert group.history.count() == before


def test_a_group_already_on_name_is_not_touched(apps):
    group = ChatGroupFactory(naming_convention=NAME)
    before = group.history.count()
    MIGRATION.to_policy_default(apps, None)
    assert convention(group) == NAME
    assert group.history.count() == before


def test_only_the_untouched_groups_change_among_several(apps):
    untouched = [ChatGroupFactory(naming_convention=DEPARTMENT_NAME) for _ in range(3)]
    chosen = ChatGroupFactory(naming_convention=NAME)
    chosen.naming_convention = DEPARTMENT_NAME
    chosen.save()
    MIGRATION.to_policy_default(apps, None)
    assert [convention(g) for g in untouched] == [NAME] * 3
    assert convention(chosen) == DEPARTMENT_NAME


def test_reversing_restores_only_what_the_migration_changed(apps):
    migrated = ChatGroupFactory(naming_convention=DEPARTMENT_NAME)
    MIGRATION.to_policy_default(apps, None)
    always_name = ChatGroupFactory(naming_convention=NAME)
    MIGRATION.back_to_department_name(apps, None)
    assert convention(migrated) == DEPARTMENT_NAME
    assert convention(always_name) == NAME
    latest = migrated.history.order_by("-history_id").first()
    assert latest.history_change_reason == MIGRATION.REVERSE_REASON
