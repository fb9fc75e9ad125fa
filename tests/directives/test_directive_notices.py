"""Directives in the inbox (issue 14, point 3): each assignee is told of a new directive (a
to-do assigned to them), and the issuer when one reports it done — it waits for them to
accept; nobody is told of what they did themselves."""

from __future__ import annotations

import pytest

from directives.models import Directive
from directives.services import assignment_acknowledge, assignment_done, directive_create
from notices.models import EmailDelivery, EmailPreference, Notice
from tests.directives.conftest import at

Kind = Notice.Kind


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """directive_create, then its commit: the assignees are told once it commits."""

    def issue_(**kwargs) -> Directive:
        with django_capture_on_commit_callbacks(execute=True):
            return directive_create(**kwargs)

    return issue_


@pytest.fixture
def directive(issue, hr, boss, office, staff, national_day) -> Directive:
    return issue(
        text="国庆后第一天提交九月销售报表",
        issuer=boss,
        group=office,
        given_at=at(9, 30),
        now=at(9, 30),
        working_days=1,
        employees=staff,
        actor=hr,
    )


def test_each_assignee_is_told_of_their_part(directive, staff, hr, leader):
    for person in staff:
        [notice] = Notice.objects.filter(recipient=person.user)
        assignment = directive.assignments.get(employee=person)
        assert notice.kind == Kind.TODO_ASSIGNED
        assert notice.title == "新的指令：请在 2026年10月8日 10:00 前完成"
        assert "国庆后第一天提交九月销售报表" in notice.body
        assert notice.url == f"/me/directives/{assignment.pk}/"
        assert notice.in_digest
    # Neither whoever recorded it nor the issuer is told of the directive itself.
    assert not Notice.objects.filter(recipient__in=[hr, leader]).exists()


def test_the_issuer_is_told_when_work_waits_for_acceptance(directive, staff, leader):
    user = staff[0].user
    assignment = directive.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=user)
    assignment_done(assignment=assignment, note="报表已提交", actor=user)

    [notice] = Notice.objects.filter(recipient=leader, kind=Kind.APPROVAL_WAITING)
    assert notice.title == f"张伟 报告指令 #{directive.pk} 已完成，等待你验收"
    assert "报表已提交" in notice.body
    assert notice.url == f"/admin/directives/directiveassignment/{assignment.pk}/change/"


def test_the_issuer_recording_it_for_the_assignee_is_not_told(directive, staff, leader):
    assignment = directive.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=leader)
    assignment_done(assignment=assignment, note="电话里说做完了", actor=leader)

    assert not Notice.objects.filter(recipient=leader).exists()


@pytest.mark.parametrize(
    ("deadline", "mailed_at_once"),
    [
        (at(9, 30, 17), True),  # before the 17:30 digest: the digest would come too late
        (at(9, 30, 18), False),  # after it: the evening's digest tells them in time
    ],
)
def test_a_deadline_before_the_next_digest_is_mailed_at_once(
    issue, hr, boss, office, staff, national_day, deadline, mailed_at_once
):
    user = staff[0].user
    user.email = "zhangwei@example.com"
    user.save()
    issue(
        text="今天下班前把样品寄出", issuer=boss, group=office, given_at=at(9, 30, 9),
        now=at(9, 30, 9), deadline=deadline, employees=staff[:1], actor=hr,
    )  # fmt: skip
    [notice] = Notice.objects.filter(recipient=user, kind=Kind.TODO_ASSIGNED)
    assert notice.in_digest is not mailed_at_once
    emails = EmailDelivery.objects.filter(notice=notice, to="zhangwei@example.com")
    assert emails.exists() is mailed_at_once


def test_an_urgent_directive_still_honours_the_email_opt_out(
    issue, hr, boss, office, staff, national_day
):
    user = staff[0].user
    user.email = "zhangwei@example.com"
    user.save()
    EmailPreference.objects.create(user=user, email_on=False)
    issue(
        text="今天下班前把样品寄出", issuer=boss, group=office, given_at=at(9, 30, 9),
        now=at(9, 30, 9), deadline=at(9, 30, 17), employees=staff[:1], actor=hr,
    )  # fmt: skip
    assert Notice.objects.filter(recipient=user, kind=Kind.TODO_ASSIGNED).exists()
    assert not EmailDelivery.objects.exists()


def test_nobody_is_told_before_the_directive_commits(hr, boss, office, staff, national_day):
    """In the request only the directive is written; its assignees are told after it commits
    (on the worker: directives.tell_assignees), so that a directive to a whole department does
    not hold the request for hundreds of notices — and a rolled-back one tells nobody."""
    directive_create(
        text="国庆后第一天提交九月销售报表", issuer=boss, group=office, given_at=at(9, 30),
        now=at(9, 30), working_days=1, employees=staff, actor=hr,
    )  # fmt: skip
    assert not Notice.objects.filter(kind=Kind.TODO_ASSIGNED).exists()


def test_issuing_takes_the_same_queries_for_many_assignees(
    hr, boss, office, national_day, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EmployeeFactory, UserFactory

    def people(n: int) -> list:
        return [EmployeeFactory(user=UserFactory()) for _ in range(n)]

    def issue_to(employees) -> None:
        directive_create(
            text="盘点", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
            working_days=1, employees=employees, actor=hr,
        )  # fmt: skip

    few, many = people(2), people(20)
    with CaptureQueriesContext(connection) as for_few:
        issue_to(few)
    with django_assert_max_num_queries(len(for_few.captured_queries)):
        issue_to(many)


def test_the_task_tells_each_assignee_once(directive, staff):
    from directives.tasks import tell_assignees

    ids = list(directive.assignments.values_list("pk", flat=True))
    before = set(Notice.objects.filter(kind=Kind.TODO_ASSIGNED).values_list("pk", flat=True))
    assert len(before) == len(staff)
    tell_assignees(directive.pk, ids, None, at(9, 30).isoformat())  # delivered twice
    after = set(Notice.objects.filter(kind=Kind.TODO_ASSIGNED).values_list("pk", flat=True))
    assert after == before


def test_a_task_run_late_tells_as_of_when_it_runs(hr, boss, office, staff, national_day):
    """Queued at 17:00 for a deadline at 9:00 the next morning (the 17:30 digest in time), but
    run at 17:40 by a busy worker: the digest after that comes too late — mailed at once."""
    import datetime as dt

    from django.utils import timezone

    from directives.tasks import tell_assignees

    user = staff[0].user
    user.email = "zhangwei@example.com"
    user.save()
    directive = directive_create(
        text="明天一早交样品", issuer=boss, group=office, given_at=at(9, 29, 9),
        now=at(9, 29, 9), deadline=at(9, 30, 9), employees=staff[:1], actor=hr,
    )  # fmt: skip
    ids = list(directive.assignments.values_list("pk", flat=True))
    queued = timezone.now() - dt.timedelta(minutes=40)
    tell_assignees(directive.pk, ids, hr.pk, at(9, 29, 17).isoformat(), queued.isoformat())
    [notice] = Notice.objects.filter(recipient=user, kind=Kind.TODO_ASSIGNED)
    assert not notice.in_digest
    assert EmailDelivery.objects.filter(notice=notice).exists()
