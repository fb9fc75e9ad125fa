"""Nobody is charged for what they could not do (issue 12 review): a member nobody could tell,
a stolen account, a former creator; renames in several groups are one omission; to-dos with
nobody to do them go to HR's queue, and follow the creator HR names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from common.actors import SystemActor
from groups.models import AccountReport, ChatGroup, Finding, RosterAction
from groups.services.actions import roster_renames_tell
from groups.services.reconcile_apply import roster_action_for
from members.models import Employee
from notices.models import Notice
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory
from tests.groups.conftest import compliant_rows
from tests.groups.test_reconcile import reconcile
from violations.models import Case
from violations.services.roster_cases import roster_actions_handle_overdue

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("task:groups.handle_overdue_roster_actions")
TODAY = timezone.localdate()
FRESH = TODAY + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)


def without(name: str) -> list[str]:
    return [r for r in compliant_rows() if r != name]


def past_grace(action: RosterAction) -> dt.date:
    return action.due_on + dt.timedelta(days=settings.ROSTER_ACTION_GRACE_DAYS + 1)


def rename_of(employee: Employee) -> RosterAction:
    return RosterAction.objects.get(owner=RosterAction.Owner.MEMBER, finding__employee=employee)


def give_login(employee: Employee, **fields) -> None:
    employee.user = UserFactory(**fields)
    employee.save()


# -- 2. a member nobody could tell ----------------------------------------------------------


def test_a_member_without_login_gets_no_5_3_b_case_and_the_to_do_stays(seeded, company):
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    result = roster_actions_handle_overdue(today=past_grace(rename), actor=SYSTEM)
    assert (result.proposed_cases, result.untold_renames) == (0, 1)
    assert not Case.objects.exists()
    rename.refresh_from_db()
    assert (rename.status, rename.escalated_at) == (RosterAction.Status.OPEN, None)


def test_a_member_whose_login_is_switched_off_gets_no_case(seeded, company):
    give_login(company.li_na, is_active=False)
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    result = roster_actions_handle_overdue(today=past_grace(rename_of(company.li_na)), actor=SYSTEM)
    assert (result.proposed_cases, result.untold_renames) == (0, 1)


def test_a_login_made_after_the_grace_period_gives_her_the_full_time_from_being_told(
    seeded, company
):
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    assert roster_renames_tell(action_ids=[rename.pk]) == 0  # no login: nobody told
    roster_actions_handle_overdue(today=past_grace(rename), actor=SYSTEM)
    give_login(company.li_na)
    # Her login works from the next day: that run's overdue reminder tells her first.
    first_told = past_grace(rename) + dt.timedelta(days=1)
    result = roster_actions_handle_overdue(today=first_told, actor=SYSTEM)
    assert (result.proposed_cases, result.untold_renames, result.waiting_renames) == (0, 0, 1)
    (reminder,) = Notice.objects.filter(recipient=company.li_na.user)
    assert "娜娜🌸" in reminder.body
    last_day = first_told + dt.timedelta(
        days=settings.ROSTER_ACTION_DUE_DAYS + settings.ROSTER_ACTION_GRACE_DAYS
    )
    for day in (first_told + dt.timedelta(days=1), last_day):
        result = roster_actions_handle_overdue(today=day, actor=SYSTEM)
        assert (result.proposed_cases, result.waiting_renames) == (0, 1)
    assert not Case.objects.exists()
    rename.refresh_from_db()
    assert rename.escalated_at is None
    result = roster_actions_handle_overdue(today=last_day + dt.timedelta(days=1), actor=SYSTEM)
    assert result.proposed_cases == 1
    assert Case.objects.get().employee == company.li_na


def test_a_rename_notice_made_late_counts_the_grace_from_its_day(seeded, company):
    """No reminder yet (never overdue while she had a login): the rename notice's own day."""
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    give_login(company.li_na)
    assert roster_renames_tell(action_ids=[rename.pk]) == 1
    notice = Notice.objects.get(recipient=company.li_na.user)
    late = rename.due_on + dt.timedelta(days=5)
    Notice.objects.filter(pk=notice.pk).update(
        created_at=timezone.make_aware(dt.datetime.combine(late, dt.time(9)))
    )
    # Yesterday's reminder would count from its day, later than the notice: none here.
    last_day = late + dt.timedelta(
        days=settings.ROSTER_ACTION_DUE_DAYS + settings.ROSTER_ACTION_GRACE_DAYS
    )
    RosterAction.objects.filter(pk=rename.pk).update(last_reminded_on=last_day)
    result = roster_actions_handle_overdue(today=last_day, actor=SYSTEM)
    assert (result.proposed_cases, result.waiting_renames) == (0, 1)
    RosterAction.objects.filter(pk=rename.pk).update(
        last_reminded_on=last_day + dt.timedelta(days=1)
    )
    result = roster_actions_handle_overdue(today=last_day + dt.timedelta(days=1), actor=SYSTEM)
    assert result.proposed_cases == 1


def test_a_member_never_told_gets_no_case_even_with_a_login(seeded, company):
    """A login but no notice about this to-do (her reminders switched off by a reminder
    already sent that day, the rename notice lost with the broker): no case."""
    give_login(company.li_na)
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    day = past_grace(rename)
    RosterAction.objects.filter(pk=rename.pk).update(last_reminded_on=day)  # no reminder now
    result = roster_actions_handle_overdue(today=day, actor=SYSTEM)
    assert (result.proposed_cases, result.untold_renames) == (0, 1)
    assert not Notice.objects.filter(recipient=company.li_na.user).exists()


# -- 3. a stolen account is not its owner -----------------------------------------------------


def report(employee: Employee, wechat_id: str, **fields) -> AccountReport:
    """A report made long before any snapshot of these tests (their clock is in the past)."""
    made = AccountReport.objects.create(
        employee=employee, wechat_id=wechat_id, kind=AccountReport.Kind.STOLEN, **fields
    )
    AccountReport.objects.filter(pk=made.pk).update(
        reported_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    return made


def test_a_reported_account_opens_no_rename_finding_for_its_owner(seeded, company):
    report(company.li_na, "lina88")
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    assert not Finding.objects.filter(kind=Finding.Kind.NOT_REAL_NAME).exists()
    reported = Finding.objects.get(kind=Finding.Kind.REPORTED_ACCOUNT)
    assert reported.action.owner == RosterAction.Owner.HR


def test_a_closed_report_lets_the_rename_finding_open_again(seeded, company):
    report(company.li_na, "lina88", status=AccountReport.Status.CLOSED)
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    assert rename_of(company.li_na).finding.kind == Finding.Kind.NOT_REAL_NAME


def test_a_rename_is_no_case_once_the_members_account_is_reported(seeded, company):
    give_login(company.li_na)
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    report(company.li_na, "lina88-old")  # any open report of hers: not her speaking
    result = roster_actions_handle_overdue(today=past_grace(rename), actor=SYSTEM)
    assert (result.proposed_cases, result.reported_renames) == (0, 1)
    assert not Case.objects.exists()
    rename.refresh_from_db()
    assert rename.escalated_at is None


# -- 4. renames in several groups: one case --------------------------------------------------


def test_renames_in_several_groups_are_one_case_listing_them(seeded, company):
    give_login(company.li_na)
    other = ChatGroupFactory(code="sales", name="销售群", naming_convention="name")
    EligibilityRuleFactory(group=other, kind="everyone")
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    reconcile(other, ("娜娜", "lina88"))
    renames = list(RosterAction.objects.filter(owner=RosterAction.Owner.MEMBER))
    assert len(renames) == 2
    assert len({a.due_on for a in renames}) == 1
    assert roster_renames_tell(action_ids=[a.pk for a in renames]) == 1  # one notice
    result = roster_actions_handle_overdue(today=past_grace(renames[0]), actor=SYSTEM)
    assert result.proposed_cases == 1
    case = Case.objects.get()
    assert case.source_key == f"renames:{company.li_na.pk}:{renames[0].due_on.isoformat()}"
    assert case.group is None  # several groups: both named in the description
    assert "办公群" in case.description
    assert "销售群" in case.description
    assert "2 个微信群" in case.description
    assert not RosterAction.objects.filter(owner="member", escalated_at__isnull=True).exists()


def test_a_rename_escalated_under_the_old_key_makes_no_second_case(seeded, company):
    give_login(company.li_na)
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = rename_of(company.li_na)
    RosterAction.objects.filter(pk=rename.pk).update(escalated_at=timezone.now())
    result = roster_actions_handle_overdue(today=past_grace(rename), actor=SYSTEM)
    assert result.proposed_cases == 0


# -- 5. §5.1 only against the creator of today ------------------------------------------------


def test_a_former_creators_to_do_makes_no_5_1_case(seeded, company):
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = RosterAction.objects.get(finding__kind=Finding.Kind.STRANGER)
    # A bulk write (no signal): the to-do still names 赵敏, who no longer runs the group.
    ChatGroup.objects.filter(pk=company.office.pk).update(creator=company.wang_fang)
    result = roster_actions_handle_overdue(today=past_grace(remove), actor=SYSTEM)
    assert result.proposed_cases == 0
    assert not Case.objects.exists()


def test_a_new_creator_named_by_hr_takes_the_to_dos_with_a_fresh_due_date(seeded, company):
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = RosterAction.objects.get(finding__kind=Finding.Kind.STRANGER)
    long_ago = TODAY - dt.timedelta(days=20)
    RosterAction.objects.filter(pk=remove.pk).update(
        due_on=long_ago, reminder_count=4, last_reminded_on=long_ago
    )
    company.office.creator = company.wang_fang
    company.office.save()
    remove.refresh_from_db()
    assert (remove.owner, remove.assignee, remove.due_on) == ("creator", company.wang_fang, FRESH)
    assert (remove.reminder_count, remove.last_reminded_on, remove.escalated_at) == (0, None, None)
    # Charged only from her own due date, and then her, never 赵敏.
    assert roster_actions_handle_overdue(today=TODAY, actor=SYSTEM).proposed_cases == 0
    result = roster_actions_handle_overdue(today=past_grace(remove), actor=SYSTEM)
    assert result.proposed_cases == 1
    assert Case.objects.get().employee == company.wang_fang


def test_saving_a_group_without_a_change_of_creator_moves_nothing(seeded, company):
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = RosterAction.objects.get(finding__kind=Finding.Kind.STRANGER)
    before = remove.due_on - dt.timedelta(days=1)
    RosterAction.objects.filter(pk=remove.pk).update(due_on=before, reminder_count=2)
    company.office.function = "日常办公"
    company.office.save()
    remove.refresh_from_db()
    assert (remove.assignee, remove.due_on, remove.reminder_count) == (company.hr_head, before, 2)


def test_members_renames_and_hrs_questions_stay_when_the_creator_changes(seeded, company):
    rows = [r for r in without("销售部-李娜") if "张伟" not in r]
    reconcile(company.office, *rows, ("娜娜🌸", "lina88"), "张伟", "销售部-张伟")
    company.office.creator = company.wang_fang
    company.office.save()
    assert rename_of(company.li_na).assignee == company.li_na
    identity = RosterAction.objects.get(finding__kind=Finding.Kind.AMBIGUOUS)
    assert (identity.owner, identity.assignee) == (RosterAction.Owner.HR, None)


# -- 6. a group without creator: HR's queue -----------------------------------------------------


def test_a_group_without_creator_sends_new_creator_to_dos_to_hr(seeded):
    orphan = ChatGroupFactory(code="orphan", name="无群主群")
    finding = Finding(kind=Finding.Kind.STRANGER, group=orphan)
    action = roster_action_for(finding, orphan, today=TODAY)
    assert (action.owner, action.assignee_id) == (RosterAction.Owner.HR, None)
    reconcile(orphan, "快递小哥")
    stored = RosterAction.objects.get(group=orphan)
    assert (stored.owner, stored.assignee) == (RosterAction.Owner.HR, None)
    # When HR names a creator, the creator's to-dos go to them.
    creator = EmployeeFactory(name="周群主")
    orphan.creator = creator
    orphan.save()
    stored.refresh_from_db()
    assert (stored.owner, stored.assignee, stored.due_on) == ("creator", creator, FRESH)


def test_clearing_the_creator_sends_the_to_dos_to_hr(seeded, company):
    reconcile(company.office, *compliant_rows(), "快递小哥")
    company.office.creator = None
    company.office.save()
    remove = RosterAction.objects.get(finding__kind=Finding.Kind.STRANGER)
    assert (remove.owner, remove.assignee, remove.due_on) == ("hr", None, FRESH)
