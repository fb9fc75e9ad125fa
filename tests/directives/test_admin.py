"""The admin: each role sees its rows (filtered in the queryset), the actions call the
services (their refusals reported), the lists' query counts stay flat."""

from __future__ import annotations

import pytest
from django.urls import reverse

from directives.models import Directive, DirectiveAssignment, Question
from directives.services import (
    assignment_acknowledge,
    assignment_done,
    directive_create,
    question_raise,
)
from members.services import department_get_or_create_by_path
from tests.directives.conftest import at
from tests.factories import ChatGroupFactory, EmployeeFactory

LISTS = ["directive", "directiveassignment", "question"]


def _url(model: str, *args) -> str:
    action = "change" if args else "changelist"
    return reverse(f"admin:directives_{model}_{action}", args=args)


@pytest.fixture
def world(hr, boss, office, staff, sales, national_day):
    """One directive and one question in 办公群 for 销售部, and one of each elsewhere (生产部,
    another group) that the sales head and 办公群's admins must not see."""
    other_group = ChatGroupFactory(code="other", name="别的群")
    factory_dept = department_get_or_create_by_path(path="生产部")
    worker = EmployeeFactory(name="工人", department=factory_dept)
    mine = directive_create(
        text="销售指令", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 3),
        employees=staff, actor=hr,
    )  # fmt: skip
    directive_create(
        text="生产指令", issuer=boss, group=other_group, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 3),
        employees=[worker], actor=hr,
    )  # fmt: skip
    question_raise(
        text="销售问题", group=office, department=sales, raised_by=staff[0], raised_at=at(9, 1), now=at(9, 1),
        actor=hr,
    )  # fmt: skip
    question_raise(
        text="生产问题", group=other_group, department=factory_dept, raised_by=worker,
        raised_at=at(9, 1), now=at(9, 1), actor=hr,
    )  # fmt: skip
    return mine


@pytest.mark.parametrize("model", LISTS)
def test_hr_sees_everything(client, hr, world, model):
    client.force_login(hr)
    response = client.get(_url(model))
    assert response.status_code == 200
    expected = {"directive": 2, "directiveassignment": 3, "question": 2}[model]
    assert response.context["cl"].result_count == expected


# The sales head and 办公群's admin see 销售部's rows in 办公群; the leader, who issued
# both directives, sees both, and every question (company/roles.py: directives.view_question).
SCOPES = {
    "department_head": {"directive": 1, "directiveassignment": 2, "question": 1},
    "group_admin": {"directive": 1, "directiveassignment": 2, "question": 1},
    "leader": {"directive": 2, "directiveassignment": 3, "question": 2},
}


@pytest.mark.parametrize("persona", list(SCOPES))
@pytest.mark.parametrize("model", LISTS)
def test_scoped_roles_see_their_rows_only(client, request, world, persona, model):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(_url(model))
    expected = SCOPES[persona][model]
    rows = list(response.context["cl"].result_list)
    assert len(rows) == expected
    if persona != "leader":
        assert all("生产" not in str(getattr(r, "directive", r)) for r in rows)


def test_outsider_sees_nothing(client, outsider, world):
    client.force_login(outsider)
    for model in LISTS:
        assert client.get(_url(model)).status_code == 403
    assert client.get(_url("directive", world.pk)).status_code == 403


def test_head_may_not_open_another_departments_question(client, department_head, world):
    other = Question.objects.get(text="生产问题")
    client.force_login(department_head)
    response = client.get(_url("question", other.pk), follow=True)  # as if it did not exist
    assert "生产问题" not in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    mine = Question.objects.get(text="销售问题")
    assert client.get(_url("question", mine.pk)).status_code == 200


def test_accept_action_by_the_issuer_and_refused_for_a_head(
    client, leader, department_head, world, staff
):
    assignment = world.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    assignment_done(assignment=assignment, note="完成", actor=staff[0].user)
    data = {"action": "accept", "_selected_action": [assignment.pk], "comment": ""}
    client.force_login(department_head)
    response = client.post(_url("directiveassignment"), data, follow=True)
    assert "只有人力资源部或下达人可以验收" in response.content.decode()
    client.force_login(leader)
    client.post(_url("directiveassignment"), data)
    assignment.refresh_from_db()
    assert assignment.state == DirectiveAssignment.State.ACCEPTED


def test_head_records_a_reply_from_the_list(client, department_head, world):
    question = Question.objects.get(text="销售问题")
    client.force_login(department_head)
    data = {"action": "record_reply", "_selected_action": [question.pk], "comment": "已处理"}
    client.post(_url("question"), data)
    question.refresh_from_db()
    assert (question.state, question.reply) == (Question.State.REPLIED, "已处理")


def test_hr_records_for_an_assignee_from_the_list(client, hr, world, staff):
    assignment = world.assignments.get(employee=staff[0])
    client.force_login(hr)
    url = _url("directiveassignment")
    data = {"action": "acknowledge_for", "_selected_action": [assignment.pk], "comment": ""}
    client.post(url, data)
    response = client.post(url, {**data, "action": "done_for"}, follow=True)
    assert "报告完成时请写明完成情况" in response.content.decode()
    client.post(url, {**data, "action": "done_for", "comment": "电话报告已完成"})
    assignment.refresh_from_db()
    assert (assignment.state, assignment.note) == (DirectiveAssignment.State.DONE, "电话报告已完成")
    assert assignment.transitions.last().comment == "代为登记：电话报告已完成"


def test_hr_records_a_heads_reply_from_the_list(client, hr, world):
    question = Question.objects.get(text="销售问题")
    client.force_login(hr)
    data = {"action": "record_reply", "_selected_action": [question.pk], "comment": "已处理"}
    client.post(_url("question"), data)
    question.refresh_from_db()
    assert question.state == Question.State.REPLIED
    assert question.transitions.last().comment == "代为登记：已处理"


def test_add_directive_through_the_service(client, hr, boss, office, sales, staff):
    client.force_login(hr)
    data = {
        "text": "整理客户名单",
        "issuer": boss.pk,
        "group": office.pk,
        "given_at_0": "2026-09-01",
        "given_at_1": "10:00",
        "deadline_0": "",
        "deadline_1": "",
        "working_days": "2",
        "departments": [sales.pk],
    }
    response = client.post(reverse("admin:directives_directive_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    directive = Directive.objects.get(text="整理客户名单")
    assert directive.assignments.count() == 3  # 销售部: the head and two staff


def test_add_directive_refusal_is_shown_on_the_form(client, hr, office, staff):
    clerk = EmployeeFactory(name="普通员工")
    client.force_login(hr)
    data = {
        "text": "x", "issuer": clerk.pk, "group": office.pk, "given_at_0": "2026-09-01",
        "given_at_1": "10:00", "working_days": "1", "employees": [staff[0].pk],
    }  # fmt: skip
    response = client.post(reverse("admin:directives_directive_add"), data)
    assert response.status_code == 200
    assert not Directive.objects.filter(text="x").exists()


@pytest.mark.parametrize("model", LISTS)
def test_lists_queries_stay_flat(
    client, hr, boss, office, staff, model, django_assert_max_num_queries
):
    client.force_login(hr)
    for n in range(3):
        directive_create(
            text=f"指令{n}", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 3),
            employees=staff, actor=hr,
        )  # fmt: skip
    with django_assert_max_num_queries(30) as few:
        client.get(_url(model))
    for n in range(10):
        directive_create(
            text=f"更多{n}", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 3),
            employees=staff, actor=hr,
        )  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(_url(model))
