"""groups 0007: the open to-dos made before the routing (all 群主 by 0005's default) go to
whoever can fix them, with a fresh due date and reminders and escalation reset; done to-dos
and to-dos already routed stay as they are (issue 12, fix-up 1)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from groups.models import Finding, RosterAction
from groups.policy_data import FINDING_SPECS
from tests.factories import ChatGroupFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("groups.migrations.0007_route_open_todos")
TODAY = timezone.localdate()
LONG_AGO = TODAY - dt.timedelta(days=40)
FRESH = TODAY + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)


@pytest.fixture
def apps():
    """The models as the migration sees them (frozen)."""
    loader = MigrationExecutor(connection).loader
    return loader.project_state(("groups", "0007_route_open_todos")).apps


@pytest.fixture
def creator():
    return EmployeeFactory(name="赵群主")


@pytest.fixture
def group(creator):
    return ChatGroupFactory(creator=creator)


def todo(group, kind: str, *, employee=None, status="open", **fields) -> RosterAction:
    """A to-do as 0005 left it: the creator's, reminded and escalated long ago."""
    finding = Finding.objects.create(
        group=group,
        kind=kind,
        subject=f"e:{employee.pk}" if employee else f"n:{kind}",
        clause="5.3.b",
        severity=Finding.Severity.LOW,
        employee=employee,
        display_name="昵称",
        status=status if status == "open" else Finding.Status.RESOLVED,
    )
    values = {
        "owner": RosterAction.Owner.CREATOR,
        "assignee": group.creator,
        "due_on": LONG_AGO,
        "last_reminded_on": LONG_AGO,
        "reminder_count": 9,
        "escalated_at": timezone.now() - dt.timedelta(days=30),
        "status": status,
        **fields,
    }
    return RosterAction.objects.create(finding=finding, group=group, kind="rename", **values)


def state(action: RosterAction) -> tuple:
    action.refresh_from_db()
    return (
        action.owner,
        action.assignee_id,
        action.due_on,
        action.last_reminded_on,
        action.reminder_count,
        action.escalated_at is None,
    )


def test_an_open_rename_goes_to_the_member_with_a_fresh_due_date(apps, group):
    member = EmployeeFactory(name="李成员")
    rename = todo(group, Finding.Kind.NOT_REAL_NAME, employee=member)
    MIGRATION.route_open_todos(apps, None)
    assert state(rename) == (RosterAction.Owner.MEMBER, member.pk, FRESH, None, 0, True)


@pytest.mark.parametrize(
    "kind",
    [Finding.Kind.AMBIGUOUS, Finding.Kind.DUPLICATE_ACCOUNT, Finding.Kind.REPORTED_ACCOUNT],
)
def test_identity_and_account_questions_go_to_hrs_queue(apps, group, kind):
    question = todo(group, kind)
    MIGRATION.route_open_todos(apps, None)
    assert state(question) == (RosterAction.Owner.HR, None, FRESH, None, 0, True)


def test_the_creators_to_dos_of_the_current_creator_are_left_alone(apps, group, creator):
    remove = todo(group, Finding.Kind.STRANGER)
    before = state(remove)
    MIGRATION.route_open_todos(apps, None)
    assert state(remove) == before
    assert before[:3] == (RosterAction.Owner.CREATOR, creator.pk, LONG_AGO)


def test_a_former_creators_to_do_goes_to_the_current_creator(apps, group, creator):
    former = EmployeeFactory(name="钱前任")
    remove = todo(group, Finding.Kind.STRANGER, assignee=former)
    MIGRATION.route_open_todos(apps, None)
    assert state(remove) == (RosterAction.Owner.CREATOR, creator.pk, FRESH, None, 0, True)


def test_a_group_without_creator_sends_its_to_dos_to_hr(apps):
    remove = todo(ChatGroupFactory(creator=None), Finding.Kind.DEPARTED, assignee=None)
    MIGRATION.route_open_todos(apps, None)
    assert state(remove) == (RosterAction.Owner.HR, None, FRESH, None, 0, True)


def test_done_to_dos_are_history_and_stay(apps, group, creator):
    member = EmployeeFactory(name="孙成员")
    done = todo(group, Finding.Kind.NOT_REAL_NAME, employee=member, status="done")
    before = state(done)
    MIGRATION.route_open_todos(apps, None)
    assert state(done) == before
    assert before[:2] == (RosterAction.Owner.CREATOR, creator.pk)


def test_already_routed_to_dos_keep_their_due_date_and_a_second_run_changes_nothing(apps, group):
    member = EmployeeFactory(name="周成员")
    routed = todo(
        group,
        Finding.Kind.NOT_REAL_NAME,
        employee=member,
        owner=RosterAction.Owner.MEMBER,
        assignee=member,
    )
    before = state(routed)
    MIGRATION.route_open_todos(apps, None)
    MIGRATION.route_open_todos(apps, None)
    assert state(routed) == before


def test_the_mapping_frozen_in_the_migration_is_the_policys_today():
    routed = {
        kind: spec.owner
        for kind, spec in FINDING_SPECS.items()
        if spec.owner != RosterAction.Owner.CREATOR
    }
    assert routed == MIGRATION.OWNER_BY_KIND


def test_the_migration_graph_runs_it_after_0006_and_reverses_as_a_no_op(creator):
    migration = MIGRATION.Migration("0007_route_open_todos", "groups")
    assert migration.dependencies == [("groups", "0006_naming_convention_policy_default")]
    (operation,) = migration.operations
    assert operation.reversible
    assert operation.reverse_code is MIGRATION.migrations.RunPython.noop
