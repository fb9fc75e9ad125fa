"""Employees hear about their cases (issue 12, point 6): a notice (and email) when a case is
proposed, confirmed, dismissed and its appeal decided, once per event, to an active login
only; the §9.8 head of a joint case too. The appeal window counts from when the employee was
told — the confirmation's notice, their first view of the case, or HR telling them in person,
whichever came first — and has not started before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from common.actors import SystemActor
from company.roles import HR
from members.services import department_get_or_create_by_path, department_set_head
from notices.models import EmailDelivery, Notice
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from violations.models import Case, Rule
from violations.services import (
    CaseError,
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    case_file,
    case_propose,
    case_record_told,
)
from violations.services.notify import TITLE_PROPOSED
from violations.services.telling import (
    ERROR_TOLD_NOT_CONFIRMED,
    ERROR_TOLD_NOT_HR,
    ERROR_TOLD_NOT_YOURS,
    ERROR_TOLD_OWN_APPEAL,
    ERROR_TOLD_OWN_CASE,
    ERROR_TOLD_OWN_CONFIRMATION,
    ERROR_TOLD_OWN_REPORT,
    ERROR_TOLD_SYSTEM,
    TOLD_BY_NOTICE,
    TOLD_BY_VIEW,
    TOLD_IN_PERSON,
    appeal_deadline,
)

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
Kind = Notice.Kind
State = Case.State


@pytest.fixture
def hr(hr, hr2):
    return [hr, hr2]


@pytest.fixture
def org(seeded):
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(
        name="郭杰华",
        department=sales,
        user=UserFactory(username="guojiehua", is_staff=False, email="head@example.com"),
    )
    department_set_head(department=sales, head=head)
    lina = EmployeeFactory(
        name="李娜",
        department=sales,
        user=UserFactory(username="lina", is_staff=False, email="lina@example.com"),
    )
    nologin = EmployeeFactory(name="刘洋", department=sales)
    return {"head": head, "lina": lina, "nologin": nologin, "group": ChatGroupFactory()}


def propose(employee, key="screening:1", code="9.4") -> Case:
    case, _ = case_propose(
        rule_code=code,
        employee=employee,
        group=None,
        source=Case.Source.SCREENING,
        source_key=key,
        description="群内发布赌博链接",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        actor=SYSTEM,
    )
    return case


def file(org, employee, hr) -> Case:
    return case_file(
        rule=Rule.objects.get(code="9.4"),
        employee=employee,
        group=org["group"],
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        description="群内发布赌博链接",
        actor=hr[0],
    )


def notices(user, kind=None) -> list[Notice]:
    found = Notice.objects.filter(recipient=user)
    return list(found.filter(kind=kind) if kind else found)


# --- proposed -------------------------------------------------------------------------------


def test_a_proposed_case_tells_the_employee_once_with_a_link_to_explain(org):
    lina = org["lina"]
    case = propose(lina)
    propose(lina)  # the same source event again: no second case, no second notice

    [notice] = notices(lina.user)
    assert notice.kind == Kind.CASE_PROPOSED
    assert notice.title == TITLE_PROPOSED
    assert notice.url == reverse("me:case_detail", args=[case.pk]) == f"/me/cases/{case.pk}/"
    assert "§9.4" in notice.body
    assert "说明" in notice.body
    assert EmailDelivery.objects.get(notice=notice).to == "lina@example.com"


def test_a_filed_case_tells_the_employee(org, hr):
    case = file(org, org["lina"], hr)

    [notice] = notices(org["lina"].user)
    assert (notice.kind, notice.subject_key) == (Kind.CASE_PROPOSED, f"case:{case.pk}:proposed")


def test_no_notice_without_a_login_or_for_an_inactive_one(org, hr):
    propose(org["nologin"], key="a")
    lina = org["lina"]
    lina.user.is_active = False
    lina.user.save()
    propose(lina, key="b")

    assert not Notice.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_no_email_without_an_address(org):
    lina = org["lina"]
    lina.user.email = ""
    lina.user.save()

    propose(lina)

    assert len(notices(lina.user)) == 1
    assert not EmailDelivery.objects.exists()


# --- confirmed, dismissed, appeal decided ----------------------------------------------------


def test_confirming_tells_the_employee_and_starts_the_appeal_window(org, hr):
    case = case_confirm(case=propose(org["lina"]), actor=hr[0], comment="属实")

    [notice] = notices(org["lina"].user, Kind.CASE_CONFIRMED)
    assert notice.subject_key == f"case:{case.pk}:confirmed"
    assert "申诉" in notice.body
    case.refresh_from_db()
    assert (case.told_at, case.told_how) == (notice.created_at, TOLD_BY_NOTICE)
    assert appeal_deadline(case) == notice.created_at + dt.timedelta(
        days=settings.CASE_APPEAL_WINDOW_DAYS
    )


def test_dismissing_tells_the_employee_with_the_reason(org, hr):
    case = case_dismiss(case=propose(org["lina"]), actor=hr[0], comment="转发的是新闻")

    [notice] = notices(org["lina"].user, Kind.CASE_DISMISSED)
    assert notice.subject_key == f"case:{case.pk}:dismissed"
    assert "转发的是新闻" in notice.body


@pytest.mark.parametrize(("uphold", "word"), [(True, "维持"), (False, "撤销")])
def test_the_appeals_decision_is_told(org, hr, uphold, word):
    lina = org["lina"]
    case = case_confirm(case=propose(lina), actor=hr[0])
    case_appeal(case=case, actor=lina.user, comment="不是我发的")

    case_decide_appeal(case=case, actor=hr[1], uphold=uphold, comment="核实")

    [notice] = notices(lina.user, Kind.APPEAL_DECIDED)
    assert word in notice.title
    # Proposed and confirmed start a clock: mailed at once; the decision waits for the digest.
    assert EmailDelivery.objects.filter(notice__recipient=lina.user).count() == 2
    assert notice.in_digest


def test_the_department_head_hears_of_their_joint_case_and_its_overturning(org, hr):
    lina, head = org["lina"], org["head"]
    case = case_confirm(case=propose(lina, code="9.8"), actor=hr[0])
    joint = case.joint_cases.get()

    [told] = notices(head.user, Kind.CASE_CONFIRMED)
    assert told.url == f"/me/cases/{joint.pk}/"
    assert f"#{case.pk}" in told.title
    joint.refresh_from_db()
    assert (joint.told_at, joint.told_how) == (told.created_at, TOLD_BY_NOTICE)

    case_appeal(case=case, actor=lina.user, comment="已请假")
    case_decide_appeal(case=case, actor=hr[1], uphold=False, comment="属实，撤销")

    [undone] = notices(head.user, Kind.APPEAL_DECIDED)
    assert f"#{joint.pk}" in undone.title
    assert undone.url == f"/me/cases/{joint.pk}/"


# --- the appeal clock -------------------------------------------------------------------------


def test_never_told_the_window_has_not_started(org, hr):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])

    assert case.told_at is None
    assert appeal_deadline(case) is None
    # HR appeals for them a month later: still open, nobody told them.
    late = timezone.now() + dt.timedelta(days=30)
    appealed = case_appeal(case=case, actor=hr[1], comment="员工本人提出", now=late)
    assert appealed.state == State.APPEALED


def test_told_by_notice_the_window_closes_from_then(org, hr):
    case = case_confirm(case=propose(org["lina"]), actor=hr[0])
    late = case.told_at + dt.timedelta(days=settings.CASE_APPEAL_WINDOW_DAYS, minutes=1)

    with pytest.raises(CaseError, match="告知本人后"):
        case_appeal(case=case, actor=org["lina"].user, comment="申诉", now=late)


def test_the_window_counts_from_telling_not_from_confirmation(org, hr):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])
    # Confirmed 30 days ago, told in person 6 days ago: still within the window.
    Case.objects.filter(pk=case.pk).update(
        confirmed_at=timezone.now() - dt.timedelta(days=30),
        told_at=timezone.now() - dt.timedelta(days=6),
        told_how=TOLD_IN_PERSON,
    )
    case.refresh_from_db()

    assert case_appeal(case=case, actor=hr[1], comment="员工本人提出").state == State.APPEALED


def test_the_first_view_of_the_confirmed_case_tells_the_employee(client, org, hr):
    employee = org["nologin"]
    case = case_confirm(case=propose(employee), actor=hr[0])
    # A login given after the confirmation: no notice told them; opening the case does.
    employee.user = UserFactory(username="liuyang", is_staff=False)
    employee.save()
    client.force_login(employee.user)

    page = client.get(reverse("me:case_detail", args=[case.pk])).content.decode()

    case.refresh_from_db()
    assert case.told_how == TOLD_BY_VIEW
    first = case.told_at
    assert first is not None
    assert appeal_deadline(case) == first + dt.timedelta(days=settings.CASE_APPEAL_WINDOW_DAYS)
    assert "申诉截止" in page
    client.get(reverse("me:case_detail", args=[case.pk]))
    case.refresh_from_db()
    assert case.told_at == first  # the first telling stands


def test_viewing_a_proposed_case_tells_nothing(client, org):
    case = propose(org["lina"])
    client.force_login(org["lina"].user)

    client.get(reverse("me:case_detail", args=[case.pk]))

    case.refresh_from_db()
    assert case.told_at is None


def test_an_earlier_notice_stands_against_a_later_view(client, org, hr):
    case = case_confirm(case=propose(org["lina"]), actor=hr[0])
    client.force_login(org["lina"].user)

    client.get(reverse("me:case_detail", args=[case.pk]))

    case.refresh_from_db()
    assert case.told_how == TOLD_BY_NOTICE


def test_hr_records_telling_in_person(org, hr):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])

    case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr[1])

    assert recorded
    assert case.told_how == TOLD_IN_PERSON
    assert appeal_deadline(case) == case.told_at + dt.timedelta(
        days=settings.CASE_APPEAL_WINDOW_DAYS
    )
    first = case.told_at
    case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr[1])
    assert not recorded
    assert case.told_at == first


def test_telling_is_refused_to_others_and_before_confirmation(org, hr):
    proposed = propose(org["nologin"], key="p")
    with pytest.raises(
        CaseError, match=ERROR_TOLD_NOT_CONFIRMED.format(pk=proposed.pk, state="待审核")
    ):
        case_record_told(case=proposed, how=TOLD_IN_PERSON, actor=hr[0])
    confirmed = case_confirm(case=propose(org["nologin"], key="c"), actor=hr[0])
    with pytest.raises(CaseError, match=ERROR_TOLD_NOT_HR):
        case_record_told(case=confirmed, how=TOLD_IN_PERSON, actor=org["lina"].user)
    with pytest.raises(CaseError, match=ERROR_TOLD_NOT_YOURS):
        case_record_told(case=confirmed, how=TOLD_BY_VIEW, actor=hr[0])
    confirmed.refresh_from_db()
    assert confirmed.told_at is None


@pytest.fixture
def hr_head(org):
    """An HR clerk who heads 生产部, whose 王强 has no login: §9.8 makes the head answer for
    half of 王强's 9.8 case, so the clerk is party to it."""
    production = department_get_or_create_by_path(path="生产部")
    clerk = EmployeeFactory(
        name="陈静", department=production, user=UserFactory(username="hr3", roles=[HR])
    )
    department_set_head(department=production, head=clerk)
    worker = EmployeeFactory(name="王强", department=production)
    return clerk.user, worker


def untold_joint_case(hr, hr_head) -> Case:
    clerk, worker = hr_head
    case = case_confirm(case=propose(worker, key="joint", code="9.8"), actor=hr[0])
    assert case.told_at is None
    assert case.joint_cases.get().employee.user == clerk
    return case


@pytest.mark.parametrize("who", ["confirmer", "reporter", "head", "system"])
def test_nobody_with_a_stake_starts_the_appeal_clock_in_person(org, hr, hr_head, who):
    """Recording "told in person" starts the window in which the employee may appeal: not
    for the clerk who confirmed or reported the case, one party to it, nor the system."""
    if who == "head":
        case, actor, refusal = untold_joint_case(hr, hr_head), hr_head[0], ERROR_TOLD_OWN_CASE
    else:
        reported = file(org, org["nologin"], [hr[1]])  # hr[1] reports, hr[0] confirms
        case = case_confirm(case=reported, actor=hr[0])
        actor, refusal = {
            "confirmer": (hr[0], ERROR_TOLD_OWN_CONFIRMATION),
            "reporter": (hr[1], ERROR_TOLD_OWN_REPORT),
            "system": (SYSTEM, ERROR_TOLD_SYSTEM),
        }[who]

    with pytest.raises(CaseError) as refused:
        case_record_told(case=case, how=TOLD_IN_PERSON, actor=actor)

    assert str(refused.value) == refusal
    case.refresh_from_db()
    assert (case.told_at, case.told_how) == (None, "")
    assert appeal_deadline(case) is None


def test_the_head_may_not_record_telling_on_their_own_joint_case(org, hr, hr_head):
    joint = untold_joint_case(hr, hr_head).joint_cases.get()
    type(joint).objects.filter(pk=joint.pk).update(told_at=None, told_how="")
    joint.refresh_from_db()

    with pytest.raises(CaseError, match=ERROR_TOLD_OWN_CASE):
        case_record_told(case=joint, how=TOLD_IN_PERSON, actor=hr_head[0])
    joint.refresh_from_db()
    assert joint.told_at is None


def test_the_clerk_who_appealed_for_the_employee_does_not_record_the_telling(org, hr):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])
    case_appeal(case=case, actor=hr[1], comment="员工本人提出")

    with pytest.raises(CaseError, match=ERROR_TOLD_OWN_APPEAL):
        case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr[1])
    case.refresh_from_db()
    assert case.told_at is None


def test_a_clerk_without_a_stake_records_the_telling(org, hr, hr_head):
    case = untold_joint_case(hr, hr_head)  # hr[0] confirmed it, nobody else has a stake

    case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr[1])

    assert recorded
    assert case.told_how == TOLD_IN_PERSON


def test_the_case_page_hides_the_told_button_from_a_clerk_with_a_stake(client, org, hr):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])
    page_url = reverse("admin:violations_case_change", args=[case.pk])
    client.force_login(hr[0])

    page = client.get(page_url).content.decode()

    assert 'id="case-told-form"' not in page
    assert 'id="case-told-refused"' in page
    assert ERROR_TOLD_OWN_CONFIRMATION in page
    response = client.post(reverse("admin:violations_case_told", args=[case.pk]), follow=True)
    assert ERROR_TOLD_OWN_CONFIRMATION in response.content.decode()
    response = client.post(
        reverse("admin:violations_case_changelist"),
        {"action": "record_told_in_person", "_selected_action": [case.pk], "apply": "1"},
        follow=True,
    )
    assert f"案件 #{case.pk} 未记录告知：{ERROR_TOLD_OWN_CONFIRMATION}" in response.content.decode()
    case.refresh_from_db()
    assert case.told_at is None
    client.force_login(hr[1])
    assert 'id="case-told-form"' in client.get(page_url).content.decode()


def test_the_admin_records_telling_from_the_list_and_the_page(client, org, hr):
    first = case_confirm(case=propose(org["nologin"], key="1"), actor=hr[0])
    second = case_confirm(case=propose(org["nologin"], key="2"), actor=hr[0])
    client.force_login(hr[1])
    changelist = reverse("admin:violations_case_changelist")

    page = client.get(reverse("admin:violations_case_change", args=[second.pk])).content.decode()
    assert "记录已告知员工" in page
    selected = {"action": "record_told_in_person", "_selected_action": [first.pk]}
    asked = client.post(changelist, selected).content.decode()  # the confirmation step first
    assert 'id="told-confirm-warning"' in asked
    assert "申诉期自现在起算" in asked
    first.refresh_from_db()
    assert first.told_at is None
    response = client.post(changelist, {**selected, "apply": "1"}, follow=True)
    assert "已记录案件 #" in response.content.decode()
    client.post(reverse("admin:violations_case_told", args=[second.pk]))

    for case in (first, second):
        case.refresh_from_db()
        assert case.told_how == TOLD_IN_PERSON
    page = client.get(reverse("admin:violations_case_change", args=[second.pk])).content.decode()
    assert 'id="case-told-form"' not in page


def test_the_told_button_is_hrs(client, org, hr, department_head):
    case = case_confirm(case=propose(org["nologin"]), actor=hr[0])
    client.force_login(department_head)

    response = client.post(reverse("admin:violations_case_told", args=[case.pk]))

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.told_at is None
