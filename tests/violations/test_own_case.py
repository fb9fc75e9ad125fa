"""Nobody decides about themselves (§7.1, this product's fairness rule): an HR clerk never
confirms, dismisses or decides the appeal of their own case, nor decides an appeal they
filed for an employee — refused by the services, on the case page and from the list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from company.roles import HR
from members.services import department_get_or_create_by_path
from tests.factories import EmployeeFactory, UserFactory
from tests.violations.conftest import filed
from violations.admin.decisions import MESSAGE_DECIDED, MESSAGE_REFUSED
from violations.models import Case
from violations.services import (
    CaseError,
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
)
from violations.services.guards import ERROR_OWN_APPEAL, ERROR_OWN_CASE

pytestmark = pytest.mark.django_db
State = Case.State
CHANGELIST = "admin:violations_case_changelist"
VERBS = {"confirm": "确认", "dismiss": "驳回", "uphold": "维持", "overturn": "撤销"}


@pytest.fixture
def clerk(world):
    """hr1 is also an employee, 陈静 (HR001): cases can be about them."""
    hr_department = department_get_or_create_by_path(path="人力资源部")
    EmployeeFactory(name="陈静", employee_no="HR001", department=hr_department, user=world["hr"])
    world["clerk"] = world["hr"].employee
    world["hr3"] = UserFactory(username="hr3", roles=[HR])
    return world["hr"]


@pytest.fixture
def own_proposal(world, clerk):
    return filed(world, employee="clerk")


@pytest.fixture
def own_appeal(world, clerk):
    """陈静's own case, confirmed by hr2, appealed by 陈静 on /me/."""
    case = filed(world, employee="clerk")
    case_confirm(case=case, actor=world["hr2"], comment="确认")
    return case_appeal(case=case, actor=clerk, comment="我没有发过")


@pytest.fixture
def appeal_filed_by_hr(world, clerk):
    """李娜's case, confirmed by hr2, appealed by hr1 on her behalf."""
    case = filed(world)
    case_confirm(case=case, actor=world["hr2"], comment="确认")
    return case_appeal(case=case, actor=clerk, comment="代李娜申诉：当时在休假")


def decide(case: Case, actor, key: str) -> Case:
    if key == "confirm":
        return case_confirm(case=case, actor=actor, comment="核实")
    if key == "dismiss":
        return case_dismiss(case=case, actor=actor, comment="核实")
    return case_decide_appeal(case=case, actor=actor, uphold=key == "uphold", comment="核实")


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return case.state, case.points, case.confirmed_by_id, case.transitions.count()


@pytest.fixture
def staff_proposal(world, clerk):
    """A §9.8 case against 李娜 of 销售部, whose head 陈静 (hr1) answers for half of it."""
    from members.services import department_set_head
    from violations.models import Rule

    department_set_head(department=world["sales"], head=world["clerk"])
    world["rule"] = Rule.objects.get(code="9.8")
    return filed(world)


@pytest.fixture
def staff_appeal(world, staff_proposal):
    """That case confirmed by hr2 — 陈静 now holds its joint case — and appealed by 李娜."""
    case = case_confirm(case=staff_proposal, actor=world["hr2"], comment="确认")
    assert case.joint_cases.get().employee == world["clerk"]
    return case_appeal(case=case, actor=world["offender"].user, comment="我没有发过")


SITUATIONS = [
    pytest.param(situation, key, error, id=f"{situation}-{key}")
    for situation, key, error in [
        ("staff_proposal", "confirm", ERROR_OWN_CASE),
        ("staff_proposal", "dismiss", ERROR_OWN_CASE),
        ("staff_appeal", "uphold", ERROR_OWN_CASE),
        ("staff_appeal", "overturn", ERROR_OWN_CASE),
        ("own_proposal", "confirm", ERROR_OWN_CASE),
        ("own_proposal", "dismiss", ERROR_OWN_CASE),
        ("own_appeal", "uphold", ERROR_OWN_CASE),
        ("own_appeal", "overturn", ERROR_OWN_CASE),
        ("appeal_filed_by_hr", "uphold", ERROR_OWN_APPEAL),
        ("appeal_filed_by_hr", "overturn", ERROR_OWN_APPEAL),
    ]
]


@pytest.mark.parametrize(("situation", "key", "error"), SITUATIONS)
def test_the_service_refuses_a_decision_about_oneself(request, clerk, situation, key, error):
    case = request.getfixturevalue(situation)
    before = snapshot(case)
    with pytest.raises(CaseError, match=error):
        decide(case, clerk, key)
    assert snapshot(case) == before


@pytest.mark.parametrize(("situation", "key", "error"), SITUATIONS)
def test_the_case_page_refuses_a_decision_about_oneself(
    client, request, clerk, situation, key, error
):
    case = request.getfixturevalue(situation)
    before = snapshot(case)
    client.force_login(clerk)
    url = reverse("admin:violations_case_decide", args=[case.pk])
    response = client.post(url, {"decision": key, "comment": "核实"}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert MESSAGE_REFUSED.format(pk=case.pk, verb=VERBS[key], reason=error) in shown
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("situation", "action", "key"),
    [
        ("own_proposal", "confirm_cases", "confirm"),
        ("appeal_filed_by_hr", "overturn_appeals", "overturn"),
    ],
)
def test_the_list_action_refuses_a_decision_about_oneself(
    client, request, clerk, situation, action, key
):
    case = request.getfixturevalue(situation)
    before = snapshot(case)
    client.force_login(clerk)
    data = {"action": action, "_selected_action": [case.pk], "apply": "1", "comment": "核实"}
    response = client.post(reverse(CHANGELIST), data, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any(
        m.startswith(MESSAGE_REFUSED.format(pk=case.pk, verb=VERBS[key], reason="")) for m in shown
    )
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("situation", "error"),
    [
        ("own_proposal", ERROR_OWN_CASE),
        ("own_appeal", ERROR_OWN_CASE),
        ("appeal_filed_by_hr", ERROR_OWN_APPEAL),
    ],
    ids=["own_proposal", "own_appeal", "appeal_filed_by_hr"],
)
def test_the_case_page_shows_no_decide_box_only_why(client, request, clerk, situation, error):
    case = request.getfixturevalue(situation)
    client.force_login(clerk)
    html = client.get(reverse("admin:violations_case_change", args=[case.pk])).content.decode()
    assert "case-decide-form" not in html
    assert 'name="decision"' not in html
    assert 'id="case-decide-refused"' in html
    assert error in html


@pytest.mark.parametrize(
    ("situation", "key"), [("own_proposal", "dismiss"), ("appeal_filed_by_hr", "overturn")]
)
def test_another_hr_clerk_decides_it(client, request, world, clerk, situation, key):
    case = request.getfixturevalue(situation)
    client.force_login(world["hr3"])
    html = client.get(reverse("admin:violations_case_change", args=[case.pk])).content.decode()
    assert 'id="case-decide-form"' in html
    url = reverse("admin:violations_case_decide", args=[case.pk])
    response = client.post(url, {"decision": key, "comment": "核实"}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert MESSAGE_DECIDED.format(verb=VERBS[key], pk=case.pk) in shown
    case.refresh_from_db()
    assert case.state == {"dismiss": State.DISMISSED, "overturn": State.OVERTURNED}[key]
