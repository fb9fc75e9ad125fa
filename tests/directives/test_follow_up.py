"""The follow-up (§7.2, §9.9): one reminder before the deadline, one proposed case after it,
run twice proposing nothing twice — and a directive's case, confirmed by HR, reaching the
department head (§9.8 joint liability)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directives.models import DirectiveAssignment, Question
from directives.services import (
    assignment_acknowledge,
    assignment_done,
    assignment_reopen,
    directive_create,
    directives_follow_up,
    question_raise,
    question_reply,
)
from directives.tasks import follow_up
from notices.models import EmailDelivery, EmailPreference, Notice
from notices.services.digests import digests_compose
from tests.directives.conftest import SYSTEM, at
from violations.models import Case
from violations.services import case_confirm


@pytest.fixture
def directive(hr, boss, office, staff, national_day):
    # Wednesday Sep 30 10:00 + 1 working day → Thursday Oct 8 10:00.
    return directive_create(
        text="提交九月销售报表", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        working_days=1, employees=staff, actor=hr,
    )  # fmt: skip


@pytest.fixture
def question(staff, sales, office, national_day):
    return question_raise(
        text="退货流程由谁负责？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 30), now=at(9, 30), actor=staff[0].user,
    )  # fmt: skip


NOTICE_POST_QUERIES = 6


def _run(now):
    return directives_follow_up(actor=SYSTEM, now=now)


def reminders(user=None) -> list[Notice]:
    notices = Notice.objects.filter(kind=Notice.Kind.DEADLINE_REMINDER).order_by("pk")
    return list(notices if user is None else notices.filter(recipient=user))


def test_one_reminder_within_a_working_day_of_the_deadline(
    directive, question, staff, department_head, django_capture_on_commit_callbacks
):
    # Nobody here has an email address: the reminders are in their inbox all the same.
    assert {u.email for u in (staff[0].user, staff[1].user, department_head)} == {""}
    # Wednesday Oct 7 (a holiday) 10:00: one working day on is Thursday Oct 8 10:00, the
    # deadline of both: everyone who must act hears of it, once.
    with django_capture_on_commit_callbacks(execute=True):
        result = _run(at(10, 7, 10))
    assert (result.directives_reminded, result.questions_reminded) == (2, 1)
    assert (result.directives_proposed, result.questions_proposed) == (0, 0)
    assert sorted(n.recipient.username for n in reminders()) == ["head", "liuyang", "zhangwei"]
    for person in staff:
        [notice] = reminders(person.user)
        assignment = directive.assignments.get(employee=person)
        assert notice.title == "指令即将到期：请在 2026年10月8日 10:00 前完成"
        assert "提交九月销售报表" in notice.body
        assert "§7.2" in notice.body
        assert notice.url == reverse("me:directive_detail", args=[assignment.pk])
        assert notice.subject_key == f"directive-reminder:{assignment.pk}:202610081000"
    [asked] = reminders(department_head)
    assert asked.title == "群内问题即将到期：请在 2026年10月8日 10:00 前回复"
    assert "退货流程由谁负责？" in asked.body
    assert "§9.9" in asked.body
    assert asked.url == reverse("me:question_list") + f"#reply-{question.pk}"
    assert asked.subject_key == f"question-reminder:{question.pk}:202610081000"
    assert not mail.outbox
    assert not EmailDelivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        again = _run(at(10, 7, 11))
    assert (again.directives_reminded, again.questions_reminded) == (0, 0)
    assert len(reminders()) == 3


def test_a_lost_reminder_record_tells_nobody_twice(directive, question):
    _run(at(10, 7, 10))
    DirectiveAssignment.objects.update(reminded_at=None)  # e.g. restored from backup
    Question.objects.update(reminded_at=None)
    _run(at(10, 7, 11))
    assert len(reminders()) == 3  # the notices' subject keys


def test_a_reopened_assignment_is_reminded_of_its_new_deadline(directive, staff, hr):
    assignment = directive.assignments.get(employee=staff[0])
    _run(at(10, 7, 10))
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    assignment_done(assignment=assignment, note="已提交", actor=staff[0].user)
    assignment_reopen(assignment=assignment, actor=hr, comment="数据不全", now=at(10, 8, 9))
    assert _run(at(10, 8, 9, 30)).directives_reminded == 1  # due again Friday Oct 9 09:00
    titles = [n.title for n in reminders(staff[0].user)]
    assert titles == [
        "指令即将到期：请在 2026年10月8日 10:00 前完成",
        "指令即将到期：请在 2026年10月9日 09:00 前完成",
    ]


def test_the_reminders_are_mailed_at_once_not_in_the_evening_digest(
    directive, question, staff, department_head, mailoutbox, django_capture_on_commit_callbacks
):
    # Sent a working day before the deadline: the evening's digest could come after it.
    for user in (staff[0].user, department_head):
        user.email = f"{user.username}@example.com"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        _run(at(10, 7, 10))
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects == {
        "head@example.com": "【微信群管理】群内问题即将到期：请在 2026年10月8日 10:00 前回复",
        "zhangwei@example.com": "【微信群管理】指令即将到期：请在 2026年10月8日 10:00 前完成",
    }  # 刘洋 has no address: in the app only
    assert not any(n.in_digest for n in reminders())  # never a second mail in the digest


def test_a_head_who_turned_email_off_is_told_in_the_app_only(question, department_head):
    department_head.email = "head@example.com"
    department_head.save()
    EmailPreference.objects.create(user=department_head, email_on=False)
    assert _run(at(10, 7, 10)).questions_reminded == 1
    assert len(reminders(department_head)) == 1
    assert not EmailDelivery.objects.exists()
    assert digests_compose() == 0


def test_an_assignee_without_a_login_is_reminded_of_nothing_but_still_marked(directive, staff):
    user = staff[0].user
    staff[0].user = None
    staff[0].save()
    user.delete()
    assert _run(at(10, 7, 10)).directives_reminded == 1  # 刘洋 alone is told
    assert DirectiveAssignment.objects.filter(reminded_at__isnull=True).count() == 0


def test_before_the_deadline_window_nobody_is_reminded(directive, question):
    # Sep 30 09:00: one working day on is Oct 8 09:00, before both deadlines (10:00).
    result = _run(at(9, 30, 9))
    assert (result.directives_reminded, result.questions_reminded) == (0, 0)


def test_past_the_deadline_proposes_once_per_assignee_not_done(directive, question, staff):
    done = directive.assignments.get(employee=staff[1])
    assignment_acknowledge(assignment=done, actor=staff[1].user)
    assignment_done(assignment=done, note="按时提交", actor=staff[1].user)

    first = _run(at(10, 8, 10, 1))
    second = _run(at(10, 8, 11))
    assert (first.directives_proposed, first.questions_proposed) == (1, 1)
    assert (second.directives_proposed, second.questions_proposed) == (0, 0)

    late = directive.assignments.get(employee=staff[0])
    case = Case.objects.get(source=Case.Source.DIRECTIVE)
    assert (case.employee, case.rule.code, case.state, case.source_key) == (
        staff[0],
        "7.2",
        Case.State.PROPOSED,
        f"directive-assignment:{late.pk}",
    )
    assert case.occurred_at == at(10, 8)
    assert case.group == directive.group
    q_case = Case.objects.get(source=Case.Source.QUESTION)
    assert (q_case.employee.name, q_case.rule.code, q_case.source_key) == (
        "郭杰华",
        "9.9",
        f"question:{question.pk}",
    )
    assert Case.objects.filter(state=Case.State.CONFIRMED).count() == 0  # nothing deducts itself


def test_proposals_are_deduplicated_even_if_the_record_was_lost(directive):
    _run(at(10, 9))
    DirectiveAssignment.objects.update(overdue_proposed_at=None)  # e.g. restored from backup
    assert _run(at(10, 9, 12)).directives_proposed == 0
    assert Case.objects.filter(source=Case.Source.DIRECTIVE).count() == 2


def test_a_question_replied_in_time_is_not_proposed(question, department_head):
    question_reply(question=question, reply="内勤负责", actor=department_head)
    assert _run(at(10, 9)).questions_proposed == 0


def test_the_beat_task_run_twice_proposes_nothing_twice(directive, question):
    # The task uses the clock: the fixtures' deadlines (2026-10-08) are long past.
    first = follow_up.delay().get()
    second = follow_up.delay().get()
    assert (first["directives_proposed"], first["questions_proposed"]) == (2, 1)
    assert (second["directives_proposed"], second["questions_proposed"]) == (0, 0)
    assert (
        Case.objects.filter(source__in=[Case.Source.DIRECTIVE, Case.Source.QUESTION]).count() == 3
    )


def test_the_follow_up_queries_stay_flat(hr, boss, office, staff, national_day):
    def remind(directives: int, now) -> CaptureQueriesContext:
        for n in range(directives):
            directive_create(
                text=f"指令{n}", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
                working_days=1, employees=staff, actor=hr,
            )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            _run(now)
        return queries

    one = remind(1, at(10, 7, 12))  # 2 reminders
    Notice.objects.all().delete()
    DirectiveAssignment.objects.all().delete()
    five = remind(5, at(10, 7, 13))  # 10 reminders
    assert Notice.objects.filter(kind=Notice.Kind.DEADLINE_REMINDER).count() == 10
    # Loading and marking the rows is a handful of queries whatever their number (one for
    # the catalog); each person told costs notice_post's own statements (its savepoint, the
    # lookup of the subject key, the insert: 6), never a query to load an assignment.
    assert len(one) <= 9 + 2 * NOTICE_POST_QUERIES, len(one)
    assert len(five) - len(one) <= 8 * NOTICE_POST_QUERIES, (len(one), len(five))


def test_confirmed_directive_case_makes_the_heads_joint_case(directive, staff, hr, hr2):
    _run(at(10, 8, 12))
    case = Case.objects.get(source=Case.Source.DIRECTIVE, employee=staff[0])
    case = case_confirm(case=case, actor=hr2, comment="未按期提交报表")
    joint = Case.objects.get(joint_of=case)
    assert joint.employee.name == "郭杰华"  # 销售部's head (§9.8)
    assert joint.state == Case.State.CONFIRMED
    assert joint.points == case.points * Decimal("0.5")
    assert joint.confirmed_by == hr2
