"""/me/questions/new/: the employee records a question they raised in a group (§9.9) — only
their own groups offered, the service's refusals shown on the form, nothing half-saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from directives.models import Question, ReplySla
from directives.services.questions import ERROR_OWN_DEPARTMENT
from groups.models import EligibilityRule
from members.services import department_get_or_create_by_path
from selfservice.question_raise_views import ERROR_GROUP_REQUIRED, RAISED
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory
from workdays.selectors import working_days_after

URL = reverse("me:question_raise")


@pytest.fixture
def sales(seeded):
    return department_get_or_create_by_path(path="销售部")


@pytest.fixture
def lobby(seeded):
    """A group everyone belongs in, with a two-working-day reply SLA."""
    group = ChatGroupFactory(name="全员群")
    EligibilityRuleFactory(group=group, kind=EligibilityRule.Kind.EVERYONE)
    ReplySla.objects.create(group=group, working_days=2)
    return group


@pytest.fixture
def closed(seeded):
    """A group for one other department only: the employee is not in it."""
    group = ChatGroupFactory(name="财务内部群")
    finance = department_get_or_create_by_path(path="财务部")
    EligibilityRuleFactory(group=group, kind=EligibilityRule.Kind.DEPARTMENT, department=finance)
    return group


@pytest.fixture
def asker(sales):
    return EmployeeFactory(
        name="周强", department=sales, user=UserFactory(username="zhouqiang", is_staff=False)
    )


def test_employee_raises_a_question_in_their_group(client, asker, lobby, sales):
    client.force_login(asker.user)
    page = client.get(URL).content.decode()
    for word in ("全员群", "群", "负责部门", "问题内容", "csrfmiddlewaretoken"):
        assert word in page
    assert Question.objects.count() == 0  # GET writes nothing
    response = client.post(
        URL, {"group": lobby.pk, "department": sales.pk, "text": "报销流程在哪里看？"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("me:question_list")
    assert RAISED in response.content.decode()
    question = Question.objects.get()
    assert (question.raised_by, question.recorded_by) == (asker, asker.user)
    assert (question.group, question.department, question.head) == (lobby, sales, sales.head)
    assert question.deadline == working_days_after(question.raised_at, 2)  # the group's SLA
    assert "报销流程在哪里看？" in client.get(reverse("me:question_list")).content.decode()


def test_a_group_they_are_not_in_is_not_offered_and_a_forged_post_refused(
    client, asker, lobby, closed, sales
):
    client.force_login(asker.user)
    assert "财务内部群" not in client.get(URL).content.decode()
    response = client.post(URL, {"group": closed.pk, "department": sales.pk, "text": "伪造"})
    assert response.status_code == 200
    assert ERROR_GROUP_REQUIRED in response.content.decode()
    assert not Question.objects.exists()


def test_a_head_asking_their_own_department_is_refused(client, department_head, lobby, sales):
    client.force_login(department_head)
    response = client.post(URL, {"group": lobby.pk, "department": sales.pk, "text": "自问自答"})
    assert response.status_code == 200
    assert ERROR_OWN_DEPARTMENT.format(department=sales) in response.content.decode()
    assert not Question.objects.exists()


def test_a_login_without_an_employee_gets_the_no_employee_page(client, outsider):
    client.force_login(outsider)
    for response in (client.get(URL), client.post(URL, {"text": "x"})):
        assert response.status_code == 200
        assert response.templates[0].name == "selfservice/no_employee.html"
    assert not Question.objects.exists()


def test_the_list_links_to_the_form(client, asker):
    client.force_login(asker.user)
    assert URL in client.get(reverse("me:question_list")).content.decode()


def test_query_count_is_bounded(client, asker, lobby, sales, django_assert_max_num_queries):
    client.force_login(asker.user)
    for n in range(5):
        EmployeeFactory(department=sales)
        department_get_or_create_by_path(path=f"销售部/{n}组")
    with django_assert_max_num_queries(25):  # a few per group (groups_of), not per row
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(40):
        client.post(URL, {"group": lobby.pk, "department": sales.pk, "text": "问"})
    assert Question.objects.count() == 1
