"""Joiners, movers and leavers (人事变动) recorded whatever door changed the employee: the employee
sheet, the admin's change form, code. Re-importing the same sheet records nothing twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from common.actors import SystemActor
from groups.models import Finding, RosterAction
from groups.services.reconcile import snapshot_reconcile
from members import importing
from members.models import Employee, PersonnelEvent
from members.signals import personnel_events_batched, personnel_events_flush
from tests.factories import EmployeeFactory, xlsx_bytes
from tests.groups.conftest import (
    capture,
    company,  # noqa: F401 — the small company, as a fixture
)
from tests.html import post_change_form

pytestmark = pytest.mark.django_db

HEADERS = ["工号", "姓名", "部门", "岗位", "职级", "人员类别", "状态", "离职日期"]


def row(employee_no, name, department, category="行管", status="在职", left_on=None, rank=1):
    return [employee_no, name, department, "文员", rank, category, status, left_on]


def company_sheet(*changed: list) -> bytes:
    """The company fixture's 行管 staff as a sheet, with ``changed`` rows replacing or added."""
    rows = {
        r[0]: r
        for r in [
            row("JM001", "赵敏", "人力资源部"),
            row("JM002", "张伟", "生产部/一车间"),
            row("JM003", "张伟", "销售部"),
            row("JM004", "李娜", "销售部"),
            row("JM005", "王芳", "人力资源部"),
        ]
    }
    rows.update({r[0]: r for r in changed})
    return xlsx_bytes([HEADERS, *rows.values()])


def run_import(data: bytes, actor=None) -> importing.ImportReport:
    report = importing.employee_import_file(
        data=data, actor=actor or SystemActor("command:import_employees")
    )
    assert not report.errors, report.errors
    return report


def events_of(employee_no: str) -> list[tuple[str, dict]]:
    return [
        (e.kind, e.changes)
        for e in PersonnelEvent.objects.filter(employee__employee_no=employee_no).order_by("pk")
    ]


def reconciled(group, *rows) -> None:
    snapshot_reconcile(snapshot=capture(group, *rows))


def counts() -> tuple[int, int, int]:
    return (PersonnelEvent.objects.count(), Finding.objects.count(), RosterAction.objects.count())


# -- the employee sheet --------------------------------------------------------------------


def test_the_sheet_records_a_joiner_with_who_imported(company, hr):  # noqa: F811
    run_import(company_sheet(row("JM100", "周杰", "销售部")), actor=hr)
    event = PersonnelEvent.objects.get(employee__employee_no="JM100")
    assert event.kind == PersonnelEvent.Kind.JOINER
    assert event.actor == hr
    assert event.changes["部门"] == [None, "销售部"]
    assert event.changes["人员类别"] == [None, "行管"]


def test_the_sheet_records_a_mover_in_words(company):  # noqa: F811
    run_import(company_sheet(row("JM004", "李娜", "生产部/一车间", rank=5)))
    assert events_of("JM004")[-1] == (
        PersonnelEvent.Kind.MOVER,
        {"部门": ["销售部", "生产部/一车间"], "岗位": [None, "文员"], "职级": [1, 5]},
    )
    # The command line: the system, recorded as nobody.
    assert PersonnelEvent.objects.filter(employee__employee_no="JM004").latest("pk").actor is None


def test_the_sheet_records_a_leaver_and_a_rehire(company):  # noqa: F811
    run_import(company_sheet(row("JM004", "李娜", "销售部", status="离职", left_on="2026-11-30")))
    kind, changes = events_of("JM004")[-1]
    assert kind == PersonnelEvent.Kind.LEAVER
    assert changes["状态"] == ["在职", "离职"]
    run_import(company_sheet(row("JM004", "李娜", "销售部")))
    kind, changes = events_of("JM004")[-1]
    assert kind == PersonnelEvent.Kind.JOINER
    assert changes["状态"] == ["离职", "在职"]


def test_re_importing_the_same_sheet_creates_nothing_twice(company):  # noqa: F811
    reconciled(company.office, "人力资源部-赵敏", "一车间-张伟", "销售部-张伟", "销售部-李娜")
    sheet = company_sheet(
        row("JM100", "周杰", "销售部"),  # joiner: MISSING
        row("JM004", "李娜", "销售部", category="生产"),  # mover: INELIGIBLE
        row("JM003", "张伟", "销售部", status="离职", left_on="2026-11-30"),  # leaver: DEPARTED
    )
    run_import(sheet)
    after_first = counts()
    open_kinds = set(
        Finding.objects.filter(status="open", event__isnull=False).values_list("kind", flat=True)
    )
    assert open_kinds == {Finding.Kind.MISSING, Finding.Kind.INELIGIBLE, Finding.Kind.DEPARTED}
    run_import(sheet)
    assert counts() == after_first


def test_a_dry_run_of_the_sheet_records_nothing(company):  # noqa: F811
    before = counts()
    report = importing.employee_import_file(
        data=company_sheet(row("JM100", "周杰", "销售部")),
        actor=SystemActor("test"),
        dry_run=True,
    )
    assert report.new == 1
    assert counts() == before


# -- the admin's change form ---------------------------------------------------------------


def test_the_admin_form_records_a_leaver_with_the_hr_clerk(company, client, hr):  # noqa: F811
    client.force_login(hr)
    url = reverse("admin:members_employee_change", args=[company.li_na.pk])
    response = post_change_form(client, url, {"status": "left", "left_on": "2026-11-30"})
    assert response.status_code == 302
    event = PersonnelEvent.objects.filter(employee=company.li_na).latest("pk")
    assert (event.kind, event.actor) == (PersonnelEvent.Kind.LEAVER, hr)


def test_the_admin_form_records_a_mover(company, client, hr):  # noqa: F811
    client.force_login(hr)
    url = reverse("admin:members_employee_change", args=[company.li_na.pk])
    response = post_change_form(client, url, {"rank": "6"})
    assert response.status_code == 302
    assert events_of("JM004")[-1] == (PersonnelEvent.Kind.MOVER, {"职级": [1, 6]})


def test_the_admin_add_form_records_a_joiner(company, client, hr):  # noqa: F811
    client.force_login(hr)
    url = reverse("admin:members_employee_add")
    changes = {
        "employee_no": "JM100",
        "name": "周杰",
        "department": company.li_na.department_id,
        "rank": "1",
        "category": "admin",
        "status": "active",
    }
    assert post_change_form(client, url, changes).status_code == 302
    event = PersonnelEvent.objects.get(employee__employee_no="JM100")
    assert (event.kind, event.actor) == (PersonnelEvent.Kind.JOINER, hr)
    assert event.changes["部门"] == [None, "销售部"]


def test_the_admin_form_saving_without_a_move_records_nothing(company, client, hr):  # noqa: F811
    client.force_login(hr)
    before = PersonnelEvent.objects.count()
    url = reverse("admin:members_employee_change", args=[company.li_na.pk])
    assert post_change_form(client, url, {"phone": "13900000000"}).status_code == 302
    assert PersonnelEvent.objects.count() == before


# -- code ----------------------------------------------------------------------------------


def test_code_records_a_joiner_on_create_and_nothing_for_a_leaver_entered_as_such(company):  # noqa: F811
    assert events_of("JM001")[0][0] == PersonnelEvent.Kind.JOINER
    assert events_of("JM006") == []  # created as 离职 (陈静): nothing joined, nothing left


def test_a_bulk_created_employee_saved_later_records_no_made_up_move(company):  # noqa: F811
    # bulk_create (the demo) skips post_save and from_db: the record's "before" is unknown, so a
    # later save names no move (never "— → 销售部"); the next save of a loaded record does.
    (bulk,) = Employee.objects.bulk_create(
        [Employee(employee_no="JM900", name="孙丽", department=company.li_na.department)]
    )
    bulk.rank = 3
    bulk.save()
    assert events_of("JM900") == []
    loaded = Employee.objects.get(employee_no="JM900")
    loaded.rank = 5
    loaded.save()
    assert events_of("JM900") == [(PersonnelEvent.Kind.MOVER, {"职级": [3, 5]})]


def test_a_leavers_record_edited_records_nothing(company):  # noqa: F811
    departed = Employee.objects.get(pk=company.departed.pk)
    departed.category = Employee.Category.PRODUCTION
    departed.save()
    assert events_of("JM006") == []


def test_the_leavers_login_goes_whatever_the_door(company, hr, django_user_model):  # noqa: F811
    login = django_user_model.objects.create_user(username="lina")
    company.li_na.user = login
    company.li_na.save()
    run_import(company_sheet(row("JM004", "李娜", "销售部", status="离职", left_on="2026-11-30")))
    login.refresh_from_db()
    assert not login.is_active


# -- a whole sheet at once (members.signals.personnel_events_batched) ------------------------


def test_a_sheet_with_a_bad_row_records_nothing_and_holds_nothing_back(company):  # noqa: F811
    before = counts()
    report = importing.employee_import_file(
        data=company_sheet(row("JM100", "周杰", "销售部"), row("JM101", "", "销售部")),
        actor=SystemActor("test"),
    )
    assert report.errors
    assert counts() == before
    # The hold ended with the import: a save afterwards is followed at once.
    reconciled(company.office, "人力资源部-赵敏", "一车间-张伟", "销售部-张伟", "销售部-李娜")
    joiner = EmployeeFactory(name="周杰", category=Employee.Category.ADMIN)
    assert PersonnelEvent.objects.get(employee=joiner).outcome["opened"] == {"办公群": 1}


def test_two_events_of_one_employee_held_together_leave_the_groups_as_they_are_now(company):  # noqa: F811
    reconciled(company.office, "人力资源部-赵敏", "销售部-李娜")
    with personnel_events_batched():
        joiner = Employee.objects.create(
            employee_no="JM100", name="周杰", department=company.li_na.department, category="admin"
        )
        joiner.category = Employee.Category.PRODUCTION
        joiner.save()
        assert not Finding.objects.filter(employee=joiner).exists()  # held until the flush
        personnel_events_flush()
    assert [e.kind for e in PersonnelEvent.objects.filter(employee=joiner).order_by("pk")] == [
        PersonnelEvent.Kind.JOINER,
        PersonnelEvent.Kind.MOVER,
    ]
    # Judged as they are now (生产, not for the office group): nothing to add.
    assert not Finding.objects.filter(employee=joiner, status="open").exists()


# -- the admin: 人事变动 (read-only, HR) --------------------------------------------------------


def test_hr_reads_the_events_in_words_and_finds_them_by_employee_no(company, client, hr):  # noqa: F811
    reconciled(company.office, "人力资源部-赵敏", "一车间-张伟", "销售部-张伟", "销售部-李娜")
    company.li_na.category = Employee.Category.PRODUCTION
    company.li_na._history_user = hr
    company.li_na.save()
    client.force_login(hr)
    url = reverse("admin:members_personnelevent_changelist")
    page = client.get(url, {"q": "JM004"}).content.decode()
    assert "人员类别：行管 → 生产" in page
    assert "新开待办：办公群 1 项" in page
    assert '<td class="field-actor_name">hr1</td>' in page  # the clerk, not 系统
    assert "王芳" not in page  # searched: JM004 only
    event = PersonnelEvent.objects.filter(employee=company.li_na).latest("pk")
    assert (
        client.get(reverse("admin:members_personnelevent_change", args=[event.pk])).status_code
        == 200
    )
    assert client.get(reverse("admin:members_personnelevent_add")).status_code == 403


def test_the_employee_page_shows_their_events_to_hr(company, client, hr):  # noqa: F811
    client.force_login(hr)
    page = client.get(reverse("admin:members_employee_change", args=[company.li_na.pk]))
    assert "人事变动" in page.content.decode()
    assert "部门：— → 销售部" in page.content.decode()
