"""The employee's own pages: my directives (acknowledge, report done) and my questions (the
asker confirms or reopens, the head replies) — their own rows only, queries flat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from directives.models import DirectiveAssignment, Question
from directives.services import (
    assignment_acknowledge,
    assignment_done,
    directive_create,
    question_raise,
    question_reply,
)
from tests.directives.conftest import at
from tests.factories import EmployeeFactory

State = DirectiveAssignment.State


@pytest.fixture
def directive(hr, boss, office, staff):
    return directive_create(
        text="提交九月销售报表", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1),
        deadline=at(9, 3), employees=staff, actor=hr,
    )  # fmt: skip


def test_my_directives_lists_mine_only(client, directive, staff, employee):
    client.force_login(staff[0].user)
    response = client.get(reverse("me:directive_list"))
    assert "提交九月销售报表" in response.content.decode()
    client.force_login(employee)  # 李娜: not an assignee
    assert "提交九月销售报表" not in client.get(reverse("me:directive_list")).content.decode()
    other = directive.assignments.get(employee=staff[1])
    assert client.get(reverse("me:directive_detail", args=[other.pk])).status_code == 404


def test_acknowledge_then_report_done_on_my_page(client, directive, staff):
    user = staff[0].user
    assignment = directive.assignments.get(employee__user=user)
    url = reverse("me:directive_detail", args=[assignment.pk])
    client.force_login(user)
    client.post(url, {"action": "acknowledge"})
    response = client.post(url, {"note": ""})  # the note is required
    assert response.status_code == 200
    client.post(url, {"note": "报表已发群里"})
    assignment.refresh_from_db()
    assert (assignment.state, assignment.note) == (State.DONE, "报表已发群里")
    page = client.get(url).content.decode()
    assert "已完成（待验收）" in page
    assert "报表已发群里" in page


def test_a_refused_move_is_shown_not_applied(client, directive, staff):
    user = staff[0].user
    assignment = directive.assignments.get(employee__user=user)
    client.force_login(user)
    response = client.post(
        reverse("me:directive_detail", args=[assignment.pk]), {"note": "跳过确认"}, follow=True
    )
    assert "不能改为" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.state == State.ASSIGNED


def test_head_replies_and_asker_confirms_on_their_pages(
    client, office, sales, staff, department_head
):
    question = question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 1), now=at(9, 1), actor=staff[0].user,
    )  # fmt: skip
    url = reverse("me:question_act", args=[question.pk])
    client.force_login(staff[0].user)
    assert "记录回复" not in client.get(reverse("me:question_list")).content.decode()
    client.post(url, {"action": "reply", "reply": "我自己答"})  # refused: not the head
    question.refresh_from_db()
    assert question.state == Question.State.OPEN

    client.force_login(department_head)
    assert "记录回复" in client.get(reverse("me:question_list")).content.decode()
    client.post(url, {"action": "reply", "reply": "找销售内勤"})
    question.refresh_from_db()
    assert question.state == Question.State.REPLIED

    client.force_login(staff[0].user)
    client.post(url, {"action": "reopen", "comment": "内勤是谁？"})
    question.refresh_from_db()
    assert question.state == Question.State.REOPENED
    question_reply(question=question, reply="张三", actor=department_head)
    client.post(url, {"action": "confirm"})
    question.refresh_from_db()
    assert question.state == Question.State.CONFIRMED


def test_someone_elses_question_is_not_found(client, office, sales, staff, employee):
    question = question_raise(
        text="x", group=office, department=sales, raised_by=staff[0], raised_at=at(9, 1), now=at(9, 1),
        actor=staff[0].user,
    )  # fmt: skip
    client.force_login(employee)
    url = reverse("me:question_act", args=[question.pk])
    assert client.post(url, {"action": "confirm"}).status_code == 404


@pytest.mark.parametrize("page", ["me:directive_list", "me:question_list"])
def test_my_pages_queries_stay_flat(
    client, hr, boss, office, sales, staff, department_head, page, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            directive_create(
                text=f"指令{i}", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 3),
                employees=[staff[0]], actor=hr,
            )  # fmt: skip
            question_raise(
                text=f"问题{i}", group=office, department=sales, raised_by=staff[0],
                raised_at=at(9, 1), now=at(9, 1), actor=hr,
            )  # fmt: skip

    # The head answers and asked nothing; staff[0] asked: both pages' views.
    user = department_head if page == "me:question_list" else staff[0].user
    client.force_login(user)
    add(2)
    with django_assert_max_num_queries(20) as few:
        assert client.get(reverse(page)).status_code == 200
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse(page))


# -- walk findings: who gave it, labels, overdue marked --------------------------------------


def test_my_directive_names_the_issuer_not_the_clerk(client, hr, boss, office, staff):
    """HR's clerk typed it in; the leader gave it (§7.2): 下达人 is the leader, the clerk
    only 登记人 (the walk saw "唐佳红 下达" for a directive of 王国宇's)."""
    EmployeeFactory(name="唐佳红", user=hr)
    directive = directive_create(
        text="整理工具柜", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1),
        deadline=at(9, 3), employees=[staff[0]], actor=hr,
    )  # fmt: skip
    client.force_login(staff[0].user)
    url = reverse("me:directive_detail", args=[directive.assignments.get().pk])
    page = client.get(url).content.decode()
    assert "<dt>下达人</dt><dd>陈总</dd>" in page
    assert "<dt>登记人</dt><dd>唐佳红</dd>" in page
    assert "陈总 下达，唐佳红 登记" in page  # the timeline's first row
    assert "唐佳红 下达" not in page
    assert "<td>唐佳红</td><td>下达</td>" not in page


def test_my_directive_report_box_has_a_label(client, directive, staff):
    assignment = directive.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    client.force_login(staff[0].user)
    page = client.get(reverse("me:directive_detail", args=[assignment.pk])).content.decode()
    assert '<label class="field-label" for="id_note">' in page
    assert 'id="id_note"' in page


def test_overdue_deadline_is_marked_and_a_future_one_is_not(client, hr, boss, office, staff):
    late = directive_create(
        text="早该完成", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1),
        deadline=at(9, 3), employees=[staff[0]], actor=hr,
    )  # fmt: skip
    future = dt.datetime(2099, 1, 5, 10, tzinfo=dt.UTC)
    later = directive_create(
        text="还来得及", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1),
        deadline=future, employees=[staff[1]], actor=hr,
    )  # fmt: skip
    client.force_login(staff[0].user)
    assert "已逾期" in client.get(reverse("me:directive_list")).content.decode()
    mine = late.assignments.get().pk
    assert "已逾期" in client.get(reverse("me:directive_detail", args=[mine])).content.decode()
    client.force_login(staff[1].user)
    assert "已逾期" not in client.get(reverse("me:directive_list")).content.decode()
    mine = later.assignments.get().pk
    assert "已逾期" not in client.get(reverse("me:directive_detail", args=[mine])).content.decode()


def test_done_work_is_not_marked_overdue(client, directive, staff):
    assignment = directive.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    assignment_done(assignment=assignment, note="好了", actor=staff[0].user)
    client.force_login(staff[0].user)
    assert "已逾期" not in client.get(reverse("me:directive_list")).content.decode()


def test_question_boxes_have_labels_and_a_late_reply_is_marked(
    client, office, sales, staff, department_head
):
    question = question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0],
        raised_at=at(9, 1), now=at(9, 1), actor=staff[0].user,
    )  # fmt: skip
    client.force_login(department_head)
    page = client.get(reverse("me:question_list")).content.decode()
    assert f'<label class="field-label" for="reply-{question.pk}">回复</label>' in page
    assert f'id="reply-{question.pk}"' in page
    assert "已逾期" in page  # the September deadline is long past and nobody replied
    question_reply(question=question, reply="找内勤", actor=department_head)
    client.force_login(staff[0].user)
    page = client.get(reverse("me:question_list")).content.decode()
    assert f'<label class="field-label" for="reopen-{question.pk}">还有什么没有解决</label>' in page
    assert f'id="reopen-{question.pk}"' in page
    assert "已逾期" not in page  # replied: the head is no longer late


def test_a_question_with_time_left_is_not_marked(client, office, sales, staff, department_head):
    now = timezone.now()
    question_raise(
        text="明天开会吗？", group=office, department=sales, raised_by=staff[0],
        raised_at=now, now=now, actor=staff[0].user,
    )  # fmt: skip
    client.force_login(department_head)
    assert "已逾期" not in client.get(reverse("me:question_list")).content.decode()
