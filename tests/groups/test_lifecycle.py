"""Joiners, movers and leavers: the groups follow at once (groups.services.lifecycle)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import (
    ChatGroup,
    Finding,
    GroupSuccession,
    MembershipException,
    RosterAction,
)
from groups.services.reconcile import snapshot_reconcile
from groups.services.succession import NOTE_NO_SUCCESSOR, group_successor
from members.models import Department, Employee, PersonnelEvent
from members.services import department_get_or_create_by_path, department_set_head
from notices.models import Notice
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from tests.groups.conftest import capture, compliant_rows

pytestmark = pytest.mark.django_db
ADMIN = Employee.Category.ADMIN


def reconciled(group, *rows):
    snapshot = capture(group, *rows)
    snapshot_reconcile(snapshot=snapshot)
    return snapshot


def open_findings(group, kind):
    return Finding.objects.filter(group=group, kind=kind, status=Finding.Status.OPEN)


def last_event(employee) -> PersonnelEvent:
    return PersonnelEvent.objects.filter(employee=employee).latest("pk")


def sessions_of(user) -> int:
    return sum(s.get_decoded().get("_auth_user_id") == str(user.pk) for s in Session.objects.all())


def leave(employee: Employee) -> PersonnelEvent:
    employee.status = Employee.Status.LEFT
    employee.left_on = timezone.localdate()
    employee.save()
    return last_event(employee)


# -- joiners and movers --------------------------------------------------------------------


def test_a_joiner_eligible_in_a_reconciled_family_gets_an_add_to_do_for_the_creator(company):
    reconciled(company.office, *compliant_rows())
    joiner = EmployeeFactory(name="周杰", category=ADMIN, department=company.li_na.department)
    missing = open_findings(company.office, Finding.Kind.MISSING).get()
    event = last_event(joiner)
    assert (missing.employee, missing.event, missing.first_seen) == (joiner, event, None)
    assert missing.action.kind == RosterAction.Kind.ADD
    assert missing.action.assignee == company.hr_head  # the office's creator (§5.1)
    assert event.kind == PersonnelEvent.Kind.JOINER
    assert event.outcome["opened"] == {"办公群": 1}


def test_a_joiner_waits_for_reconciliation_while_a_family_has_no_reconciled_roster(company):
    joiner = EmployeeFactory(name="周杰", category=ADMIN)
    assert not Finding.objects.filter(employee=joiner).exists()
    assert "办公群" in last_event(joiner).outcome["waiting"]


def test_a_family_judged_only_when_every_group_has_a_reconciled_latest_roster(company):
    reconciled(company.office, *compliant_rows())
    sibling = ChatGroupFactory(code="office-2", family=company.office)
    capture(sibling, "销售部-李娜")  # captured, not reconciled yet
    EmployeeFactory(name="周杰", category=ADMIN)
    assert not open_findings(company.office, Finding.Kind.MISSING).exists()


def test_a_joiner_who_does_not_qualify_gets_nothing(company):
    reconciled(company.office, *compliant_rows())
    EmployeeFactory(name="周杰", category=Employee.Category.PRODUCTION)
    assert not Finding.objects.filter(kind=Finding.Kind.MISSING).exists()


def test_a_mover_who_no_longer_qualifies_gets_a_remove_to_do(company):
    reconciled(company.office, *compliant_rows())
    company.li_na.category = Employee.Category.PRODUCTION
    company.li_na.save()
    finding = open_findings(company.office, Finding.Kind.INELIGIBLE).get()
    event = last_event(company.li_na)
    assert event.kind == PersonnelEvent.Kind.MOVER
    assert event.changes == {"人员类别": ["行管", "生产"]}
    assert (finding.employee, finding.event) == (company.li_na, event)
    assert finding.display_name == "销售部-李娜"
    assert finding.action.kind == RosterAction.Kind.REMOVE


def test_a_mover_who_now_qualifies_gets_an_add_to_do(company):
    reconciled(company.office, *compliant_rows())
    company.production_worker.category = ADMIN
    company.production_worker.save()
    assert open_findings(company.office, Finding.Kind.MISSING).get().employee == (
        company.production_worker
    )


def test_moving_back_resolves_the_remove_to_do(company):
    reconciled(company.office, *compliant_rows())
    company.li_na.category = Employee.Category.PRODUCTION
    company.li_na.save()
    finding = open_findings(company.office, Finding.Kind.INELIGIBLE).get()
    company.li_na.category = ADMIN
    company.li_na.save()
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED
    assert finding.action.status == RosterAction.Status.DONE
    assert last_event(company.li_na).outcome["closed"] == {"办公群": 1}


def test_movers_honour_hr_exceptions(company):
    reconciled(company.office, *compliant_rows())
    approver = company.hr_head
    MembershipException.objects.create(
        group=company.office,
        employee=company.li_na,
        kind="include",
        reason="兼任",
        approved_by=approver,
    )
    MembershipException.objects.create(
        group=company.office,
        employee=company.production_worker,
        kind="exclude",
        reason="外派",
        approved_by=approver,
    )
    company.li_na.category = Employee.Category.PRODUCTION
    company.li_na.save()
    company.production_worker.category = ADMIN
    company.production_worker.save()
    assert not Finding.objects.filter(
        kind__in=[Finding.Kind.INELIGIBLE, Finding.Kind.MISSING], status=Finding.Status.OPEN
    ).exists()


def test_a_change_that_moves_nothing_records_nothing(company):
    before = PersonnelEvent.objects.count()
    company.li_na.phone = "13900000000"
    company.li_na.name = "李娜娜"
    company.li_na.save()
    company.li_na.save()
    assert PersonnelEvent.objects.count() == before


def test_a_later_snapshot_closes_the_joiners_to_do_like_any_other(company):
    reconciled(company.office, *compliant_rows())
    joiner = EmployeeFactory(name="周杰", category=ADMIN, department=company.li_na.department)
    missing = open_findings(company.office, Finding.Kind.MISSING).get()
    reconciled(company.office, *compliant_rows(), "销售部-周杰")
    missing.refresh_from_db()
    assert missing.status == Finding.Status.RESOLVED
    assert missing.action.status == RosterAction.Status.DONE
    assert not Finding.objects.filter(employee=joiner, status=Finding.Status.OPEN).exists()


def test_a_later_snapshot_still_showing_the_mover_keeps_the_same_finding(company):
    reconciled(company.office, *compliant_rows())
    company.li_na.category = Employee.Category.PRODUCTION
    company.li_na.save()
    finding = open_findings(company.office, Finding.Kind.INELIGIBLE).get()
    reconciled(company.office, *compliant_rows())
    assert open_findings(company.office, Finding.Kind.INELIGIBLE).get() == finding


# -- leavers: the groups' rosters ----------------------------------------------------------


def test_a_leaver_gets_a_remove_to_do_where_the_latest_roster_holds_them(company):
    snapshot = reconciled(company.office, *compliant_rows())
    event = leave(company.li_na)
    departed = open_findings(company.office, Finding.Kind.DEPARTED).get()
    assert (departed.employee, departed.event, departed.subject) == (
        company.li_na,
        event,
        f"e:{company.li_na.pk}",
    )
    assert departed.first_seen == departed.last_seen == snapshot
    assert departed.action.kind == RosterAction.Kind.REMOVE
    assert event.changes == {"状态": ["在职", "离职"]}


def test_a_leaver_not_in_any_roster_gets_no_remove_to_do(company):
    reconciled(company.office, *[r for r in compliant_rows() if r != "销售部-李娜"])
    missing = open_findings(company.office, Finding.Kind.MISSING).get()
    leave(company.li_na)
    assert not Finding.objects.filter(kind=Finding.Kind.DEPARTED, status="open").exists()
    missing.refresh_from_db()  # no longer to be added: superseded
    assert missing.status == Finding.Status.RESOLVED
    assert missing.action.status == RosterAction.Status.DONE


def test_a_leavers_own_rename_to_do_closes(company):
    reconciled(company.office, *[r for r in compliant_rows() if r != "销售部-李娜"], "李娜")
    rename = open_findings(company.office, Finding.Kind.NOT_REAL_NAME).get()
    # §5.3.b: the rename is the member's own to-do (groups.policy_data FINDING_SPECS' owner).
    RosterAction.objects.filter(finding=rename).update(
        owner=RosterAction.Owner.MEMBER, assignee=company.li_na
    )
    leave(company.li_na)
    rename.refresh_from_db()
    assert rename.status == Finding.Status.RESOLVED
    assert rename.action.status == RosterAction.Status.DONE
    assert open_findings(company.office, Finding.Kind.DEPARTED).get().display_name == "李娜"


def test_a_later_snapshot_without_the_leaver_closes_the_remove_to_do(company):
    reconciled(company.office, *compliant_rows())
    leave(company.li_na)
    departed = open_findings(company.office, Finding.Kind.DEPARTED).get()
    reconciled(company.office, *[r for r in compliant_rows() if r != "销售部-李娜"])
    departed.refresh_from_db()
    assert departed.status == Finding.Status.RESOLVED
    assert departed.action.status == RosterAction.Status.DONE


def test_a_later_snapshot_still_holding_the_leaver_keeps_one_remove_to_do(company):
    reconciled(company.office, *compliant_rows())
    leave(company.li_na)
    reconciled(company.office, *compliant_rows())
    assert open_findings(company.office, Finding.Kind.DEPARTED).count() == 1
    assert RosterAction.objects.filter(finding__kind=Finding.Kind.DEPARTED).count() == 1


def test_a_rehired_leaver_is_a_joiner_and_their_remove_to_do_closes(company):
    reconciled(company.office, *compliant_rows())
    leave(company.li_na)
    departed = open_findings(company.office, Finding.Kind.DEPARTED).get()
    company.li_na.status = Employee.Status.ACTIVE
    company.li_na.left_on = None
    company.li_na.save()
    event = last_event(company.li_na)
    assert event.kind == PersonnelEvent.Kind.JOINER
    assert event.changes == {"状态": ["离职", "在职"]}
    departed.refresh_from_db()
    assert departed.status == Finding.Status.RESOLVED
    assert departed.action.status == RosterAction.Status.DONE


# -- leavers: succession (离职继承) ----------------------------------------------------------


@pytest.fixture
def workshop():
    """生产部 (head 钱总) / 一车间 (head 孙主任), and 林工 of 一车间, who creates 车间群."""
    production = department_get_or_create_by_path(path="生产部")
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    top = EmployeeFactory(name="钱总", department=production, user=UserFactory(username="qian"))
    head = EmployeeFactory(name="孙主任", department=workshop, user=UserFactory(username="sun"))
    department_set_head(department=production, head=top)
    department_set_head(department=workshop, head=head)
    lin = EmployeeFactory(name="林工", department=workshop, user=UserFactory(username="lin"))
    group = ChatGroupFactory(code="workshop", name="车间群", creator=lin)
    return {"top": top, "head": head, "lin": lin, "group": group}


def test_the_successor_is_the_head_of_the_leavers_department(company, workshop):
    assert group_successor(workshop["lin"]) == workshop["head"]


def test_a_department_head_who_leaves_is_succeeded_by_the_head_above(company, workshop):
    assert group_successor(workshop["head"]) == workshop["top"]


def test_a_chain_of_leavers_goes_up_to_the_hr_head(company, workshop):
    leave(workshop["head"])
    assert group_successor(workshop["lin"]) == workshop["top"]
    leave(workshop["top"])
    assert group_successor(workshop["lin"]) == company.hr_head


def test_the_hr_head_rule(company, workshop, settings):
    settings.GROUP_SUCCESSOR_RULE = "hr_head"
    assert group_successor(workshop["lin"]) == company.hr_head


@pytest.mark.parametrize(
    ("rule", "leaver", "gone", "successor", "branch"),
    [
        ("department_head", "lin", [], "head", "本部门负责人"),
        ("department_head", "head", [], "top", "上级部门负责人"),
        # The head of the top-level department: no department above, the HR head as fallback.
        ("department_head", "top", [], "hr_head", "人力资源部负责人（兜底）"),
        ("department_head", "lin", ["head", "top"], "hr_head", "人力资源部负责人（兜底）"),
        ("hr_head", "lin", [], "hr_head", "人力资源部负责人"),
    ],
)
def test_the_handover_note_names_the_branch_that_found_the_successor(
    company, workshop, settings, rule, leaver, gone, successor, branch
):
    settings.GROUP_SUCCESSOR_RULE = rule
    people = {**workshop, "hr_head": company.hr_head}
    for name in gone:
        leave(people[name])
    group = workshop["group"]
    group.creator = people[leaver]
    group.save()
    leave(people[leaver])
    succession = GroupSuccession.objects.get(group=group, predecessor=people[leaver])
    assert succession.successor == people[successor]
    assert succession.note == f"按规则“{branch}”由 {people[successor]} 接任"


def test_with_nobody_to_succeed_the_note_says_nobody_can(company, workshop):
    leave(company.hr_head)
    leave(workshop["top"])
    leave(workshop["head"])
    leave(workshop["lin"])
    succession = GroupSuccession.objects.get(group=workshop["group"], predecessor=workshop["lin"])
    assert succession.successor is None
    assert succession.note == NOTE_NO_SUCCESSOR
    assert "无人可接任" in succession.note


def test_nobody_to_succeed_leaves_the_group_without_a_creator(company, workshop, settings):
    settings.GROUP_SUCCESSOR_RULE = "hr_head"
    leave(company.hr_head)
    event = leave(workshop["lin"])
    workshop["group"].refresh_from_db()
    assert workshop["group"].creator is None  # never a departed creator
    succession = GroupSuccession.objects.get(group=workshop["group"])
    assert succession.successor is None
    assert succession.note == NOTE_NO_SUCCESSOR
    assert event.outcome["successions"][0]["successor"] is None


def test_with_nobody_to_succeed_the_to_dos_go_to_hrs_queue_and_hr_is_told(
    company, workshop, settings, hr_user
):
    settings.GROUP_SUCCESSOR_RULE = "hr_head"
    leave(company.hr_head)
    group, lin = workshop["group"], workshop["lin"]
    reconciled(group, "林工", "钱总")  # no rule: both ineligible, two to-dos for 林工
    long_ago = timezone.localdate() - dt.timedelta(days=30)
    RosterAction.objects.filter(group=group).update(
        due_on=long_ago, reminder_count=3, escalated_at=timezone.now()
    )
    event = leave(lin)
    actions = RosterAction.objects.filter(group=group, status="open")
    assert actions.count() == 2
    for action in actions:  # HR's queue (由谁处理: 人力资源部), never nobody's
        assert (action.owner, action.assignee) == (RosterAction.Owner.HR, None)
        assert action.due_on == timezone.localdate() + dt.timedelta(days=2)
        assert (action.reminder_count, action.escalated_at) == (0, None)
    assert event.outcome["moved"] == {"车间群": 2}
    notice = Notice.objects.get(recipient=hr_user, subject_key=f"group-succession-hr:{event.pk}")
    assert "林工" in notice.title
    assert "2 项" in notice.title
    assert "车间群：2 项" in notice.body
    assert notice.url.endswith("?owner__exact=hr&status__exact=open")
    # Nobody without HR's right hears of it.
    assert not Notice.objects.filter(
        subject_key=f"group-succession-hr:{event.pk}", recipient__in=[workshop["head"].user]
    ).exists()


def test_a_leavers_to_do_in_a_group_they_no_longer_run_goes_to_its_creator(company, workshop):
    lin, head = workshop["lin"], workshop["head"]
    other = ChatGroupFactory(code="other", name="别的群", creator=company.wang_fang)
    reconciled(other, "快递小哥")
    stale = RosterAction.objects.get(group=other)
    # Still 林工's from when he ran it (a bulk write, no signal).
    RosterAction.objects.filter(pk=stale.pk).update(assignee=lin)
    event = leave(lin)
    stale.refresh_from_db()
    assert (stale.owner, stale.assignee) == (RosterAction.Owner.CREATOR, company.wang_fang)
    assert stale.due_on == timezone.localdate() + dt.timedelta(days=2)
    assert event.outcome["moved"] == {"别的群": 1}
    # His own group is handed over as before, with no to-do to move.
    assert GroupSuccession.objects.get(group=workshop["group"]).successor == head


def test_a_leaving_creator_hands_the_group_and_its_to_dos_to_the_successor(company, workshop):
    group, lin, head = workshop["group"], workshop["lin"], workshop["head"]
    reconciled(group, "林工", "钱总")  # no rule: both ineligible, two to-dos for 林工
    actions = list(RosterAction.objects.filter(group=group, assignee=lin))
    long_ago = timezone.localdate() - dt.timedelta(days=30)
    RosterAction.objects.filter(pk__in=[a.pk for a in actions]).update(
        due_on=long_ago, reminder_count=3, last_reminded_on=long_ago, escalated_at=timezone.now()
    )
    event = leave(lin)
    group.refresh_from_db()
    assert group.creator == head
    # 钱总's remove to-do, and 林工's own one (DEPARTED, superseding his INELIGIBLE), both
    # the creator's: now the successor's.
    moved = RosterAction.objects.filter(group=group, assignee=head, status="open")
    assert {a.finding.kind for a in moved} == {Finding.Kind.INELIGIBLE, Finding.Kind.DEPARTED}
    for action in RosterAction.objects.filter(group=group, status="open"):
        assert action.assignee == head
        assert action.due_on == timezone.localdate() + dt.timedelta(days=2)
        assert (action.reminder_count, action.last_reminded_on, action.escalated_at) == (
            0,
            None,
            None,
        )
    succession = GroupSuccession.objects.get(group=group)
    assert (succession.role, succession.predecessor, succession.successor) == ("creator", lin, head)
    assert succession.actions_moved == 2
    record = group.history.order_by("-history_id").first()  # the group's history says so too
    assert record.creator_id == head.pk
    assert record.history_change_reason == succession.note
    assert event.outcome["moved"] == {"车间群": 2}
    assert succession.event == event
    notice = Notice.objects.get(recipient=head.user, kind=Notice.Kind.GROUP_SUCCESSION)
    assert "车间群" in notice.body
    assert "林工" in notice.title


def test_the_successor_gets_the_rights_and_the_leaver_loses_them(company, workshop, client):
    group, lin, head = workshop["group"], workshop["lin"], workshop["head"]
    admin = EmployeeFactory(name="许管", user=UserFactory(username="xu"))
    group.admins.add(admin)
    lin.user.refresh_from_db()
    assert lin.user.has_perm("groups.manage_roster", group)
    client.force_login(lin.user)
    assert sessions_of(lin.user) == 1
    leave(admin)
    leave(lin)
    group.refresh_from_db()
    assert set(group.admins.all()) == {company.hr_head}  # 许管's successor: the HR head
    assert GroupSuccession.objects.filter(group=group).count() == 2
    lin.user.refresh_from_db()
    assert not lin.user.is_active
    assert not lin.user.has_perm("groups.manage_roster", group)
    assert sessions_of(lin.user) == 0  # ended, not just refused
    head = Employee.objects.get(pk=head.pk)
    assert head.user.has_perm("groups.manage_roster", group)


def test_a_leaving_admin_is_replaced_unless_the_successor_already_runs_the_group(company):
    group = ChatGroupFactory(code="g1", name="群一", creator=company.hr_head)
    company.wang_fang.user = UserFactory(username="wf")
    company.wang_fang.save()
    group.admins.add(company.wang_fang)
    leave(company.wang_fang)  # head of 人力资源部 (赵敏) succeeds: already the creator
    assert list(group.admins.all()) == []
    assert GroupSuccession.objects.get(group=group).successor == company.hr_head


def test_the_seeded_groups_and_a_factory_employee_cost_a_few_queries(
    company, django_assert_max_num_queries
):
    # Most saves: no family can be judged, nothing to hand over.
    with django_assert_max_num_queries(12):
        EmployeeFactory(name="周杰", category=ADMIN, department=company.li_na.department)


def _leaver_queries(company, name: str, groups_count: int) -> int:
    """Queries of one leaver's save: creator and admin of ``groups_count`` reconciled groups,
    each roster holding them and ``groups_count`` strangers (a to-do each)."""
    leaver = EmployeeFactory(
        name=name, department=company.li_na.department, user=UserFactory(username=name)
    )
    for n in range(groups_count):
        group = ChatGroupFactory(code=f"{leaver.pk}-{n}", name=f"{name}{n}群", creator=leaver)
        group.admins.add(leaver)
        reconciled(group, name, *[f"外人{n}-{i}" for i in range(groups_count)])
    leaver = Employee.objects.get(pk=leaver.pk)
    leaver.status = Employee.Status.LEFT
    leaver.left_on = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        leaver.save()
    moved = GroupSuccession.objects.filter(predecessor=leaver).values_list(
        "actions_moved", flat=True
    )
    assert sum(moved) == groups_count * (groups_count + 1)  # strangers + their own DEPARTED
    assert not ChatGroup.objects.filter(creator=leaver).exists()
    return len(queries)


def test_the_leaver_path_is_flat_in_groups_and_to_dos(company):
    # The successor (the HR head: 销售部 has no head) has a login: granted rights, told.
    company.hr_head.user = UserFactory(username="zhaomin", email="zm@example.com")
    company.hr_head.save()
    one = _leaver_queries(company, "林一", 1)
    many = _leaver_queries(company, "林八", 8)  # 8 groups, 72 to-dos
    assert many == one, (one, many)
    assert one <= 45, one
    assert Notice.objects.filter(recipient=company.hr_head.user).count() == 2


def test_the_leaver_path_without_successor_is_flat_and_tells_hr(company, hr_user):
    Department.objects.filter(path="人力资源部").update(head=None)  # nobody to succeed
    one = _leaver_queries(company, "林一", 1)
    many = _leaver_queries(company, "林八", 8)
    assert many == one, (one, many)
    hr_queue = RosterAction.objects.filter(owner=RosterAction.Owner.HR, status="open")
    assert hr_queue.filter(assignee__isnull=True).count() == 2 + 72
    assert Notice.objects.filter(recipient=hr_user, kind=Notice.Kind.GROUP_SUCCESSION).count() == 2


def test_a_creator_and_their_head_leaving_in_one_sheet_go_to_the_head_above(company, workshop):
    from members import importing
    from tests.factories import xlsx_bytes

    headers = ["工号", "姓名", "部门", "状态", "离职日期"]
    rows = [
        [e.employee_no, e.name, "生产部/一车间", "离职", "2026-11-30"]
        for e in (workshop["lin"], workshop["head"])
    ]
    report = importing.employee_import_file(
        data=xlsx_bytes([headers, *rows]), actor=UserFactory(username="hrclerk")
    )
    assert not report.errors, report.errors
    workshop["group"].refresh_from_db()
    assert workshop["group"].creator == workshop["top"]
    succession = GroupSuccession.objects.get(group=workshop["group"])
    assert succession.event.actor.username == "hrclerk"


def test_the_group_page_shows_who_succeeded_whom_to_hr(company, workshop, client, hr_user):
    leave(workshop["lin"])
    client.force_login(hr_user)
    page = client.get(reverse("admin:groups_chatgroup_change", args=[workshop["group"].pk]))
    html = page.content.decode()
    assert "交接记录" in html
    assert "林工（" in html
    assert "孙主任（" in html
    listing = client.get(reverse("admin:groups_groupsuccession_changelist"), {"q": "林工"})
    assert "车间群" in listing.content.decode()
    assert client.get(reverse("admin:groups_groupsuccession_add")).status_code == 403
