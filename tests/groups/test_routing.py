"""Findings go to whoever can fix them, and so do their overdue consequences (issue 12, 3):
a rename is the member's (§5.3.b), an identity or account question HR's, adding and removing
the creator's (§5.1). Nobody is charged for what they could not do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.actors import SystemActor
from groups.models import Finding, RosterAction
from groups.selectors import HOUSE_RULE_LABEL
from groups.services.actions import RENAME_SUBJECT, roster_renames_tell
from members.models import Employee
from notices.models import Notice
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory
from tests.groups.conftest import compliant_rows
from tests.groups.test_reconcile import reconcile
from violations.models import Case, Rule
from violations.services.roster_cases import roster_actions_handle_overdue

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("task:groups.handle_overdue_roster_actions")
TODAY = timezone.localdate()


def without(name: str) -> list[str]:
    return [r for r in compliant_rows() if r != name]


def cjk_name(n: int, i: int) -> str:
    """A real-looking name, unique per (n, i): names are CJK only (groups.naming)."""
    digits = "零一二三四五六七八九"
    return f"员{digits[n]}{digits[i]}"


def past_grace(action: RosterAction) -> dt.date:
    return action.due_on + dt.timedelta(days=4)  # grace is 3 days (settings.test)


def action_of(kind: str) -> RosterAction:
    return RosterAction.objects.select_related("finding").get(finding__kind=kind)


# -- routing: who gets each to-do ---------------------------------------------------


def test_each_finding_kind_goes_to_whoever_can_fix_it(seeded, company):
    rows = [r for r in without("销售部-李娜") if "张伟" not in r]
    rows += [("娜娜🌸", "lina88"), "张伟", "销售部-张伟", "快递小哥"]
    reconcile(company.office, *rows)
    rename = action_of(Finding.Kind.NOT_REAL_NAME)
    assert (rename.owner, rename.assignee) == (RosterAction.Owner.MEMBER, company.li_na)
    identity = action_of(Finding.Kind.AMBIGUOUS)
    assert (identity.owner, identity.assignee) == (RosterAction.Owner.HR, None)
    remove = action_of(Finding.Kind.STRANGER)
    assert (remove.owner, remove.assignee) == (RosterAction.Owner.CREATOR, company.hr_head)
    # 一车间-张伟 is now only the bare 张伟: missing, for the creator to add.
    add = action_of(Finding.Kind.MISSING)
    assert (add.owner, add.assignee) == (RosterAction.Owner.CREATOR, company.hr_head)


def test_a_duplicate_account_is_hrs_question(seeded, company):
    reconcile(company.office, *compliant_rows(), ("娜娜", "lina88"))
    duplicate = action_of(Finding.Kind.DUPLICATE_ACCOUNT)
    assert (duplicate.owner, duplicate.assignee) == (RosterAction.Owner.HR, None)


# -- the member hears of their rename once --------------------------------------------


@pytest.fixture
def li_na_login(company):
    company.li_na.user = UserFactory(username="lina", email="lina@example.com")
    company.li_na.save()
    return company.li_na.user


def test_the_member_is_told_of_their_rename_once(
    seeded, company, li_na_login, django_capture_on_commit_callbacks
):
    rows = [*without("销售部-李娜"), ("娜娜🌸", "lina88")]
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *rows)
    notice = Notice.objects.get(recipient=li_na_login)
    due = action_of(Finding.Kind.NOT_REAL_NAME).due_on
    assert notice.kind == Notice.Kind.ROSTER_TODO
    assert notice.title == RENAME_SUBJECT
    assert f"你在办公群的群昵称应为“销售部-李娜”，请在 {due:%Y年%-m月%-d日} 前修改" in notice.body
    assert notice.url == reverse("me:group_name_list")
    assert notice.in_digest  # mailed in the evening's digest, not one mail per event
    # The next run keeps the same to-do: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *rows)
    assert Notice.objects.filter(recipient=li_na_login).count() == 1
    # The creator is not told of the member's rename.
    assert not Notice.objects.filter(recipient__employee=company.hr_head).exists()


def test_a_member_without_login_is_not_told_and_nothing_fails(
    seeded, company, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    assert RosterAction.objects.filter(owner=RosterAction.Owner.MEMBER).count() == 1
    assert not Notice.objects.exists()


def test_telling_the_members_costs_a_fixed_number_of_queries_per_member(seeded):
    def members(n: int) -> list[int]:
        group = ChatGroupFactory()
        EligibilityRuleFactory(group=group, kind="everyone")
        people = [
            EmployeeFactory(name=cjk_name(n, i), user=UserFactory(email=f"m{n}{i}@example.com"))
            for i in range(n)
        ]
        _, _ = reconcile(group, *(f"{p.name}的昵称" for p in people))
        return list(
            RosterAction.objects.filter(
                owner=RosterAction.Owner.MEMBER, finding__employee__in=people
            ).values_list("pk", flat=True)
        )

    def queries(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            told = roster_renames_tell(action_ids=ids)
        assert told == len(ids)
        return len(ctx.captured_queries)

    first, second = members(1), members(5)
    assert (len(first), len(second)) == (1, 5)
    one, five = queries(first), queries(second)
    # One load, then notice_post's own statements per member (measured: 7, with the email
    # and the savepoints): never a query per to-do to find the member, login or department.
    assert five - one <= 4 * 8, (one, five)
    assert one <= 10, one


# -- overdue: the consequence follows whoever could act ------------------------------


@pytest.fixture
def renamed(seeded, company, li_na_login):
    """李娜 (with a login: she was told) uses a nickname in the office group: her rename."""
    reconcile(company.office, *without("销售部-李娜"), ("娜娜🌸", "lina88"))
    rename = action_of(Finding.Kind.NOT_REAL_NAME)
    assert roster_renames_tell(action_ids=[rename.pk]) == 1  # the task queued on commit
    return rename


def test_an_unfixed_rename_past_grace_is_a_5_3_b_case_against_the_member(company, renamed):
    roster_actions_handle_overdue(today=renamed.due_on + dt.timedelta(days=3), actor=SYSTEM)
    assert not Case.objects.exists()  # inside the grace period
    result = roster_actions_handle_overdue(today=past_grace(renamed), actor=SYSTEM)
    assert result.proposed_cases == 1
    case = Case.objects.get()
    assert case.rule.code == "5.3.b"
    assert case.employee == company.li_na  # the member, never the creator
    assert case.group == company.office
    assert case.state == Case.State.PROPOSED
    assert case.source_key == f"renames:{company.li_na.pk}:{renamed.due_on.isoformat()}"
    assert "娜娜🌸" in case.description
    assert not Case.objects.filter(rule__code="5.1").exists()
    renamed.refresh_from_db()
    assert renamed.escalated_at is not None
    roster_actions_handle_overdue(today=past_grace(renamed) + dt.timedelta(days=1), actor=SYSTEM)
    assert Case.objects.count() == 1


def test_each_members_renames_are_one_case(seeded, company):
    for person in (company.li_na, company.wang_fang):
        person.user = UserFactory()
        person.save()
    rows = [r for r in compliant_rows() if r not in ("销售部-李娜", "人力资源部-王芳")]
    reconcile(company.office, *rows, ("娜娜🌸", "lina88"), "王芳的昵称")
    renames = list(RosterAction.objects.filter(owner=RosterAction.Owner.MEMBER))
    assert {a.finding.employee for a in renames} == {company.li_na, company.wang_fang}
    assert roster_renames_tell(action_ids=[a.pk for a in renames]) == 2
    day = max(past_grace(a) for a in renames)
    roster_actions_handle_overdue(today=day, actor=SYSTEM)
    cases = Case.objects.filter(rule__code="5.3.b")
    assert {c.employee for c in cases} == {company.li_na, company.wang_fang}
    assert {c.source_key for c in cases} == {
        f"renames:{a.finding.employee_id}:{a.due_on.isoformat()}" for a in renames
    }


def test_a_rename_is_no_case_once_the_member_has_left(company, renamed):
    Employee.objects.filter(pk=company.li_na.pk).update(status=Employee.Status.LEFT)
    result = roster_actions_handle_overdue(today=past_grace(renamed), actor=SYSTEM)
    assert result.proposed_cases == 0
    assert not Case.objects.exists()


def test_with_5_3_b_switched_off_a_rename_is_only_reminded(company, renamed):
    Rule.objects.filter(code="5.3.b").update(is_active=False)
    result = roster_actions_handle_overdue(today=past_grace(renamed), actor=SYSTEM)
    assert (result.reminded, result.proposed_cases) == (1, 0)
    assert not Case.objects.exists()


def test_a_real_name_under_a_house_rule_is_marked_and_never_a_case(seeded, company):
    reconcile(company.office, *without("销售部-李娜"), "李娜")  # the office asks 部门-姓名
    finding = Finding.objects.get(kind=Finding.Kind.NOT_REAL_NAME)
    assert finding.detail.startswith("群昵称应为“销售部-李娜”")
    assert f"{HOUSE_RULE_LABEL}：" in finding.detail
    assert finding.action.owner == RosterAction.Owner.MEMBER  # still hers to fix, if asked
    result = roster_actions_handle_overdue(today=past_grace(finding.action), actor=SYSTEM)
    assert result.proposed_cases == 0
    assert not Case.objects.exists()


def test_a_nickname_under_a_house_rule_is_not_marked_as_one(company, renamed):
    # 娜娜🌸 is not her real name: §5.3.b itself is broken, whatever the group's own rule.
    assert HOUSE_RULE_LABEL not in renamed.finding.detail


def test_hrs_own_questions_never_become_cases(seeded, company):
    rows = [r for r in compliant_rows() if "张伟" not in r] + ["张伟", "销售部-张伟"]
    reconcile(company.office, *rows)
    identity = action_of(Finding.Kind.AMBIGUOUS)
    # Nothing of the creator's is open, so only HR's question could be escalated.
    open_actions = RosterAction.objects.filter(status="open")
    assert {a.owner for a in open_actions} == {RosterAction.Owner.HR, RosterAction.Owner.CREATOR}
    RosterAction.objects.filter(owner=RosterAction.Owner.CREATOR).update(status="done")
    result = roster_actions_handle_overdue(
        today=past_grace(identity) + dt.timedelta(days=30), actor=SYSTEM
    )
    assert result.proposed_cases == 0
    assert not Case.objects.exists()
    identity.refresh_from_db()
    assert identity.escalated_at is None  # still in HR's queue


def test_a_departed_creators_to_dos_make_no_case(seeded, company):
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = action_of(Finding.Kind.STRANGER)
    Employee.objects.filter(pk=company.hr_head.pk).update(status=Employee.Status.LEFT)
    result = roster_actions_handle_overdue(today=past_grace(remove), actor=SYSTEM)
    assert result.proposed_cases == 0
    assert not Case.objects.exists()


def test_a_successor_is_charged_only_from_their_own_due_date(seeded, company):
    """A leaver's to-dos moved to a successor come with a fresh due date (lifecycle):
    the §5.1 case waits for it and names the successor, never the leaver."""
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = action_of(Finding.Kind.STRANGER)
    successor = EmployeeFactory(name="钱七", department=company.hr_head.department)
    fresh = past_grace(remove) + dt.timedelta(days=1)
    Employee.objects.filter(pk=company.hr_head.pk).update(status=Employee.Status.LEFT)
    company.office.creator = successor
    company.office.save()
    RosterAction.objects.filter(pk=remove.pk).update(assignee=successor, due_on=fresh)
    assert roster_actions_handle_overdue(today=past_grace(remove), actor=SYSTEM).proposed_cases == 0
    result = roster_actions_handle_overdue(today=fresh + dt.timedelta(days=4), actor=SYSTEM)
    assert result.proposed_cases == 1
    assert Case.objects.get().employee == successor


def test_5_3_b_cases_cost_a_fixed_number_of_queries_each(seeded):
    def setup(n: int) -> dt.date:
        group = ChatGroupFactory()
        EligibilityRuleFactory(group=group, kind="everyone")
        people = [EmployeeFactory(name=cjk_name(n, i), user=UserFactory()) for i in range(n)]
        reconcile(group, *(f"{p.name}的昵称" for p in people))
        renames = RosterAction.objects.filter(owner="member", group=group)
        assert roster_renames_tell(action_ids=[a.pk for a in renames]) == n
        return RosterAction.objects.filter(owner="member").latest("pk").due_on

    day = past_grace(RosterAction(due_on=setup(1)))
    with CaptureQueriesContext(connection) as one:
        assert roster_actions_handle_overdue(today=day, actor=SYSTEM).proposed_cases == 1
    setup(4)
    with CaptureQueriesContext(connection) as four:
        assert roster_actions_handle_overdue(today=day, actor=SYSTEM).proposed_cases == 4
    # Never a query per to-do to load it, its member or group: one proposal's statements
    # per case (its history, audit row, the member's notice and email included, now that
    # only a member with a login is charged: measured 22).
    assert len(four) - len(one) <= 3 * 24, (len(one), len(four))


# -- reminders ----------------------------------------------------------------------


def test_an_overdue_rename_reminds_the_member_not_the_creator(company, renamed, li_na_login):
    company.hr_head.user = UserFactory(username="zhaomin", email="zhaomin@example.com")
    company.hr_head.save()
    result = roster_actions_handle_overdue(
        today=renamed.due_on + dt.timedelta(days=1), actor=SYSTEM
    )
    assert (result.reminded, result.emails) == (1, 1)
    notice = Notice.objects.get(recipient=li_na_login, subject_key__startswith="roster-todo:")
    assert "§5.3.b" in notice.body
    assert notice.url == reverse("me:group_name_list")
    assert not Notice.objects.filter(recipient__username="zhaomin").exists()


def test_the_creators_reminder_leads_to_the_to_do_list(seeded, company):
    company.hr_head.user = UserFactory(username="zhaomin", email="zhaomin@example.com")
    company.hr_head.save()
    reconcile(company.office, *compliant_rows(), "快递小哥")
    remove = action_of(Finding.Kind.STRANGER)
    roster_actions_handle_overdue(today=remove.due_on + dt.timedelta(days=1), actor=SYSTEM)
    notice = Notice.objects.get(recipient__username="zhaomin")
    assert notice.url == reverse("admin:groups_rosteraction_changelist") + "?status__exact=open"
    assert "§5.1" in notice.body
    assert "§5.3.b" not in notice.body


def test_a_creator_with_their_own_rename_is_reminded_of_both_once(seeded, company):
    """赵敏 creates the office group and uses a nickname in it: one reminder, both clauses."""
    company.hr_head.user = UserFactory(username="zhaomin", email="zhaomin@example.com")
    company.hr_head.save()
    rows = [r for r in compliant_rows() if r != "人力资源部-赵敏"]
    reconcile(company.office, *rows, "敏敏赵敏🌸", "快递小哥")
    owners = set(
        RosterAction.objects.filter(assignee=company.hr_head).values_list("owner", flat=True)
    )
    assert owners == {RosterAction.Owner.CREATOR, RosterAction.Owner.MEMBER}
    day = RosterAction.objects.latest("due_on").due_on + dt.timedelta(days=1)
    result = roster_actions_handle_overdue(today=day, actor=SYSTEM)
    assert result.emails == 1
    notice = Notice.objects.get(recipient__username="zhaomin")
    assert "§5.1、§5.3.b" in notice.body
