"""The employee's own pages: my directives (acknowledge, report done) and my questions (the
asker confirms or reopens, the head replies) — their own rows only, queries flat."""

from __future__ import annotations

import pytest
from django.urls import reverse

from directives.models import DirectiveAssignment, Question
from directives.services import directive_create, question_raise, question_reply
from tests.directives.conftest import at

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
