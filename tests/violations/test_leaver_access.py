"""docs/security.md, 7: a leaver loses access at once — login, sessions, group rights, evidence.

Whatever marks the employee 离职 (a save from the admin form or code, the employee sheet),
members.signals calls members.services.employee_access_revoke.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse

from common.actors import SystemActor
from groups.models import ChatGroupUserObjectPermission
from groups.services import chat_group_sync_permissions
from members.models import Employee
from tests.factories import PNG_BYTES
from tests.html import post_change_form
from tests.members.test_import_employees import employee_row, run_import, sheet
from tests.violations.conftest import filed
from violations.services import evidence_add_all

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")


def _leave(user) -> Employee:
    employee = user.employee
    employee.status = Employee.Status.LEFT
    employee.left_on = dt.date(2026, 11, 30)
    employee.full_clean()
    employee.save()
    return employee


def _sessions_of(user) -> list[Session]:
    return [s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]


def test_a_leaver_is_logged_out_at_once_and_cannot_log_in_again(client, world):
    lina = world["offender"].user
    lina.set_password("lina-pass-2026")
    lina.save()
    client.post(reverse("login"), {"username": "lina", "password": "lina-pass-2026"})
    assert client.get(reverse("me:case_list")).status_code == 200
    assert _sessions_of(lina)

    _leave(lina)

    lina.refresh_from_db()
    assert not lina.is_active
    assert _sessions_of(lina) == []
    page = client.get(reverse("me:case_list"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("login"))
    client.post(reverse("login"), {"username": "lina", "password": "lina-pass-2026"})
    assert SESSION_KEY not in client.session


def test_a_leaver_is_served_no_evidence(client, world):
    evidence = evidence_add_all(case=filed(world), files=[("shot.png", PNG_BYTES)], actor=SYSTEM)[0]
    url = reverse("evidence:file", args=[evidence.pk])
    client.force_login(world["groupadmin"])
    assert client.get(url).status_code == 200

    _leave(world["groupadmin"])

    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_leaver_loses_their_group_rights_and_a_resync_does_not_return_them(world):
    creator, admin = world["creator"], world["groupadmin"]
    assert ChatGroupUserObjectPermission.objects.filter(user=creator).exists()
    assert ChatGroupUserObjectPermission.objects.filter(user=admin).exists()

    _leave(creator)
    _leave(admin)
    assert not ChatGroupUserObjectPermission.objects.filter(user__in=[creator, admin]).exists()
    chat_group_sync_permissions(group=world["mine"])  # e.g. HR edits the group later

    assert not ChatGroupUserObjectPermission.objects.filter(user__in=[creator, admin]).exists()
    assert not creator.has_perm("groups.manage_roster", world["mine"])


def test_the_employee_sheet_marking_someone_left_revokes_their_access(client, world):
    lina = world["offender"].user
    client.force_login(lina)
    row = employee_row(
        工号="JM004", 姓名="李娜", 部门="销售部", 状态="离职", 离职日期="2026-11-30", 微信号=""
    )

    report = run_import(sheet(row))

    assert (report.errors, report.updated) == ((), 1)
    lina.refresh_from_db()
    assert lina.employee.status == Employee.Status.LEFT
    assert not lina.is_active
    assert _sessions_of(lina) == []


def test_an_employee_who_stays_keeps_their_login_and_rights(world):
    admin = world["groupadmin"]
    employee = admin.employee
    employee.phone = "13900000000"
    employee.save()

    admin.refresh_from_db()
    assert admin.is_active
    assert ChatGroupUserObjectPermission.objects.filter(user=admin).exists()


def test_hr_marking_someone_left_in_the_admin_revokes_their_access(client, world):
    lina = world["offender"].user
    lina_client = type(client)()
    lina_client.force_login(lina)
    client.force_login(world["hr"])
    url = reverse("admin:members_employee_change", args=[world["offender"].pk])

    response = post_change_form(client, url, {"status": "left", "left_on": "2026-11-30"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    lina.refresh_from_db()
    assert not lina.is_active
    assert lina_client.get(reverse("me:case_list")).status_code == 302
