"""Explicit actors (common.actors): a person or the system, never nobody and never an
anonymous visitor — also in services that have nothing to do on the day they are called."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from common.actors import (
    ERROR_ANONYMOUS_ACTOR,
    ERROR_NO_ACTOR,
    SystemActor,
    actor_may,
    actor_user,
    require_actor,
)
from groups.models import MemberIdentity
from groups.services.findings import member_identity_forget, member_identity_remember
from groups.services.runs import reconcile_now, reconcile_start_all
from members.importing import employee_import_file
from members.services import employee_access_revoke, login_lockouts_release
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from violations.services.roster_cases import roster_actions_handle_overdue

SYSTEM = SystemActor("test")
REFUSED = [
    pytest.param(None, ERROR_NO_ACTOR, id="none"),
    pytest.param(AnonymousUser(), ERROR_ANONYMOUS_ACTOR, id="anonymous"),
]


@pytest.mark.parametrize(("actor", "message"), REFUSED)
def test_no_actor_and_an_anonymous_visitor_are_refused(actor, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        require_actor(actor)
    with pytest.raises(TypeError, match=re.escape(message)):
        actor_user(actor)
    with pytest.raises(TypeError, match=re.escape(message)):
        actor_may(actor, "violations.decide_case")


def test_the_system_is_recorded_as_no_person_and_may_do_anything():
    assert require_actor(SYSTEM) is SYSTEM
    assert actor_user(SYSTEM) is None
    assert actor_may(SYSTEM, "violations.decide_case")


@pytest.mark.django_db
def test_a_user_is_recorded_as_themselves_and_holds_only_their_permissions():
    user = UserFactory(username="clerk")
    assert require_actor(user) is user
    assert actor_user(user) == user
    assert not actor_may(user, "violations.decide_case")


# Each service with nothing to do here would return before asking actor_may/actor_user.
NOTHING_TO_DO = {
    "member_identity_remember (a group without snapshots)": lambda actor: member_identity_remember(
        group=ChatGroupFactory(), display_name="老王", employee=None, actor=actor
    ),
    "member_identity_forget (a group without snapshots)": lambda actor: member_identity_forget(
        identity=MemberIdentity.objects.create(group=ChatGroupFactory(), display_name="老王"),
        actor=actor,
    ),
    "roster_actions_handle_overdue (no to-do)": lambda actor: roster_actions_handle_overdue(
        actor=actor
    ),
    "employee_access_revoke (still employed)": lambda actor: employee_access_revoke(
        employee=EmployeeFactory(), actor=actor
    ),
    "login_lockouts_release (none chosen)": lambda actor: login_lockouts_release(
        lockouts=[], actor=actor
    ),
    "reconcile_start_all (no group)": lambda actor: reconcile_start_all(actor=actor),
    "reconcile_now (no group)": lambda actor: reconcile_now(actor=actor),
    "employee_import_file (an unreadable file)": lambda actor: employee_import_file(
        data=b"not a sheet", filename="x.xlsx", actor=actor
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("service", NOTHING_TO_DO.values(), ids=NOTHING_TO_DO.keys())
@pytest.mark.parametrize(("actor", "message"), REFUSED)
def test_a_service_with_nothing_to_do_still_refuses_no_actor(service, actor, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        service(actor)


@pytest.mark.django_db
@pytest.mark.parametrize("service", NOTHING_TO_DO.values(), ids=NOTHING_TO_DO.keys())
def test_the_same_services_run_for_the_system(service):
    service(SYSTEM)
