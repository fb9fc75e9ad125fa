"""Reconciliation: every finding kind, same names, idempotence, actions (§4, §5, §6.3, §9.5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from groups.models import (
    ChatGroup,
    Finding,
    MemberIdentity,
    MembershipException,
    RosterAction,
    RosterMember,
)
from groups.selectors import findings_for_report
from groups.services.findings import member_identity_forget, member_identity_remember
from groups.services.reconcile import snapshot_reconcile
from tests.factories import ChatGroupFactory, EmployeeFactory
from tests.groups.conftest import capture, compliant_rows
from violations.services.roster_cases import finding_decide_left_group

pytestmark = pytest.mark.django_db


def open_findings(group) -> set[tuple[str, str]]:
    """(kind, who) of the open findings: who = employee_no, else display name."""
    return {
        (f.kind, f.employee.employee_no if f.employee else f.display_name)
        for f in Finding.objects.filter(group=group, status=Finding.Status.OPEN).select_related(
            "employee"
        )
    }


def reconcile(group, *rows):
    snapshot = capture(group, *rows)
    return snapshot, snapshot_reconcile(snapshot=snapshot)


def test_a_compliant_roster_has_no_findings(company):
    snapshot, result = reconcile(company.office, *compliant_rows())
    assert open_findings(company.office) == set()
    snapshot.refresh_from_db()
    assert snapshot.compliance_rate == 1.0
    assert result.opened == 0


def test_departed_member_is_flagged_even_with_wechat_id(company):
    reconcile(company.office, *compliant_rows(), ("销售部-陈静", "chenjing"))
    finding = Finding.objects.get(kind=Finding.Kind.DEPARTED)
    assert finding.employee == company.departed
    assert finding.clause == "5.3.c"
    assert finding.severity == Finding.Severity.CRITICAL
    assert finding.action.kind == RosterAction.Kind.REMOVE


def test_departed_member_matched_by_name_only(company):
    reconcile(company.office, *compliant_rows(), "陈静")
    assert open_findings(company.office) == {(Finding.Kind.DEPARTED, "JM006")}


def test_stranger_matches_no_employee(company):
    reconcile(company.office, *compliant_rows(), "快递小哥🚚")
    assert open_findings(company.office) == {(Finding.Kind.STRANGER, "快递小哥🚚")}
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert finding.clause == "5.3.c"
    assert finding.action.kind == RosterAction.Kind.REMOVE


def test_ineligible_employee_is_flagged(company):
    reconcile(company.office, *compliant_rows(), "一车间-刘洋")
    assert open_findings(company.office) == {(Finding.Kind.INELIGIBLE, "JM007")}
    assert Finding.objects.get(kind=Finding.Kind.INELIGIBLE).clause == "5.3.a"


def test_an_ineligible_member_with_a_nickname_is_to_be_removed_not_renamed(company):
    company.production_worker.wechat_id = "liuyang"
    company.production_worker.save()
    reconcile(company.office, *compliant_rows(), ("洋洋🌟", "liuyang"))
    # Only the removal (§5.3.a): a rename to-do would ask them to stay under their real name.
    assert open_findings(company.office) == {(Finding.Kind.INELIGIBLE, "JM007")}
    (action,) = RosterAction.objects.filter(finding__employee=company.production_worker)
    assert (action.kind, action.owner) == (RosterAction.Kind.REMOVE, RosterAction.Owner.CREATOR)


def test_missing_eligible_employee_opens_an_add_action_for_the_creator(company):
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    reconcile(company.office, *rows)
    assert open_findings(company.office) == {(Finding.Kind.MISSING, "JM005")}
    action = RosterAction.objects.get()
    assert action.kind == RosterAction.Kind.ADD
    assert action.assignee == company.hr_head  # §5.1 the creator
    assert action.due_on == timezone.localdate() + dt.timedelta(days=2)


def test_nickname_breaks_the_naming_convention(company):
    rows = [r for r in compliant_rows() if r != "销售部-李娜"] + [("娜娜🌸", "lina88")]
    reconcile(company.office, *rows)
    assert open_findings(company.office) == {(Finding.Kind.NOT_REAL_NAME, "JM004")}
    finding = Finding.objects.get(kind=Finding.Kind.NOT_REAL_NAME)
    assert "销售部-李娜" in finding.detail
    assert finding.action.kind == RosterAction.Kind.RENAME


def test_real_name_without_department_breaks_department_convention(company):
    rows = [r for r in compliant_rows() if r != "销售部-李娜"] + ["李娜"]
    reconcile(company.office, *rows)
    assert open_findings(company.office) == {(Finding.Kind.NOT_REAL_NAME, "JM004")}


def test_plain_name_convention_accepts_the_real_name_alone_or_after_the_department(company):
    # §5.3.b asks for the real name: under 姓名 "一车间-张伟" shows it too (their own
    # department in front), a decorated or foreign-department name does not.
    company.office.naming_convention = ChatGroup.NamingConvention.NAME
    company.office.save()
    reconcile(
        company.office, "赵敏", "一车间-张伟", "销售部-张伟", ("李娜🌸", "lina88"), "财务部-王芳"
    )
    assert open_findings(company.office) == {
        (Finding.Kind.NOT_REAL_NAME, "JM004"),
        (Finding.Kind.NOT_REAL_NAME, "JM005"),
    }


def test_same_name_without_department_is_ambiguous_never_a_guess(company):
    rows = [r for r in compliant_rows() if "张伟" not in r] + ["张伟", "销售部-张伟"]
    snapshot, _ = reconcile(company.office, *rows)
    member = snapshot.members.get(display_name="张伟")
    assert member.employee is None
    assert member.match == RosterMember.Match.AMBIGUOUS
    assert (Finding.Kind.AMBIGUOUS, "张伟") in open_findings(company.office)
    detail = Finding.objects.get(kind=Finding.Kind.AMBIGUOUS).detail
    assert "JM002" in detail
    assert "JM003" in detail


def test_same_name_is_told_apart_by_department_in_the_display_name(company):
    snapshot, _ = reconcile(company.office, *compliant_rows())
    assert snapshot.members.get(display_name="一车间-张伟").employee == company.zhang_wei_production
    assert snapshot.members.get(display_name="销售部-张伟").employee == company.zhang_wei_sales


def test_hr_decision_on_an_ambiguous_member_is_remembered(company, superuser):
    rows = [r for r in compliant_rows() if r != "一车间-张伟"] + ["张伟"]
    reconcile(company.office, *rows)
    MemberIdentity.objects.create(
        group=company.office,
        display_name="张伟",
        employee=company.zhang_wei_production,
        decided_by=superuser,
    )
    later, _ = reconcile(company.office, *rows)
    assert later.members.get(display_name="张伟").match == RosterMember.Match.IDENTITY
    # Matched now; the bare name still breaks 部门-姓名, which is the only finding left.
    assert open_findings(company.office) == {(Finding.Kind.NOT_REAL_NAME, "JM002")}
    assert Finding.objects.get(kind=Finding.Kind.AMBIGUOUS).status == Finding.Status.RESOLVED


def test_wechat_id_beats_the_display_name(company):
    # The display name says 王芳, the WeChat id is 李娜's: trust the id (§6.3 lending is HR's call).
    rows = [r for r in compliant_rows() if r != "销售部-李娜"] + [("人力资源部-王芳", "lina88")]
    snapshot, _ = reconcile(company.office, *rows)
    matched = {m.employee_id for m in snapshot.members.all() if m.wechat_id == "lina88"}
    assert matched == {company.li_na.pk}


def test_one_employee_twice_is_a_duplicate_account(company):
    reconcile(company.office, *compliant_rows(), ("李娜的小号", "lina88"))
    assert (Finding.Kind.DUPLICATE_ACCOUNT, "JM004") in open_findings(company.office)
    assert Finding.objects.get(kind=Finding.Kind.DUPLICATE_ACCOUNT).clause == "6.3"


def test_one_wechat_id_on_two_employees_is_a_duplicate_account(company):
    company.wang_fang.wechat_id = "lina88"
    company.wang_fang.save()
    rows = [r for r in compliant_rows() if r != "销售部-李娜"] + [("某人", "lina88")]
    reconcile(company.office, *rows)
    finding = Finding.objects.get(kind=Finding.Kind.DUPLICATE_ACCOUNT, subject="w:lina88")
    assert "JM004" in finding.detail
    assert "JM005" in finding.detail


def test_over_capacity(company):
    company.office.member_cap = 4
    company.office.save()
    reconcile(company.office, *compliant_rows())
    assert open_findings(company.office) == {(Finding.Kind.OVER_CAPACITY, "")}


def test_exceptions_override_the_rules(company):
    MembershipException.objects.create(
        group=company.office,
        employee=company.production_worker,
        kind=MembershipException.Kind.INCLUDE,
        reason="兼任统计员",
        approved_by=company.hr_head,
    )
    MembershipException.objects.create(
        group=company.office,
        employee=company.wang_fang,
        kind=MembershipException.Kind.EXCLUDE,
        reason="长期外派",
        approved_by=company.hr_head,
    )
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["一车间-刘洋"]
    reconcile(company.office, *rows)
    assert open_findings(company.office) == set()


def test_an_expired_exception_no_longer_applies(company):
    MembershipException.objects.create(
        group=company.office,
        employee=company.production_worker,
        kind=MembershipException.Kind.INCLUDE,
        reason="临时借调",
        approved_by=company.hr_head,
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    reconcile(company.office, *compliant_rows(), "一车间-刘洋")
    assert open_findings(company.office) == {(Finding.Kind.INELIGIBLE, "JM007")}


def test_left_group_and_joined_between_two_snapshots(company):
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["快递小哥"]
    reconcile(company.office, *rows)
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    assert left.employee == company.wang_fang
    assert left.clause == "9.5"
    assert left.decision == Finding.Decision.PENDING  # HR decides, never automatic
    assert not hasattr(left, "action") or left.action is None
    joined = Finding.objects.get(kind=Finding.Kind.JOINED)
    assert joined.display_name == "快递小哥"
    assert joined.status == Finding.Status.RESOLVED  # information only


def test_a_pending_left_group_waits_for_hr_whatever_later_snapshots_show(company):
    # §9.5 is HR's decision: the next upload (she is still gone, or back again) never closes
    # the question HR has not answered yet.
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    reconcile(company.office, *rows)
    reconcile(company.office, *rows)
    reconcile(company.office, *compliant_rows())
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    assert (left.status, left.decision, left.resolved_at) == (
        Finding.Status.OPEN,
        Finding.Decision.PENDING,
        None,
    )


def test_reconciling_the_same_snapshot_twice_changes_nothing(company):
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["快递小哥", "陈静", "张伟"]
    snapshot, first = reconcile(company.office, *rows)
    findings = list(Finding.objects.order_by("pk").values())
    actions = list(RosterAction.objects.order_by("pk").values())
    second = snapshot_reconcile(snapshot=snapshot)
    assert list(Finding.objects.order_by("pk").values()) == findings
    assert list(RosterAction.objects.order_by("pk").values()) == actions
    assert first.opened == len(findings)
    assert second.opened == 0


def test_a_later_snapshot_showing_the_fix_closes_finding_and_action(company):
    reconcile(company.office, *compliant_rows(), "快递小哥", "陈静")
    assert RosterAction.objects.filter(status=RosterAction.Status.OPEN).count() == 2
    snapshot, result = reconcile(company.office, *compliant_rows())
    assert open_findings(company.office) == set()
    assert result.resolved == 2
    assert not RosterAction.objects.filter(status=RosterAction.Status.OPEN).exists()
    stranger = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert stranger.resolved_by == snapshot


def test_a_finding_still_there_later_is_kept_not_duplicated(company):
    first, _ = reconcile(company.office, *compliant_rows(), "快递小哥")
    second, _ = reconcile(company.office, *compliant_rows(), "快递小哥")
    stranger = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert (stranger.first_seen, stranger.last_seen) == (first, second)
    assert RosterAction.objects.count() == 1


def test_an_older_snapshot_is_skipped(company):
    old = capture(company.office, "快递小哥", taken_at=timezone.now() - dt.timedelta(days=60))
    reconcile(company.office, *compliant_rows())
    result = snapshot_reconcile(snapshot=old)
    assert result.skipped
    assert open_findings(company.office) == set()


def test_missing_is_judged_across_a_family(company):
    second = ChatGroupFactory(
        code="office-2", name="办公2群", family=company.office, creator=company.hr_head
    )
    reconcile(company.office, "人力资源部-赵敏", "一车间-张伟")
    # Only one of the family has a snapshot: nobody can be called missing yet.
    assert not Finding.objects.filter(kind=Finding.Kind.MISSING).exists()
    reconcile(second, "销售部-张伟", "销售部-李娜")
    missing = Finding.objects.filter(kind=Finding.Kind.MISSING, status=Finding.Status.OPEN)
    assert {f.employee.employee_no for f in missing} == {"JM005"}
    assert {f.group for f in missing} == {company.office}  # on the family's first group


def test_family_member_uses_family_rules_for_ineligible(company):
    second = ChatGroupFactory(code="office-2", name="办公2群", family=company.office)
    reconcile(second, "一车间-刘洋")
    assert (Finding.Kind.INELIGIBLE, "JM007") in open_findings(second)


def test_compliance_rate_counts_members_with_findings(company):
    snapshot, _ = reconcile(company.office, *compliant_rows(), "快递小哥", "陈静", "李娜")
    snapshot.refresh_from_db()
    # 8 rows: the stranger, the departed one and the second 李娜 row
    # (NOT_REAL_NAME, and DUPLICATE_ACCOUNT with the first) are findings.
    assert snapshot.member_count == 8
    assert snapshot.members_with_findings == 4
    assert snapshot.compliance_rate == pytest.approx(4 / 8)


def test_departed_employee_never_counts_as_missing(company):
    reconcile(company.office, *compliant_rows())
    assert not Finding.objects.filter(employee=company.departed).exists()


def test_new_employee_is_missing_after_the_next_reconciliation(company):
    snapshot, _ = reconcile(company.office, *compliant_rows())
    newcomer = EmployeeFactory(
        name="孙丽", department=company.li_na.department, category="admin", employee_no="JM099"
    )
    snapshot_reconcile(snapshot=snapshot)
    assert open_findings(company.office) == {(Finding.Kind.MISSING, newcomer.employee_no)}


def test_confirming_who_the_stranger_is_closes_their_left_group(
    company, superuser, django_capture_on_commit_callbacks
):
    # §9.5: 王芳 was in the group under her real name; the next list shows a nickname
    # without a WeChat id, so she looks gone and a stranger looks new.
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["芳芳🌸"]
    snapshot, _ = reconcile(company.office, *rows)
    assert open_findings(company.office) == {
        (Finding.Kind.LEFT_GROUP, "JM005"),
        (Finding.Kind.MISSING, "JM005"),
        (Finding.Kind.STRANGER, "芳芳🌸"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        member_identity_remember(
            group=company.office, display_name="芳芳🌸", employee=company.wang_fang, actor=superuser
        )
    # She never left: what remains is the nickname (§5.3.b), not a §9.5 question for HR.
    assert open_findings(company.office) == {(Finding.Kind.NOT_REAL_NAME, "JM005")}
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    assert (left.status, left.resolved_by, left.decision) == (
        Finding.Status.RESOLVED,
        snapshot,
        "",
    )
    # Nor did 芳芳🌸 join: the 新入群 stays for the record, resolved by the snapshot.
    joined = Finding.objects.get(kind=Finding.Kind.JOINED)
    assert (joined.display_name, joined.status, joined.resolved_by, joined.decision) == (
        "芳芳🌸",
        Finding.Status.RESOLVED,
        snapshot,
        "",
    )
    report = findings_for_report(group=company.office, snapshot=snapshot)
    assert Finding.Kind.JOINED not in {f["kind"] for f in report}


def test_a_joined_event_found_to_be_a_known_member_stays_put_on_a_rerun(
    company, superuser, django_capture_on_commit_callbacks
):
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["芳芳🌸"]
    snapshot, _ = reconcile(company.office, *rows)
    with django_capture_on_commit_callbacks(execute=True):
        member_identity_remember(
            group=company.office, display_name="芳芳🌸", employee=company.wang_fang, actor=superuser
        )
    findings = list(Finding.objects.order_by("pk").values())
    actions = list(RosterAction.objects.order_by("pk").values())
    again = snapshot_reconcile(snapshot=snapshot)
    assert list(Finding.objects.order_by("pk").values()) == findings
    assert list(RosterAction.objects.order_by("pk").values()) == actions
    assert (again.opened, again.resolved) == (0, 0)


def test_forgetting_that_identity_makes_the_joined_event_new_again(
    company, superuser, django_capture_on_commit_callbacks
):
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["芳芳🌸"]
    snapshot, _ = reconcile(company.office, *rows)
    joined_pk = Finding.objects.get(kind=Finding.Kind.JOINED).pk
    with django_capture_on_commit_callbacks(execute=True):
        identity = member_identity_remember(
            group=company.office, display_name="芳芳🌸", employee=company.wang_fang, actor=superuser
        )
    with django_capture_on_commit_callbacks(execute=True):
        member_identity_forget(identity=identity, actor=superuser)
    joined = Finding.objects.get(kind=Finding.Kind.JOINED)
    assert (joined.pk, joined.status, joined.resolved_by) == (
        joined_pk,
        Finding.Status.RESOLVED,
        None,
    )
    assert Finding.Kind.JOINED in {
        f["kind"] for f in findings_for_report(group=company.office, snapshot=snapshot)
    }


def test_forgetting_that_identity_puts_the_left_group_question_back(
    company, superuser, django_capture_on_commit_callbacks
):
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["芳芳🌸"]
    reconcile(company.office, *rows)
    with django_capture_on_commit_callbacks(execute=True):
        identity = member_identity_remember(
            group=company.office, display_name="芳芳🌸", employee=company.wang_fang, actor=superuser
        )
    with django_capture_on_commit_callbacks(execute=True):
        member_identity_forget(identity=identity, actor=superuser)
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    assert (left.status, left.resolved_by, left.decision) == (
        Finding.Status.OPEN,
        None,
        Finding.Decision.PENDING,
    )
    assert (Finding.Kind.LEFT_GROUP, "JM005") in open_findings(company.office)


def test_a_decided_left_group_stays_decided_when_the_member_is_identified(
    company, superuser, django_capture_on_commit_callbacks
):
    reconcile(company.office, *compliant_rows())
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["芳芳🌸"]
    reconcile(company.office, *rows)
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    finding_decide_left_group(finding=left, propose_case=False, actor=superuser)
    with django_capture_on_commit_callbacks(execute=True):
        member_identity_remember(
            group=company.office, display_name="芳芳🌸", employee=company.wang_fang, actor=superuser
        )
    left.refresh_from_db()
    assert (left.status, left.decision, left.decided_by) == (
        Finding.Status.RESOLVED,
        Finding.Decision.NO_CASE,
        superuser,
    )
