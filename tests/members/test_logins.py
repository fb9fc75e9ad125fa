"""Employees' logins: the sheet's 登录账号 column, HR's invite action, the set-password link,
and the way between the admin and the employee's own pages."""

from __future__ import annotations

import base64
import io
import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from members import services
from members.models import Employee
from members.resources import ERROR_DUPLICATE_LOGIN, LOCATED_ERROR, EmployeeResource
from members.services import (
    ERROR_INVITE_FORBIDDEN,
    ERROR_LOGIN_IN_USE,
    ERROR_LOGIN_INVALID,
    ERROR_LOGIN_PRIVILEGED,
    ERROR_LOGIN_REPLACE,
    ERROR_LOGIN_TAKEN,
    MembersError,
    employee_logins_invite,
)
from members.tokens import invite_token_generator
from tests.factories import EmployeeFactory, UserFactory
from tests.html import post_change_form
from tests.members.test_import_employees import employee_row, run_import, sheet

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "admin:members_employee_changelist"


def located(row: int, message: str) -> str:
    return LOCATED_ERROR.format(row=row, column="登录账号", message=message)


def written() -> tuple[int, ...]:
    return (User.objects.count(), Employee.objects.count(), Employee.history.count())


# --- the sheet's 登录账号 column --------------------------------------------------------------
def test_a_new_login_is_created_without_password_or_staff_and_linked():
    report = run_import(sheet(employee_row(登录账号="zhangsan")))

    assert report.errors == ()
    user = Employee.objects.get(employee_no="E001").user
    assert user.username == "zhangsan"
    assert (user.has_usable_password(), user.is_staff, user.is_superuser) == (False, False, False)


def test_an_existing_unlinked_login_is_linked_not_copied():
    existing = UserFactory(username="zhangsan", is_staff=False, password=None)

    report = run_import(sheet(employee_row(登录账号="zhangsan")))

    assert report.errors == ()
    assert Employee.objects.get(employee_no="E001").user == existing
    assert User.objects.count() == 1
    existing.refresh_from_db()
    assert not existing.has_usable_password()


@pytest.mark.parametrize("rights", [{"is_staff": True}, {"is_superuser": True, "is_staff": True}])
def test_a_staff_or_superuser_login_is_not_linked_by_the_sheet(rights):
    # A staff login linked to a head's record would gain the head's §9.12 scope.
    admin_login = UserFactory(username="boss", password=None, **rights)
    before = written()

    report = run_import(sheet(employee_row(登录账号="boss", 部门负责人="是")))

    assert report.errors == (located(2, ERROR_LOGIN_PRIVILEGED.format(username="boss")),)
    assert written() == before
    admin_login.refresh_from_db()
    assert getattr(admin_login, "employee", None) is None


def test_a_login_with_a_password_is_not_linked_by_the_sheet():
    UserFactory(username="zhangsan", is_staff=False)  # password "pw"
    before = written()

    report = run_import(sheet(employee_row(登录账号="zhangsan")))

    assert report.errors == (located(2, ERROR_LOGIN_IN_USE.format(username="zhangsan")),)
    assert written() == before


def test_the_sheet_does_not_move_an_employee_to_another_login():
    run_import(sheet(employee_row(登录账号="zhangsan")))
    UserFactory(username="other", is_staff=False, password=None)
    before = written()

    report = run_import(sheet(employee_row(登录账号="other")))

    message = ERROR_LOGIN_REPLACE.format(username="other", current="zhangsan")
    assert report.errors == (located(2, message),)
    assert written() == before
    assert Employee.objects.get().user.username == "zhangsan"


def test_the_login_column_needs_the_invite_permission(hr):
    clerk = UserFactory(username="clerk")  # may be given import_employee, not invite_employee
    before = written()

    report = run_import(sheet(employee_row(登录账号="zhangsan")), actor=clerk)

    assert report.errors == (located(2, ERROR_INVITE_FORBIDDEN),)
    assert written() == before
    # HR may; and a clerk re-importing the sheet as exported (login unchanged) may too.
    assert run_import(sheet(employee_row(登录账号="zhangsan")), actor=hr).errors == ()
    assert run_import(sheet(employee_row(登录账号="zhangsan")), actor=clerk).unchanged == 1


def test_the_admin_import_reports_the_missing_invite_permission(client, seeded):
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="members",
            codename__in=["view_employee", "add_employee", "change_employee", "import_employee"],
        )
    )
    client.force_login(clerk)

    response = client.post(
        reverse("admin:members_employee_import"),
        {
            "format": "0",
            "import_file": SimpleUploadedFile("员工.xlsx", sheet(employee_row(登录账号="zs"))),
        },
    )

    assert response.status_code == 200
    assert located(2, ERROR_INVITE_FORBIDDEN) in response.content.decode()
    assert not User.objects.filter(username="zs").exists()


def test_a_login_of_another_employee_is_a_row_error_and_nothing_is_written():
    lisi = EmployeeFactory(employee_no="E009", name="李四", user=UserFactory(username="lisi"))
    before = written()

    report = run_import(
        sheet(employee_row(), employee_row(工号="E002", 姓名="王五", 登录账号="lisi"))
    )

    message = ERROR_LOGIN_TAKEN.format(username="lisi", employee="李四（E009）")
    assert report.errors == (located(3, message),)
    assert written() == before
    assert User.objects.get(username="lisi").employee == lisi


@pytest.mark.parametrize("bad", ["张 三", "a/b", "x" * 151])
def test_a_login_name_django_refuses_is_a_row_error(bad):
    before = written()

    report = run_import(sheet(employee_row(登录账号=bad)))

    assert report.errors == (located(2, ERROR_LOGIN_INVALID.format(username=bad, limit=150)),)
    assert written() == before


def test_one_login_on_two_rows_is_an_error():
    report = run_import(
        sheet(employee_row(登录账号="zs"), employee_row(工号="E002", 姓名="李四", 登录账号="zs"))
    )

    assert report.errors == (located(3, ERROR_DUPLICATE_LOGIN.format(username="zs", first_row=2)),)
    assert not User.objects.exists()


def test_a_blank_login_leaves_the_link_alone_and_reimport_changes_nothing():
    run_import(sheet(employee_row(登录账号="zhangsan")))
    before = written()

    assert run_import(sheet(employee_row(登录账号=None))).unchanged == 1
    assert run_import(sheet(employee_row(登录账号="zhangsan"))).unchanged == 1
    assert written() == before
    assert Employee.objects.get().user.username == "zhangsan"


def test_dry_run_creates_no_login():
    report = run_import(sheet(employee_row(登录账号="zhangsan")), dry_run=True)

    assert (report.errors, report.new) == ((), 1)
    assert not User.objects.exists()


def test_export_shows_the_login_and_imports_back_unchanged():
    run_import(sheet(employee_row(登录账号="zhangsan")))

    exported = EmployeeResource().export()

    assert exported.dict[0]["登录账号"] == "zhangsan"
    from tests.factories import xlsx_bytes

    assert run_import(xlsx_bytes([exported.headers, *exported])).unchanged == 1


# --- HR's invite action ---------------------------------------------------------------------
def invite(client, *employees):
    return client.post(
        reverse(CHANGELIST),
        {"action": "invite_logins", "_selected_action": [e.pk for e in employees]},
    )


def links_on(page: str) -> list[str]:
    return re.findall(r'value="(http://testserver/accounts/reset/[^"]+)"', page)


def test_hr_opens_logins_and_gets_one_link_each_shown_once(client, hr):
    zhang = EmployeeFactory(employee_no="E100", name="张三")
    li = EmployeeFactory(employee_no="E101", name="李四")
    client.force_login(hr)

    response = invite(client, zhang, li)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert len(links_on(page)) == 2
    zhang.refresh_from_db()
    assert zhang.user.username == "E100"
    assert (zhang.user.has_usable_password(), zhang.user.is_staff) == (False, False)
    record = zhang.history.latest()
    assert record.history_user == hr
    assert "关联登录账号 E100" in record.history_change_reason
    assert "生成设置密码链接" in record.history_change_reason


def test_the_download_holds_the_links_with_chinese_headers(client, hr):
    zhang = EmployeeFactory(employee_no="E100", name="张三")
    client.force_login(hr)

    page = invite(client, zhang).content.decode()

    data = re.search(r'href="data:[^;]+;base64,([^"]+)"', page).group(1)
    rows = list(openpyxl.load_workbook(io.BytesIO(base64.b64decode(data))).active.values)
    assert rows[0][:5] == ("工号", "姓名", "部门", "登录账号", "设置密码链接")
    assert rows[1][4] == links_on(page)[0]
    assert 'download="设置密码链接-' in page


def test_finance_is_not_offered_the_action_and_cannot_post_it(client, finance):
    zhang = EmployeeFactory(employee_no="E100")
    client.force_login(finance)

    listing = client.get(reverse(CHANGELIST))
    assert "invite_logins" not in listing.content.decode()
    invite(client, zhang)

    zhang.refresh_from_db()
    assert zhang.user is None
    assert not User.objects.filter(username="E100").exists()
    with pytest.raises(PermissionDenied, match=ERROR_INVITE_FORBIDDEN):
        employee_logins_invite(employees=[zhang], actor=finance)
    with pytest.raises(MembersError, match=ERROR_INVITE_FORBIDDEN):  # the app's refusal too
        employee_logins_invite(employees=[zhang], actor=finance)


def test_no_link_for_a_login_with_a_password_or_a_staff_login(hr):
    with_password = EmployeeFactory(user=UserFactory(is_staff=False))
    staff = EmployeeFactory(user=UserFactory(is_staff=True))
    staff.user.set_unusable_password()
    staff.user.save()
    departed = EmployeeFactory(left=True)

    invites = employee_logins_invite(employees=[with_password, staff, departed], actor=hr)

    assert [invite.link for invite in invites] == ["", "", ""]
    outcomes = {invite.employee.pk: invite.outcome for invite in invites}
    assert outcomes == {
        with_password.pk: services.OUTCOME_IN_USE,
        staff.pk: services.OUTCOME_STAFF,
        departed.pk: services.OUTCOME_LEFT,
    }
    departed.refresh_from_db()
    assert departed.user is None


def test_a_job_number_held_as_login_by_someone_else_is_reported(hr):
    EmployeeFactory(name="李四", employee_no="E009", user=UserFactory(username="E100"))
    zhang = EmployeeFactory(employee_no="E100")

    [result] = employee_logins_invite(employees=[zhang], actor=hr)

    assert result.outcome == ERROR_LOGIN_TAKEN.format(username="E100", employee="李四（E009）")
    assert result.link == ""


def test_the_link_sets_a_password_and_the_employee_logs_in_to_their_cases(client, hr):
    zhang = EmployeeFactory(employee_no="E100", name="张三")
    [result] = employee_logins_invite(employees=[zhang], actor=hr)

    form = client.get(result.link, follow=True)
    assert form.status_code == 200
    assert "设置密码" in form.content.decode()
    assert "E100" in form.content.decode()
    set_password_url = form.redirect_chain[-1][0]
    done = client.post(
        set_password_url,
        {"new_password1": "Qing-2026-shui", "new_password2": "Qing-2026-shui"},
        follow=True,
    )
    assert "密码已设置" in done.content.decode()

    client.logout()
    login = client.post(
        reverse("login"), {"username": "E100", "password": "Qing-2026-shui"}, follow=True
    )
    assert login.redirect_chain[-1][0] == reverse("me:case_list")
    assert login.status_code == 200
    assert "张三" in login.content.decode()
    # The link is void once used.
    again = client.get(result.link, follow=True)
    assert "链接已失效" in again.content.decode()


def test_a_mismatched_password_is_explained_in_chinese(client, hr):
    [result] = employee_logins_invite(employees=[EmployeeFactory()], actor=hr)
    url = client.get(result.link, follow=True).redirect_chain[-1][0]

    response = client.post(url, {"new_password1": "Qing-2026-shui", "new_password2": "other-1"})

    assert str(SetPasswordForm.error_messages["password_mismatch"]) in response.content.decode()


def test_hr_sees_the_login_as_text_not_a_link_to_the_user_admin(client, hr):
    zhang = EmployeeFactory(user=UserFactory(username="zhangsan", is_staff=False))
    client.force_login(hr)

    page = client.get(reverse("admin:members_employee_change", args=[zhang.pk])).content.decode()

    assert "zhangsan" in page
    assert "/admin/auth/user/" not in page


# --- between the admin and the employee's pages ---------------------------------------------
def test_admin_header_links_to_my_pages_for_a_login_with_an_employee(client, hr):
    client.force_login(hr)
    assert reverse("me:case_list") not in client.get(reverse("admin:index")).content.decode()

    EmployeeFactory(user=hr)
    assert reverse("me:case_list") in client.get(reverse("admin:index")).content.decode()


def test_my_pages_link_to_the_admin_for_staff_only(client):
    worker = EmployeeFactory(user=UserFactory(is_staff=False))
    client.force_login(worker.user)
    assert 'href="/admin/"' not in client.get(reverse("me:case_list")).content.decode()

    staff = EmployeeFactory(user=UserFactory(is_staff=True))
    client.force_login(staff.user)
    page = client.get(reverse("me:case_list")).content.decode()
    assert 'href="/admin/">管理后台</a>' in page


def test_hr_adds_and_edits_employees_without_the_login_picker(client, hr):
    zhang = EmployeeFactory(user=UserFactory(username="zhangsan", is_staff=False))
    client.force_login(hr)

    assert client.get(reverse("admin:members_employee_add")).status_code == 200
    url = reverse("admin:members_employee_change", args=[zhang.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    response = post_change_form(client, url, {**data, "name": "张三丰"})

    assert response.status_code == 302
    zhang.refresh_from_db()
    assert (zhang.name, zhang.user.username) == ("张三丰", "zhangsan")


# --- what a kept link can still do ----------------------------------------------------------
PASSWORD = "Qing-2026-shui"


def set_password_through(client, link: str):
    """Follow ``link`` and post a new password wherever it leads; returns the last page."""
    page = client.get(link, follow=True)
    url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return page, client.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD})


@pytest.mark.parametrize("promotion", [{"is_staff": True}, {"is_superuser": True}])
def test_a_link_kept_until_the_login_is_promoted_is_refused(client, hr, promotion):
    zhang = EmployeeFactory(employee_no="E100")
    [result] = employee_logins_invite(employees=[zhang], actor=hr)
    user = User.objects.get(username="E100")
    for name, value in promotion.items():
        setattr(user, name, value)
    user.save()

    page, posted = set_password_through(client, result.link)

    assert "new_password1" not in page.content.decode()
    assert "new_password1" not in posted.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()


@pytest.mark.parametrize("rights", [{"is_staff": True}, {"is_superuser": True}, {}])
def test_the_page_refuses_a_staff_login_or_a_login_without_employee_whatever_the_token(
    client, rights
):
    # A valid token for a login HR must not reach (made by hand, or before a change the
    # token does not cover): the page checks the login itself.
    user = UserFactory(username="boss", password=None, **{"is_staff": False, **rights})
    if rights:
        EmployeeFactory(user=user)  # else: a login of no employee
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    link = reverse(
        "password_reset_confirm",
        kwargs={"uidb64": uidb64, "token": invite_token_generator.make_token(user)},
    )

    page, _ = set_password_through(client, link)

    assert "new_password1" not in page.content.decode()
    assert "请联系系统管理员" in page.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_link_works_once(client, hr):
    zhang = EmployeeFactory(employee_no="E100")
    [result] = employee_logins_invite(employees=[zhang], actor=hr)
    set_password_through(client, result.link)
    user = User.objects.get(username="E100")
    assert user.check_password(PASSWORD)
    client.logout()

    page = client.get(result.link, follow=True)
    url = page.redirect_chain[-1][0] if page.redirect_chain else result.link
    again = client.post(
        url, {"new_password1": "Other-2026-pass", "new_password2": "Other-2026-pass"}
    )

    assert "new_password1" not in page.content.decode()
    assert "链接已失效" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_django_password_reset_tokens_do_not_open_the_page(client, hr):
    from django.contrib.auth.tokens import default_token_generator

    zhang = EmployeeFactory(employee_no="E100")
    employee_logins_invite(employees=[zhang], actor=hr)
    user = User.objects.get(username="E100")
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    page, _ = set_password_through(client, f"/accounts/reset/{uidb64}/{token}/")

    assert "new_password1" not in page.content.decode()


def test_the_invite_does_not_link_a_staff_login_named_after_the_job_number(hr):
    UserFactory(username="E100", password=None, is_staff=True)
    zhang = EmployeeFactory(employee_no="E100")

    [result] = employee_logins_invite(employees=[zhang], actor=hr)

    assert result.outcome == ERROR_LOGIN_PRIVILEGED.format(username="E100")
    assert result.link == ""
    zhang.refresh_from_db()
    assert zhang.user is None


def test_one_employee_with_invalid_data_does_not_stop_the_others(hr):
    broken = EmployeeFactory(employee_no="E100")
    fine = EmployeeFactory(employee_no="E101")
    Employee.objects.filter(pk=broken.pk).update(category="retired")  # no longer a choice

    invites = employee_logins_invite(employees=[broken, fine], actor=hr)

    outcomes = {invite.employee.pk: invite for invite in invites}
    assert outcomes[broken.pk].link == ""
    assert outcomes[broken.pk].outcome.startswith(services.OUTCOME_INVALID.split("{")[0])
    assert "retired" in outcomes[broken.pk].outcome
    assert outcomes[fine.pk].link
    assert not User.objects.filter(username="E100").exists()
    assert User.objects.filter(username="E101").exists()
    broken.refresh_from_db()
    assert broken.user is None
