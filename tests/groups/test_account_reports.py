"""§6.3 account misuse: an employee reports a lost or stolen WeChat account; HR is told; the
account's roster rows are flagged from then on (REPORTED_ACCOUNT), a DUPLICATE_ACCOUNT finding
mentions the report, and closing the report lets the next reconciliation resolve the flag."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from groups.models import AccountReport, Finding, RosterAction
from groups.services.accounts import (
    ERROR_ALREADY_REPORTED,
    ERROR_CLOSE_FORBIDDEN,
    ERROR_HAPPENED_IN_FUTURE,
    ERROR_NO_WECHAT_ID,
    ERROR_NOT_OPEN,
    ERROR_NOT_YOUR_ACCOUNT,
    ERROR_REPORT_FORBIDDEN,
    AccountReportError,
    account_report_close,
    account_report_create,
)
from groups.services.reconcile import snapshot_reconcile
from notices.models import Notice
from tests.factories import EmployeeFactory, UserFactory
from tests.groups.conftest import capture, compliant_rows

pytestmark = pytest.mark.django_db

LOST = AccountReport.Kind.LOST


@pytest.fixture
def lina(company, seeded):
    """李娜 (WeChat id lina88) with her own login, not staff."""
    company.li_na.user = UserFactory(username="lina", is_staff=False)
    company.li_na.save()
    return company.li_na


def report(lina, **more) -> AccountReport:
    return account_report_create(
        employee=lina, wechat_id="lina88", kind=LOST, actor=lina.user, **more
    )


def reconcile_now(group, *rows):
    """A snapshot taken now (after any report made so far), reconciled."""
    snapshot = capture(group, *rows, taken_at=timezone.now())
    snapshot_reconcile(snapshot=snapshot)
    return snapshot


def open_of(kind, group) -> list[Finding]:
    return list(Finding.objects.filter(group=group, kind=kind, status=Finding.Status.OPEN))


# -- reporting ------------------------------------------------------------------------------


def test_the_employee_reports_their_own_account_and_hr_is_told(lina, hr_user, outsider):
    made = report(lina, happened_on=timezone.localdate(), note="手机丢在地铁上")
    assert (made.employee, made.wechat_id, made.status) == (lina, "lina88", "open")
    assert made.reported_by == lina.user
    notice = Notice.objects.get(recipient=hr_user)
    assert notice.kind == Notice.Kind.ACCOUNT_REPORT
    assert "李娜" in notice.title
    assert "lina88" in notice.title
    assert notice.url == reverse("admin:groups_accountreport_change", args=[made.pk])
    assert not Notice.objects.filter(recipient=outsider).exists()  # not HR: not told
    assert not Notice.objects.filter(recipient=lina.user).exists()


def test_an_employee_may_not_report_for_someone_else(lina, company):
    with pytest.raises(AccountReportError, match=ERROR_REPORT_FORBIDDEN):
        account_report_create(
            employee=company.wang_fang, wechat_id="wf01", kind=LOST, actor=lina.user
        )
    assert not AccountReport.objects.exists()


def test_an_employee_may_not_report_an_account_that_is_not_theirs(lina):
    with pytest.raises(AccountReportError) as error:
        account_report_create(employee=lina, wechat_id="boss01", kind=LOST, actor=lina.user)
    assert str(error.value) == ERROR_NOT_YOUR_ACCOUNT.format(wechat_id="boss01")


def test_an_account_a_roster_shows_as_theirs_may_be_reported(lina, company):
    # 李娜's second account, matched to her by name in a roster.
    capture(company.office, *compliant_rows(), ("李娜", "lina-old"))
    snapshot_reconcile(snapshot=company.office.snapshots.latest())
    made = account_report_create(
        employee=lina, wechat_id="lina-old", kind=AccountReport.Kind.STOLEN, actor=lina.user
    )
    assert made.kind == "stolen"


def test_hr_reports_for_an_employee_any_account(hr_user, company):
    made = account_report_create(
        employee=company.wang_fang, wechat_id="wf-new", kind=LOST, actor=hr_user
    )
    assert made.reported_by == hr_user


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"wechat_id": "  "}, ERROR_NO_WECHAT_ID),
        ({"happened_on": dt.date(2999, 1, 1)}, ERROR_HAPPENED_IN_FUTURE),
    ],
)
def test_bad_reports_are_refused_in_chinese(lina, more, message):
    fields = {"employee": lina, "wechat_id": "lina88", "kind": LOST, **more}
    with pytest.raises(AccountReportError, match=message):
        account_report_create(**fields, actor=lina.user)
    assert not AccountReport.objects.exists()


def test_one_open_report_per_account(lina):
    report(lina)
    with pytest.raises(AccountReportError) as error:
        report(lina)
    assert str(error.value) == ERROR_ALREADY_REPORTED.format(
        wechat_id="lina88", when=f"{timezone.localdate():%Y年%-m月%-d日}"
    )
    assert AccountReport.objects.count() == 1


def test_the_employee_and_hr_reporting_one_account_make_one_report(lina, hr_user):
    report(lina)
    with pytest.raises(AccountReportError) as error:
        account_report_create(employee=lina, wechat_id="lina88", kind=LOST, actor=hr_user)
    assert str(error.value) == ERROR_ALREADY_REPORTED.format(
        wechat_id="lina88", when=f"{timezone.localdate():%Y年%-m月%-d日}"
    )
    assert list(AccountReport.objects.values_list("reported_by", flat=True)) == [lina.user.pk]


def test_the_database_holds_one_open_report_per_account(lina, hr_user):
    """account_report_one_open_per_account: a second open report is refused by the database
    itself, whatever wrote it; a closed one does not count."""
    first = report(lina)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountReport.objects.create(employee=lina, wechat_id="lina88", kind=LOST)
    account_report_close(report=first, actor=hr_user)
    again = account_report_create(employee=lina, wechat_id="lina88", kind=LOST, actor=hr_user)
    assert AccountReport.objects.filter(status="open").get() == again


@pytest.mark.django_db(transaction=True)
def test_two_reporters_at_once_make_one_report_and_the_second_hears_why(seeded):
    """HR records an account for one employee (a roster matched it to her too) while its
    owner reports it: the check before the insert sees nothing (HR's report is not committed
    yet), the database refuses the second open report, and the owner gets the usual message,
    not a server error."""
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once: PostgreSQL only (SQLite serialises its writers)")
    lina = EmployeeFactory(name="李娜", wechat_id="lina88", user=UserFactory(username="lina"))
    wang = EmployeeFactory(name="王芳")
    hr = UserFactory(username="hr")
    inserted, release = threading.Event(), threading.Event()

    def hr_reports():
        try:
            with transaction.atomic():
                AccountReport.objects.create(
                    employee=wang, wechat_id="lina88", kind=LOST, reported_by=hr
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=hr_reports)
    other.start()
    assert inserted.wait(10)
    # HR's transaction commits while the employee's insert waits on the unique index.
    threading.Timer(0.5, release.set).start()
    try:
        with pytest.raises(AccountReportError) as error:
            report(lina)
    finally:
        release.set()
        other.join(10)
    assert str(error.value) == ERROR_ALREADY_REPORTED.format(
        wechat_id="lina88", when=f"{timezone.localdate():%Y年%-m月%-d日}"
    )
    assert list(AccountReport.objects.values_list("reported_by", flat=True)) == [hr.pk]


# -- flagged by reconciliation ---------------------------------------------------------------


def test_the_accounts_rows_are_flagged_from_the_report_on(lina, company):
    rows = [*compliant_rows()[:3], ("销售部-李娜", "lina88"), compliant_rows()[4]]
    before = reconcile_now(company.office, *rows)
    assert open_of(Finding.Kind.REPORTED_ACCOUNT, company.office) == []
    report(lina)
    snapshot = reconcile_now(company.office, *rows)
    (finding,) = open_of(Finding.Kind.REPORTED_ACCOUNT, company.office)
    assert (finding.subject, finding.wechat_id, finding.employee) == ("w:lina88", "lina88", lina)
    assert finding.clause == "6.3"
    assert f"该微信号已于 {timezone.localdate():%Y年%-m月%-d日} 由 李娜 报告丢失" in finding.detail
    action = finding.action
    assert (action.owner, action.assignee) == (RosterAction.Owner.HR, None)  # HR's to-do
    # The compliance rate counts the flagged member.
    snapshot.refresh_from_db()
    before.refresh_from_db()
    assert snapshot.members_with_findings == before.members_with_findings + 1


def test_a_snapshot_taken_before_the_report_is_not_flagged(lina, company):
    report(lina)
    snapshot = capture(
        company.office,
        *compliant_rows(),
        ("李娜2", "lina88"),
        taken_at=timezone.now() - dt.timedelta(days=1),
    )
    snapshot_reconcile(snapshot=snapshot)
    assert open_of(Finding.Kind.REPORTED_ACCOUNT, company.office) == []


def test_a_duplicate_account_finding_mentions_the_report(lina, company):
    # One WeChat id recorded on two employees (§6.3), and reported lost by one of them.
    company.wang_fang.wechat_id = "lina88"
    company.wang_fang.save()
    report(lina)
    reconcile_now(company.office, *compliant_rows()[:3], ("小李", "lina88"))
    (duplicate,) = open_of(Finding.Kind.DUPLICATE_ACCOUNT, company.office)
    assert duplicate.subject == "w:lina88"
    assert (
        f"该微信号已于 {timezone.localdate():%Y年%-m月%-d日} 由 李娜 报告丢失" in duplicate.detail
    )


def test_closing_the_report_lets_the_next_reconciliation_resolve_the_flag(lina, company, hr_user):
    rows = [*compliant_rows()[:3], ("销售部-李娜", "lina88"), compliant_rows()[4]]
    made = report(lina)
    reconcile_now(company.office, *rows)
    (finding,) = open_of(Finding.Kind.REPORTED_ACCOUNT, company.office)
    closed = account_report_close(report=made, actor=hr_user, note="已找回")
    assert (closed.status, closed.closed_by, closed.hr_note) == ("closed", hr_user, "已找回")
    told = Notice.objects.get(recipient=lina.user)
    assert told.kind == Notice.Kind.ACCOUNT_REPORT
    assert "已解除挂失" in told.title
    reconcile_now(company.office, *rows)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED
    assert finding.action.status == RosterAction.Status.DONE


def test_an_hr_note_ending_in_a_full_stop_is_not_doubled_in_the_notice(lina, hr_user):
    account_report_close(report=report(lina), actor=hr_user, note="已找回账号并修改密码。")
    body = Notice.objects.get(recipient=lina.user).body
    assert "已找回账号并修改密码。下次核对" in body
    assert "。。" not in body


def test_only_hr_closes_a_report_and_only_once(lina, hr_user):
    made = report(lina)
    with pytest.raises(AccountReportError, match=ERROR_CLOSE_FORBIDDEN):
        account_report_close(report=made, actor=lina.user)
    account_report_close(report=made, actor=hr_user)
    with pytest.raises(AccountReportError) as error:
        account_report_close(report=made, actor=hr_user)
    assert str(error.value) == ERROR_NOT_OPEN.format(when=f"{timezone.localdate():%Y年%-m月%-d日}")


# -- the admin ----------------------------------------------------------------------------------


def test_hr_lists_and_closes_reports_in_the_admin(client, lina, hr_user):
    made = report(lina)
    client.force_login(hr_user)
    listing = client.get(reverse("admin:groups_accountreport_changelist"))
    assert listing.status_code == 200
    assert "lina88" in listing.content.decode()
    assert (
        client.get(reverse("admin:groups_accountreport_change", args=[made.pk])).status_code == 200
    )
    response = client.post(
        reverse("admin:groups_accountreport_changelist"),
        {"action": "close_reports", "_selected_action": [made.pk], "apply": "1"},
        follow=True,
    )
    assert "已解除 1 条挂失" in response.content.decode()
    made.refresh_from_db()
    assert made.status == AccountReport.Status.CLOSED


CLOSE = {"action": "close_reports"}


def test_closing_a_report_asks_for_confirmation_first(client, lina, hr_user):
    made = report(lina)
    client.force_login(hr_user)
    url = reverse("admin:groups_accountreport_changelist")
    page = client.post(url, {**CLOSE, "_selected_action": [made.pk]})
    assert page.status_code == 200
    assert page.templates[0].name == "admin/groups/accountreport/close_confirm.html"
    text = page.content.decode()
    assert "lina88" in text
    assert "人力资源部备注" in text
    assert "确认解除挂失" in text
    made.refresh_from_db()
    assert made.status == AccountReport.Status.OPEN  # nothing closed before the confirmation


def test_the_confirmation_stores_hrs_note_and_the_employee_reads_it(client, lina, hr_user):
    made = report(lina)
    client.force_login(hr_user)
    url = reverse("admin:groups_accountreport_changelist")
    note = "本人已找回手机并修改密码"
    response = client.post(
        url, {**CLOSE, "_selected_action": [made.pk], "apply": "1", "note": note}
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.status, made.hr_note, made.closed_by) == (
        AccountReport.Status.CLOSED,
        note,
        hr_user,
    )
    told = Notice.objects.get(recipient=lina.user, subject_key=f"account-report:{made.pk}:closed")
    assert note in told.body
    client.force_login(lina.user)
    assert note in client.get(reverse("me:account_report")).content.decode()


def test_a_note_too_long_is_refused_on_the_confirmation(client, lina, hr_user):
    made = report(lina)
    client.force_login(hr_user)
    url = reverse("admin:groups_accountreport_changelist")
    data = {**CLOSE, "_selected_action": [made.pk], "apply": "1", "note": "长" * 256}
    page = client.post(url, data)
    assert page.status_code == 200
    assert page.context["form"].errors["note"]
    made.refresh_from_db()
    assert made.status == AccountReport.Status.OPEN


def test_who_may_only_view_reports_cannot_close_one(client, lina, hr_user):
    made = report(lina)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_accountreport"))
    client.force_login(viewer)
    url = reverse("admin:groups_accountreport_changelist")
    listing = client.get(url)
    assert listing.status_code == 200
    assert "close_reports" not in listing.content.decode()
    for data in ({}, {"apply": "1", "note": "x"}):
        client.post(url, {**CLOSE, "_selected_action": [made.pk], **data})
        made.refresh_from_db()
        assert made.status == AccountReport.Status.OPEN


def test_hr_records_a_report_for_an_employee_in_the_admin(client, company, hr_user):
    client.force_login(hr_user)
    url = reverse("admin:groups_accountreport_add")
    data = {"employee": company.wang_fang.pk, "wechat_id": "wf01", "kind": "stolen"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert AccountReport.objects.get().employee == company.wang_fang
    again = client.post(url, data)  # the service's refusal shown on the form
    assert again.status_code == 200
    assert "已在挂失中" in again.content.decode()
    assert AccountReport.objects.count() == 1


def test_the_admin_is_hrs_only(client, lina, creator):
    made = report(lina)
    client.force_login(creator)
    assert client.get(reverse("admin:groups_accountreport_changelist")).status_code == 403
    url = reverse("admin:groups_accountreport_change", args=[made.pk])
    assert client.get(url).status_code in (302, 403)
