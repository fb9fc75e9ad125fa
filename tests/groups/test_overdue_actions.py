"""§5.1: overdue roster to-dos are reminded once a day and, past the grace period, proposed
to HR as one §5.1 case per group, creator and due date — never a penalty by themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.actors import SystemActor
from groups.models import ChatGroup, ReconciliationRun, RosterAction
from groups.services.actions import REMINDER_SUBJECT
from groups.tasks import reconcile_all
from notices.models import EmailDelivery, Notice
from notices.services import EMAIL_SUBJECT, emails_send_due
from notices.services.digests import digests_compose
from tests.factories import ChatGroupFactory, UserFactory
from tests.groups.conftest import capture, compliant_rows
from tests.groups.test_reconcile import reconcile
from violations.models import Case
from violations.services.roster_cases import roster_actions_handle_overdue
from violations.tasks import handle_overdue_roster_actions

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
SYSTEM = SystemActor("task:groups.handle_overdue_roster_actions")


@pytest.fixture
def overdue(seeded, company):
    """Two open to-dos (a stranger and a departed member) for the creator, due in 2 days."""
    company.hr_head.user = UserFactory(username="zhaomin", email="zhaomin@example.com")
    company.hr_head.save()
    reconcile(company.office, *compliant_rows(), "快递小哥", "陈静")
    assert RosterAction.objects.filter(status="open").count() == 2
    return company


def test_nothing_happens_before_the_due_date(overdue, mailoutbox):
    result = roster_actions_handle_overdue(today=TODAY + dt.timedelta(days=2), actor=SYSTEM)
    assert result.reminded == 0
    assert mailoutbox == []


def test_overdue_creator_is_reminded_once_a_day_by_email(
    overdue, mailoutbox, django_capture_on_commit_callbacks
):
    day = TODAY + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        result = roster_actions_handle_overdue(today=day, actor=SYSTEM)
    assert result.reminded == 2
    assert mailoutbox == []  # no mail per event: the evening's digest carries it
    evening = timezone.now() + dt.timedelta(seconds=1)
    digests_compose(now=evening)
    emails_send_due(now=evening)
    assert len(mailoutbox) == 1  # one email per creator, listing both
    assert mailoutbox[0].to == ["zhaomin@example.com"]
    assert mailoutbox[0].subject.startswith(EMAIL_SUBJECT.format(title="每日通知摘要"))
    assert REMINDER_SUBJECT.format(count=2) in mailoutbox[0].body
    assert "快递小哥" in mailoutbox[0].body
    # Told through a notice on their page too; the digest is its delivery, sent (not dropped).
    notice = Notice.objects.select_related("digest").get(recipient__username="zhaomin")
    assert notice.kind == Notice.Kind.ROSTER_TODO
    assert notice.digest.status == EmailDelivery.Status.SENT
    with django_capture_on_commit_callbacks(execute=True):
        again = roster_actions_handle_overdue(today=day, actor=SYSTEM)
    assert again.reminded == 0
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        roster_actions_handle_overdue(today=day + dt.timedelta(days=1), actor=SYSTEM)
    digests_compose(now=evening + dt.timedelta(days=1))
    emails_send_due(now=evening + dt.timedelta(days=1))
    assert len(mailoutbox) == 2
    assert Notice.objects.filter(recipient__username="zhaomin").count() == 2  # one a day
    assert set(RosterAction.objects.values_list("reminder_count", flat=True)) == {2}


def test_past_grace_one_case_is_proposed_for_hr_and_only_once(overdue):
    due = RosterAction.objects.first().due_on
    # grace is 3 days: due+3 is still inside it
    roster_actions_handle_overdue(today=due + dt.timedelta(days=3), actor=SYSTEM)
    assert not Case.objects.exists()
    result = roster_actions_handle_overdue(today=due + dt.timedelta(days=4), actor=SYSTEM)
    assert result.proposed_cases == 1
    case = Case.objects.get()
    assert case.rule.code == "5.1"
    assert case.employee == overdue.hr_head  # against the creator (§5.1)
    assert case.group == overdue.office
    assert case.state == Case.State.PROPOSED  # a proposal for HR, not a penalty
    assert case.source == Case.Source.RECONCILIATION
    assert "2 项" in case.description
    assert RosterAction.objects.filter(escalated_at__isnull=False).count() == 2
    roster_actions_handle_overdue(today=due + dt.timedelta(days=5), actor=SYSTEM)
    assert Case.objects.count() == 1


def test_a_fixed_roster_closes_the_to_dos_before_they_are_overdue(overdue):
    reconcile(overdue.office, *compliant_rows())
    result = roster_actions_handle_overdue(today=TODAY + dt.timedelta(days=30), actor=SYSTEM)
    assert (result.reminded, result.proposed_cases) == (0, 0)
    assert not Case.objects.exists()


def test_a_to_do_without_creator_is_never_escalated(seeded, company):
    orphan = ChatGroupFactory(code="orphan", name="无群主群")
    reconcile(orphan, "快递小哥")
    result = roster_actions_handle_overdue(today=TODAY + dt.timedelta(days=30), actor=SYSTEM)
    assert result.proposed_cases == 0
    assert result.reminded == 1


def test_the_daily_task_runs_the_service(overdue):
    report = handle_overdue_roster_actions.delay().get()
    assert report == {
        "reminded": 0,
        "emails": 0,
        "proposed": 0,
        "untold_renames": 0,
        "reported_renames": 0,
    }


def test_reconcile_all_queues_a_run_per_group_and_runs_them(
    company, django_capture_on_commit_callbacks
):
    second = ChatGroupFactory(
        code="office-2",
        name="办公2群",
        family=company.office,
        naming_convention=ChatGroup.NamingConvention.DEPARTMENT_NAME,  # as the office group
    )
    capture(company.office, *compliant_rows()[:3])
    capture(second, *compliant_rows()[3:], "快递小哥")
    with django_capture_on_commit_callbacks(execute=True):
        queued = reconcile_all.delay().get()
    assert queued == 2
    runs = ReconciliationRun.objects.order_by("pk")
    assert [r.status for r in runs] == ["done", "done"]
    # One family: MISSING judged once, by its last run, with both groups matched.
    assert [r.summary["counts"].get("missing", 0) for r in runs] == [0, 0]
    assert runs[1].summary["counts"] == {"stranger": 1}


def test_with_rule_5_1_switched_off_overdue_to_dos_are_only_reminded(overdue):
    from violations.models import Rule

    Rule.objects.filter(code="5.1").update(is_active=False)
    result = roster_actions_handle_overdue(today=TODAY + dt.timedelta(days=30), actor=SYSTEM)
    assert result.reminded == 2
    assert result.proposed_cases == 0
    assert not RosterAction.objects.filter(escalated_at__isnull=False).exists()


def test_the_overdue_to_dos_are_loaded_once_for_the_reminder_and_the_escalation(
    overdue, django_assert_max_num_queries
):
    """One SELECT of the overdue to-dos serves both steps; the rest is a fixed number of
    statements (the reminder's notice with its email, the reminder's update, the rules, the
    proposal with its history, audit row and the employee's notice, the escalation's
    update), measured at 31 with their savepoints."""
    due = RosterAction.objects.first().due_on
    with django_assert_max_num_queries(31) as captured:
        result = roster_actions_handle_overdue(today=due + dt.timedelta(days=4), actor=SYSTEM)
    assert (result.reminded, result.proposed_cases) == (2, 1)
    loads = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT "groups_rosteraction"')
    ]
    assert len(loads) == 1
