"""§5.3.a against an inviter only for an invite that was theirs to make (issue 12 review):
never from an account reported lost or stolen before the invite (§6.3), never for someone
who became ineligible after joining (a mover or joiner)."""

from __future__ import annotations

import datetime as dt

import pytest

from groups.models import AccountReport, Finding, JoinMethod
from members.models import PersonnelEvent
from tests.groups.test_provenance import _at, office_with, reconcile, stranger
from violations.models import Case
from violations.services.cases import CaseError
from violations.services.roster_cases import finding_propose_inviter_case

pytestmark = pytest.mark.django_db
JOINED = _at(2024, 3, 1, 8, 0)


@pytest.fixture
def invited_stranger(company, seeded):
    """快递小哥, invited by 李娜's account lina88 on 2024-03-01."""
    reconcile(
        company.office,
        *office_with(stranger("lina88", joined_at=JOINED, join_method=JoinMethod.LINK)),
    )
    return Finding.objects.get(kind=Finding.Kind.STRANGER)


def report(employee, wechat_id: str, *, reported_at: dt.datetime, **fields) -> AccountReport:
    made = AccountReport.objects.create(
        employee=employee, wechat_id=wechat_id, kind=AccountReport.Kind.STOLEN, **fields
    )
    AccountReport.objects.filter(pk=made.pk).update(reported_at=reported_at)
    return made


def refused(finding: Finding, actor) -> str:
    with pytest.raises(CaseError) as error:
        finding_propose_inviter_case(finding=finding, actor=actor)
    assert not Case.objects.exists()
    return str(error.value)


# -- §6.3: a reported account is not its owner ---------------------------------------------------


def test_an_invite_from_the_account_reported_stolen_before_it_is_refused(
    invited_stranger, hr_user, company
):
    report(company.li_na, "lina88", reported_at=_at(2024, 2, 20, 9, 0))
    message = refused(invited_stranger, hr_user)
    assert "lina88" in message
    assert "2024年2月20日" in message
    assert "挂失" in message


def test_the_day_it_was_stolen_counts_even_if_reported_later(invited_stranger, hr_user, company):
    # Stolen on 2024-02-28, reported only after the invite: the thief invited.
    report(
        company.li_na,
        "lina88",
        reported_at=_at(2024, 3, 5, 9, 0),
        happened_on=dt.date(2024, 2, 28),
    )
    assert "2024年2月28日" in refused(invited_stranger, hr_user)


def test_any_open_report_of_the_inviter_before_the_invite_is_refused(
    invited_stranger, hr_user, company
):
    report(company.li_na, "lina-old", reported_at=_at(2024, 1, 1, 9, 0))
    assert "lina-old" in refused(invited_stranger, hr_user)


def test_a_report_closed_before_the_invite_does_not_stop_the_case(
    invited_stranger, hr_user, company
):
    report(
        company.li_na,
        "lina88",
        reported_at=_at(2024, 1, 1, 9, 0),
        status=AccountReport.Status.CLOSED,
        closed_at=_at(2024, 2, 1, 9, 0),
    )
    case = finding_propose_inviter_case(finding=invited_stranger, actor=hr_user)
    assert case.employee == company.li_na


def test_a_report_closed_after_the_invite_still_covers_it(invited_stranger, hr_user, company):
    report(
        company.li_na,
        "lina88",
        reported_at=_at(2024, 1, 1, 9, 0),
        status=AccountReport.Status.CLOSED,
        closed_at=_at(2024, 4, 1, 9, 0),
    )
    refused(invited_stranger, hr_user)


def test_a_report_made_after_the_invite_does_not_excuse_it(invited_stranger, hr_user, company):
    report(company.li_na, "lina88", reported_at=_at(2024, 6, 1, 9, 0))
    case = finding_propose_inviter_case(finding=invited_stranger, actor=hr_user)
    assert case.employee == company.li_na


# -- eligible when invited: a mover or joiner later ----------------------------------------------


@pytest.fixture
def invited_worker(company, seeded):
    """刘洋 of 生产部 (not 行管: ineligible for the office group), invited by 王芳."""
    reconcile(
        company.office,
        *office_with({"display_name": "刘洋", "inviter": "王芳", "joined_at": JOINED}),
    )
    return Finding.objects.get(kind=Finding.Kind.INELIGIBLE)


def moved(employee, at: dt.datetime, kind: str = PersonnelEvent.Kind.MOVER) -> PersonnelEvent:
    event = PersonnelEvent.objects.create(employee=employee, kind=kind)
    PersonnelEvent.objects.filter(pk=event.pk).update(at=at)
    event.refresh_from_db()
    return event


def test_a_member_who_moved_after_joining_is_no_case_against_the_inviter(
    invited_worker, hr_user, company
):
    moved(company.production_worker, _at(2025, 5, 1, 9, 0))
    message = refused(invited_worker, hr_user)
    assert "刘洋" in message
    assert "2025年5月1日" in message
    assert "2024年3月1日" in message


def test_a_move_before_the_invite_leaves_the_inviter_responsible(invited_worker, hr_user, company):
    moved(company.production_worker, _at(2023, 5, 1, 9, 0))
    case = finding_propose_inviter_case(finding=invited_worker, actor=hr_user)
    assert (case.employee, case.rule.code) == (company.wang_fang, "5.3.a")


def test_a_hire_recorded_after_the_invite_excuses_nothing(invited_worker, hr_user, company):
    # The factory's employee got a joiner event today (members.signals), long after the
    # invite: they were an outsider when invited, never eligible.
    assert PersonnelEvent.objects.filter(
        employee=company.production_worker, kind=PersonnelEvent.Kind.JOINER, at__gt=JOINED
    ).exists()
    case = finding_propose_inviter_case(finding=invited_worker, actor=hr_user)
    assert case.employee == company.wang_fang


def test_only_the_latest_move_counts(invited_worker, hr_user, company):
    moved(company.production_worker, _at(2023, 5, 1, 9, 0))
    moved(company.production_worker, _at(2025, 5, 1, 9, 0))
    refused(invited_worker, hr_user)


def test_without_a_joining_time_the_first_snapshot_showing_them_is_the_bound(
    company, seeded, hr_user
):
    reconcile(company.office, *office_with({"display_name": "刘洋", "inviter": "王芳"}))
    finding = Finding.objects.get(kind=Finding.Kind.INELIGIBLE)
    moved(company.production_worker, finding.first_seen.taken_at + dt.timedelta(days=1))
    assert "名单首次显示" in refused(finding, hr_user)


@pytest.mark.parametrize(
    ("kind", "said"),
    [(PersonnelEvent.Kind.MOVER, "调动"), (PersonnelEvent.Kind.JOINER, "入职")],
)
def test_a_finding_opened_by_a_personnel_event_is_refused(
    invited_worker, hr_user, company, kind, said
):
    event = moved(company.production_worker, JOINED - dt.timedelta(days=1), kind=kind)
    Finding.objects.filter(pk=invited_worker.pk).update(event=event)
    assert f"人事变动（{said}）" in refused(invited_worker, hr_user)
