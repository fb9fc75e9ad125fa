"""The employee explains before HR decides (issue 12, point 6; OpenHRMS's "waiting
explanation"): on their own case page while it is proposed, editable until it is decided,
shown to the decider; HR does not confirm while the window (CASE_EXPLANATION_WORKING_DAYS
working days from the proposal) runs for an employee who was told and has not explained.
Dismissing never waits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Notice
from tests.factories import EmployeeFactory, UserFactory
from tests.violations.explaining import propose
from violations.models import Case
from violations.services import (
    CaseError,
    case_confirm,
    case_dismiss,
    case_explain,
    explanation_due,
)
from violations.services.telling import (
    ERROR_EXPLAIN_CLOSED,
    ERROR_EXPLAIN_NOT_YOURS,
    ERROR_EXPLANATION_PENDING,
    ERROR_EXPLANATION_REQUIRED,
)
from workdays.selectors import working_days_after

pytestmark = pytest.mark.django_db
State = Case.State


@pytest.fixture(autouse=True)
def _window(settings):
    settings.CASE_EXPLANATION_WORKING_DAYS = 1


def proposal_notice(case: Case) -> Notice:
    return Notice.objects.get(subject_key=f"case:{case.pk}:proposed")


def backdate(case: Case, days: int) -> Case:
    """The case and the notice that told the employee of it, ``days`` earlier."""
    Case.objects.filter(pk=case.pk).update(created_at=case.created_at - dt.timedelta(days=days))
    notice = proposal_notice(case)
    Notice.objects.filter(pk=notice.pk).update(
        created_at=notice.created_at - dt.timedelta(days=days)
    )
    case.refresh_from_db()
    return case


def explain_url(case: Case) -> str:
    return reverse("me:case_explain", args=[case.pk])


# --- the service ------------------------------------------------------------------------------


def test_hr_cannot_confirm_while_the_window_runs_and_the_message_names_the_date(people, hr):
    case = propose(people["lina"])
    until = working_days_after(proposal_notice(case).created_at, 1)  # from when she was told
    assert explanation_due(case) == until

    expected = ERROR_EXPLANATION_PENDING.format(days=1, until=timezone.localtime(until))
    with pytest.raises(CaseError) as refused:
        case_confirm(case=case, actor=hr, comment="属实")

    assert str(refused.value) == expected
    assert f"{timezone.localtime(until):%Y年%-m月%-d日}" in expected
    case.refresh_from_db()
    assert case.state == State.PROPOSED
    assert case.confirmed_at is None


def test_dismissing_never_waits(people, hr):
    case = case_dismiss(case=propose(people["lina"]), actor=hr, comment="不构成违规")

    assert case.state == State.DISMISSED


def test_once_the_employee_explained_hr_may_confirm(people, hr):
    case = propose(people["lina"])
    case_explain(case=case, text="当时手机被孩子拿去玩了", actor=people["lina"].user)

    assert explanation_due(Case.objects.get(pk=case.pk)) is None
    assert case_confirm(case=case, actor=hr).state == State.CONFIRMED


def test_after_the_window_hr_may_confirm(people, hr):
    case = backdate(propose(people["lina"]), days=10)

    assert case_confirm(case=case, actor=hr).state == State.CONFIRMED


@pytest.mark.parametrize("who", ["nologin", "inactive"])
def test_an_employee_nobody_could_tell_is_not_waited_for(people, hr, who):
    employee = people["nologin"]
    if who == "inactive":
        employee = people["lina"]
        employee.user.is_active = False
        employee.user.save()
    case = propose(employee)

    assert explanation_due(case) is None
    assert case_confirm(case=case, actor=hr).state == State.CONFIRMED


def test_a_login_made_after_the_proposal_does_not_hold_hr_up(people, hr):
    """刘洋 had no login when the case was proposed: no notice told him, so HR did not wait.
    A login made for him the next hour changes nothing after the fact."""
    employee = people["nologin"]
    case = propose(employee)
    assert explanation_due(case) is None
    employee.user = UserFactory(username="liuyang", is_staff=False)
    employee.save()
    case = Case.objects.select_related("employee__user").get(pk=case.pk)

    assert explanation_due(case) is None
    assert case_confirm(case=case, actor=hr).state == State.CONFIRMED


def test_the_window_counts_from_the_notice_that_told_the_employee(people, hr):
    """HR waits a working day from the notice that told 李娜 (here: just now), not from
    when the case came in (ten days ago)."""
    case = backdate(propose(people["lina"]), days=10)
    notice = proposal_notice(case)
    Notice.objects.filter(pk=notice.pk).update(created_at=timezone.now())

    until = explanation_due(case)

    assert until == working_days_after(Notice.objects.get(pk=notice.pk).created_at, 1)
    with pytest.raises(CaseError, match="员工尚未说明"):
        case_confirm(case=case, actor=hr)


def test_with_the_window_off_hr_confirms_at_once(people, hr, settings):
    settings.CASE_EXPLANATION_WORKING_DAYS = 0

    assert case_confirm(case=propose(people["lina"]), actor=hr).state == State.CONFIRMED


def test_only_the_employee_explains(people, hr):
    case = propose(people["lina"])

    for stranger in (hr, UserFactory(username="colleague", is_staff=False)):
        with pytest.raises(CaseError, match=ERROR_EXPLAIN_NOT_YOURS):
            case_explain(case=case, text="替他说明", actor=stranger)
    case.refresh_from_db()
    assert case.explanation == ""


def test_the_explanation_is_editable_until_decided(people, hr):
    lina = people["lina"].user
    case = propose(people["lina"])
    case_explain(case=case, text="第一次说明", actor=lina)
    case = case_explain(case=case, text="补充：已撤回", actor=lina)
    assert case.explanation == "补充：已撤回"

    case_dismiss(case=case, actor=hr, comment="不构成违规")

    with pytest.raises(CaseError, match=ERROR_EXPLAIN_CLOSED.format(state="已驳回")):
        case_explain(case=case, text="再改", actor=lina)
    case.refresh_from_db()
    assert case.explanation == "补充：已撤回"


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_explanation_is_refused(people, text):
    case = propose(people["lina"])

    with pytest.raises(CaseError, match=ERROR_EXPLANATION_REQUIRED):
        case_explain(case=case, text=text, actor=people["lina"].user)


# --- the employee's page ------------------------------------------------------------------------


def test_the_employee_explains_on_their_case_page(client, people):
    case = propose(people["lina"])
    client.force_login(people["lina"].user)

    page = client.get(reverse("me:case_detail", args=[case.pk])).content.decode()
    assert explain_url(case) in page
    assert "提交说明" in page

    response = client.post(explain_url(case), {"text": "是误发，已撤回"}, follow=True)

    case.refresh_from_db()
    assert case.explanation == "是误发，已撤回"
    assert case.explained_at is not None
    assert "说明已保存" in response.content.decode()
    assert "修改说明" in response.content.decode()


def test_an_empty_explanation_shows_the_error_on_the_page(client, people):
    case = propose(people["lina"])
    client.force_login(people["lina"].user)

    response = client.post(explain_url(case), {"text": ""})

    assert response.status_code == 200
    assert "请填写说明" in response.content.decode()


def test_a_decided_case_has_no_explanation_form_and_refuses_a_post(client, people, hr):
    case = propose(people["lina"])
    case_dismiss(case=case, actor=hr, comment="不构成违规")
    client.force_login(people["lina"].user)

    assert (
        explain_url(case)
        not in client.get(reverse("me:case_detail", args=[case.pk])).content.decode()
    )
    response = client.post(explain_url(case), {"text": "晚了"}, follow=True)
    assert ERROR_EXPLAIN_CLOSED.format(state="已驳回") in response.content.decode()


def test_nobody_explains_anothers_case(client, people):
    case = propose(people["lina"])
    colleague = EmployeeFactory(user=UserFactory(username="colleague", is_staff=False))
    client.force_login(colleague.user)

    assert client.post(explain_url(case), {"text": "替他说明"}).status_code == 404
    case.refresh_from_db()
    assert case.explanation == ""


# --- the decider sees it ------------------------------------------------------------------------


def test_the_decider_sees_the_explanation_next_to_the_decision(client, people, hr):
    case = propose(people["lina"])
    case_explain(case=case, text="当时手机被孩子拿去玩了", actor=people["lina"].user)
    client.force_login(hr)

    page = client.get(reverse("admin:violations_case_change", args=[case.pk])).content.decode()

    assert 'id="case-explanation"' in page
    assert "当时手机被孩子拿去玩了" in page
    assert page.index('id="case-explanation"') < page.index('id="case-decide-form"')


def test_the_decider_sees_how_long_the_window_still_runs(client, people, hr):
    case = propose(people["lina"])
    client.force_login(hr)

    page = client.get(reverse("admin:violations_case_change", args=[case.pk])).content.decode()

    assert "员工尚未说明：等待本人说明至" in page


def test_the_decide_button_refuses_during_the_window(client, people, hr):
    case = propose(people["lina"])
    client.force_login(hr)

    response = client.post(
        reverse("admin:violations_case_decide", args=[case.pk]),
        {"decision": "confirm", "comment": "属实"},
        follow=True,
    )

    assert "员工尚未说明" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.PROPOSED


def test_the_case_list_shows_who_explained(client, people, hr):
    explained = propose(people["lina"], key="1")
    case_explain(case=explained, text="说明", actor=people["lina"].user)
    silent = propose(people["lina"], key="2")
    client.force_login(hr)

    response = client.get(reverse("admin:violations_case_changelist"))

    page = response.content.decode()
    assert "员工说明" in page
    due = timezone.localtime(explanation_due(silent))
    assert f"待说明（至 {due:%-m月%-d日}）" in page
    admin = response.context["cl"].model_admin
    listed = {case.pk: case for case in response.context["cl"].result_list}
    assert admin.explained(listed[explained.pk]) == "已说明"
    assert admin.explained(listed[silent.pk]) == f"待说明（至 {due:%-m月%-d日}）"
    # The same words without the list's annotation (a case loaded elsewhere).
    assert admin.explained(Case.objects.get(pk=silent.pk)) == f"待说明（至 {due:%-m月%-d日}）"
    # No boolean icons any more.
    assert "icon-unknown.svg" not in page
    assert "icon-no.svg" not in page


def test_the_case_list_says_nothing_is_asked_once_the_window_passed_or_nobody_was_told(
    client, people, hr
):
    late = backdate(propose(people["lina"], key="late"), days=10)
    untold = propose(people["nologin"], key="untold")
    client.force_login(hr)

    response = client.get(reverse("admin:violations_case_changelist"))

    admin = response.context["cl"].model_admin
    listed = {case.pk: case for case in response.context["cl"].result_list}
    assert admin.explained(listed[late.pk]) == "—"
    assert admin.explained(listed[untold.pk]) == "—"
    assert "待说明" not in response.content.decode()
