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


# -- walk findings: the add form's labels, the assignments list's width, refusal messages ----


def test_add_form_choosers_sit_right_of_their_labels(client, hr, office):
    """SelectFilter2.js puts its boxes first in the select's parent: wrapped, as
    filter_horizontal's are, the label stays in the label column before them."""
    client.force_login(hr)
    page = client.get(reverse("admin:directives_directive_add")).content.decode()
    for name, label in (("employees", "执行人"), ("departments", "执行部门")):
        label_at = page.index(f'<label for="id_{name}">{label}')
        wrapper_at = page.index(f'<div class="related-widget-wrapper"><select name="{name}"')
        assert label_at < wrapper_at


def test_assignment_list_cuts_the_note_and_keeps_the_state_on_one_line(client, hr, world, staff):
    assignment = world.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    long_note = "已按要求整理全部客户名单并逐一电话回访确认联系方式无误后归档"
    assignment_done(assignment=assignment, note=long_note, actor=staff[0].user)
    client.force_login(hr)
    page = client.get(_url("directiveassignment")).content.decode()
    assert long_note not in page
    assert long_note[:20] + "…" in page
    assert '<span style="white-space: nowrap">已完成（待验收）</span>' in page
    assert long_note in client.get(_url("directiveassignment", assignment.pk)).content.decode()


def test_a_refusal_names_the_row_its_state_and_the_action_apart(client, hr, world, staff):
    assignment = world.assignments.get(employee=staff[0])
    assignment_acknowledge(assignment=assignment, actor=staff[0].user)
    client.force_login(hr)
    data = {"action": "done_for", "_selected_action": [assignment.pk], "comment": ""}
    page = client.post(_url("directiveassignment"), data, follow=True).content.decode()
    assert f"{staff[0]}（已确认收到）：未能代为报告完成：报告完成时请写明完成情况" in page


def test_a_question_refusal_reads_the_same_way(client, department_head, world):
    question = Question.objects.get(text="销售问题")
    client.force_login(department_head)
    data = {"action": "record_reply", "_selected_action": [question.pk], "comment": ""}
    page = client.post(_url("question"), data, follow=True).content.decode()
    assert f"{question}（待回复）：未能回复：" in page
