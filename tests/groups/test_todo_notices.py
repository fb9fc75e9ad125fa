"""A to-do opened for a group's creator (§5.1) reaches their inbox once (issue 14, point 3):
one notice per creator and group for the to-dos opened together, listing them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from common.actors import SystemActor
from groups.models import Finding, RosterAction
from groups.selectors import can_view_roster
from groups.services.actions import roster_actions_remind_overdue
from notices.models import Notice
from tests.factories import ChatGroupFactory, UserFactory
from tests.groups.test_reconcile import reconcile
from tests.groups.test_routing import without
from violations.models import Case
from violations.services.roster_cases import roster_actions_handle_overdue

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator_login(company):
    company.hr_head.user = UserFactory(username="creator", email="creator@example.com")
    company.hr_head.save()
    return company.hr_head.user


def test_the_creator_is_told_of_the_todos_opened_for_them_once(
    seeded, company, creator_login, django_capture_on_commit_callbacks
):
    rows = [*without("销售部-李娜"), "快递小哥"]
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *rows)

    # Opened together per kind of finding (the missing, the strangers): a notice each.
    notices = list(Notice.objects.filter(recipient=creator_login).order_by("pk"))
    assert {n.kind for n in notices} == {Notice.Kind.TODO_ASSIGNED}
    assert {n.title for n in notices} == {"办公群：1 项新的群成员待办"}
    body = "\n".join(n.body for n in notices)
    assert "拉入群：应入群未入群：李娜" in body
    assert "移出群：无关人员：快递小哥" in body
    assert "§5.1" in notices[0].body
    due = RosterAction.objects.filter(owner=RosterAction.Owner.CREATOR).first().due_on
    assert f"（截止 {due.year}年{due.month}月{due.day}日）" in body  # the house's date
    url = reverse("admin:groups_rosteraction_changelist") + "?status__exact=open"
    assert {n.url for n in notices} == {url}
    assert RosterAction.objects.filter(owner=RosterAction.Owner.CREATOR).count() == 2
    # The next run keeps the same to-dos: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *rows)
    assert Notice.objects.filter(recipient=creator_login).count() == 2


def test_a_creator_without_a_login_is_not_told_and_nothing_fails(
    seeded, company, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *without("销售部-李娜"))
    assert RosterAction.objects.filter(finding__kind=Finding.Kind.MISSING).exists()
    assert not Notice.objects.exists()


@pytest.fixture
def secret(company):
    """A confidential group (§6.1, like 俊马管理群) that 赵敏 created: its roster is HR's and
    its admins' only (groups.selectors.can_view_roster)."""
    return ChatGroupFactory(
        code="secret", name="机密群", creator=company.hr_head, is_confidential=True
    )


def test_a_confidential_groups_creator_is_not_told_of_todos_they_cannot_open(
    seeded, company, creator_login, secret, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(secret, "快递小哥")
    todo = RosterAction.objects.get(group=secret, owner=RosterAction.Owner.CREATOR)
    assert todo.assignee == company.hr_head
    assert not can_view_roster(creator_login, secret)
    assert not Notice.objects.filter(recipient=creator_login).exists()
    # Overdue, they are not reminded either (HR's list shows the to-do).
    result = roster_actions_remind_overdue(today=todo.due_on + dt.timedelta(days=1))
    assert result.reminded == 0
    assert not Notice.objects.filter(recipient=creator_login).exists()
    # Nor, past the grace period, proposed a §5.1 case for what they could not open.
    late = todo.due_on + dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS + 1)
    roster_actions_handle_overdue(today=late, actor=SystemActor("test"))
    assert not Case.objects.filter(employee=company.hr_head, rule__code="5.1").exists()


def test_a_confidential_groups_creator_who_may_see_its_roster_is_told(
    seeded, company, creator_login, secret, django_capture_on_commit_callbacks
):
    """…and, able to act, answers for it past the grace period as any creator (§5.1)."""
    creator_login.user_permissions.add(Permission.objects.get(codename="view_rostersnapshot"))
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(secret, "快递小哥")
    assert Notice.objects.filter(recipient=creator_login, kind=Notice.Kind.TODO_ASSIGNED).exists()
    todo = RosterAction.objects.get(group=secret, owner=RosterAction.Owner.CREATOR)
    result = roster_actions_remind_overdue(today=todo.due_on + dt.timedelta(days=1))
    assert result.reminded == 1
    assert Notice.objects.filter(recipient=creator_login, kind=Notice.Kind.ROSTER_TODO).exists()
    late = todo.due_on + dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS + 1)
    roster_actions_handle_overdue(today=late, actor=SystemActor("test"))
    assert Case.objects.filter(employee=company.hr_head, rule__code="5.1").exists()


def test_a_confidential_groups_creator_without_a_login_is_not_charged_either(
    seeded, company, secret
):
    """No login, no to-do list to open: past the grace period no §5.1 case (HR's list has it)."""
    reconcile(secret, "快递小哥")
    todo = RosterAction.objects.get(group=secret, owner=RosterAction.Owner.CREATOR)
    assert company.hr_head.user is None
    late = todo.due_on + dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS + 1)
    roster_actions_handle_overdue(today=late, actor=SystemActor("test"))
    assert not Case.objects.filter(employee=company.hr_head, rule__code="5.1").exists()
