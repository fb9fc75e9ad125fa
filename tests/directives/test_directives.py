"""A directive's life (§7.2): recorded with its assignees expanded, then per assignee
acknowledged, done with a note, accepted or reopened — and every refusal."""

from __future__ import annotations

import pytest

from directives.models import Directive, DirectiveAssignment
from directives.services import (
    DirectiveError,
    assignment_accept,
    assignment_acknowledge,
    assignment_done,
    assignment_reopen,
    directive_create,
)
from directives.services.directives import (
    ERROR_COMMENT_REQUIRED,
    ERROR_DEADLINE,
    ERROR_DEADLINE_BEFORE,
    ERROR_NO_ASSIGNEES,
    ERROR_NOT_ASSIGNEE,
    ERROR_NOT_DECIDER,
    ERROR_NOTE_REQUIRED,
    ERROR_RECORD_FORBIDDEN,
)
from tests.directives.conftest import SYSTEM, at
from tests.factories import EmployeeFactory

State = DirectiveAssignment.State


@pytest.fixture
def directive(hr, boss, office, staff, national_day) -> Directive:
    return directive_create(
        text="国庆后第一天提交九月销售报表",
        issuer=boss,
        group=office,
        given_at=at(9, 30),
        now=at(9, 30),
        working_days=1,
        employees=staff,
        actor=hr,
    )


def _assignment(directive: Directive, user) -> DirectiveAssignment:
    return directive.assignments.select_related("employee").get(employee__user=user)


def test_departments_are_expanded_to_their_people_at_creation(hr, boss, office, sales, staff):
    EmployeeFactory(name="后来者", department=sales)
    EmployeeFactory(name="已离职", department=sales, left=True)
    directive = directive_create(
        text="全体销售更新客户台账",
        issuer=boss,
        group=office,
        given_at=at(11, 2),
        now=at(11, 2),
        deadline=at(11, 4, 18),
        departments=[sales],
        employees=[staff[0]],  # named twice (also in 销售部): one assignment
        actor=hr,
    )
    names = set(directive.assignments.values_list("employee__name", flat=True))
    assert names == {"郭杰华", "张伟", "刘洋", "后来者"}  # not who had left
    assert set(directive.assignments.values_list("state", flat=True)) == {State.ASSIGNED}
    first = directive.assignments.first().transitions.get()
    assert (first.from_state, first.to_state, first.actor) == ("", State.ASSIGNED, hr)


def test_deadline_in_working_days_skips_the_holiday(directive):
    # Wednesday Sep 30 + 1 working day: Oct 1–7 are National Day, so Thursday Oct 8.
    assert directive.deadline == at(10, 8)


def test_deadline_in_working_days_counts_the_make_up_saturday(
    hr, boss, office, staff, national_day
):
    directive = directive_create(
        text="三个工作日内完成", issuer=boss, group=office, given_at=at(9, 30), now=at(9, 30),
        working_days=3, employees=staff, actor=hr,
    )  # fmt: skip
    assert directive.deadline == at(10, 10)  # Thu 8, Fri 9, Saturday 10 (调休 working day)


def test_issuer_must_be_a_leader_or_a_head(hr, office, staff):
    clerk = EmployeeFactory(name="普通员工")
    with pytest.raises(DirectiveError, match="公司领导或部门负责人"):
        directive_create(
            text="x", issuer=clerk, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 2),
            employees=staff, actor=hr,
        )  # fmt: skip
    assert not Directive.objects.exists()


def test_a_head_may_issue_and_record_their_own(department_head, office, staff):
    head = department_head.employee
    directive = directive_create(
        text="本周拜访三家客户", issuer=head, group=office, given_at=at(9, 1), now=at(9, 1),
        deadline=at(9, 4), employees=staff, actor=department_head,
    )  # fmt: skip
    assert directive.created_by == department_head


def test_group_admin_records_for_their_group_outsider_may_not(
    group_admin, outsider, boss, office, staff
):
    kwargs = dict(
        text="x",
        issuer=boss,
        group=office,
        given_at=at(9, 1),
        now=at(9, 1),
        deadline=at(9, 2),
        employees=staff,
    )
    assert directive_create(**kwargs, actor=group_admin).assignments.count() == 2
    with pytest.raises(DirectiveError, match=ERROR_RECORD_FORBIDDEN):
        directive_create(**kwargs, actor=outsider)


@pytest.mark.parametrize(
    ("deadline", "working_days", "error"),
    [(None, None, ERROR_DEADLINE), (at(9, 1), None, ERROR_DEADLINE_BEFORE)],
)
def test_deadline_is_required_and_after_the_order(
    hr, boss, office, staff, deadline, working_days, error
):
    with pytest.raises(DirectiveError, match=error):
        directive_create(
            text="x", issuer=boss, group=office, given_at=at(9, 1, 12), now=at(9, 1, 12), deadline=deadline,
            working_days=working_days, employees=staff, actor=hr,
        )  # fmt: skip


def test_no_assignees_is_refused(hr, boss, office):
    left = EmployeeFactory(left=True)
    with pytest.raises(DirectiveError, match=ERROR_NO_ASSIGNEES):
        directive_create(
            text="x", issuer=boss, group=office, given_at=at(9, 1), now=at(9, 1), deadline=at(9, 2),
            employees=[left], actor=hr,
        )  # fmt: skip


def test_assignee_acknowledges_then_reports_done_with_a_note(directive, staff):
    user = staff[0].user
    assignment = assignment_acknowledge(assignment=_assignment(directive, user), actor=user)
    assert assignment.state == State.ACKNOWLEDGED
    assignment = assignment_done(
        assignment=assignment, note="报表已发到群里", actor=user, now=at(10, 8, 9)
    )
    assert (assignment.state, assignment.note, assignment.done_at) == (
        State.DONE,
        "报表已发到群里",
        at(10, 8, 9),
    )
    moves = list(assignment.transitions.values_list("from_state", "to_state", "actor"))
    assert moves == [
        ("", State.ASSIGNED, directive.created_by_id),
        (State.ASSIGNED, State.ACKNOWLEDGED, user.pk),
        (State.ACKNOWLEDGED, State.DONE, user.pk),
    ]


def test_only_the_assignee_acknowledges_or_reports_done(directive, staff):
    other = staff[1].user
    assignment = _assignment(directive, staff[0].user)
    with pytest.raises(DirectiveError, match=ERROR_NOT_ASSIGNEE):
        assignment_acknowledge(assignment=assignment, actor=other)
    with pytest.raises(DirectiveError, match=ERROR_NOT_ASSIGNEE):
        assignment_done(assignment=assignment, note="替他完成", actor=other)
    assignment.refresh_from_db()
    assert assignment.state == State.ASSIGNED


def test_done_needs_a_note_and_an_acknowledgement_first(directive, staff):
    user = staff[0].user
    assignment = _assignment(directive, user)
    with pytest.raises(DirectiveError, match="不能改为“已完成"):
        assignment_done(assignment=assignment, note="做完了", actor=user)
    assignment_acknowledge(assignment=assignment, actor=user)
    with pytest.raises(DirectiveError, match=ERROR_NOTE_REQUIRED):
        assignment_done(assignment=assignment, note="  ", actor=user)
    assignment.refresh_from_db()
    assert (assignment.state, assignment.transitions.count()) == (State.ACKNOWLEDGED, 2)


def _done(directive, user) -> DirectiveAssignment:
    assignment = assignment_acknowledge(assignment=_assignment(directive, user), actor=user)
    return assignment_done(assignment=assignment, note="已完成", actor=user)


def test_hr_accepts(directive, staff, hr2):
    assignment = assignment_accept(assignment=_done(directive, staff[0].user), actor=hr2)
    assert assignment.state == State.ACCEPTED
    with pytest.raises(DirectiveError, match="不能改为“已完成"):
        assignment_done(assignment=assignment, note="again", actor=staff[0].user)


def test_issuer_reopens_with_a_reason_and_the_assignee_acknowledges_again(directive, staff, leader):
    user = staff[0].user
    assignment = _done(directive, user)
    with pytest.raises(DirectiveError, match=ERROR_COMMENT_REQUIRED):
        assignment_reopen(assignment=assignment, actor=leader, comment="")
    assignment = assignment_reopen(assignment=assignment, actor=leader, comment="缺少华东区数据")
    assert assignment.state == State.REOPENED
    assignment = assignment_acknowledge(assignment=assignment, actor=user)
    assert assignment.state == State.ACKNOWLEDGED
    assert assignment.transitions.filter(comment="缺少华东区数据", actor=leader).exists()


@pytest.mark.parametrize("who", ["assignee", "colleague", "department_head"])
def test_only_hr_or_the_issuer_accepts(directive, staff, department_head, who):
    assignment = _done(directive, staff[0].user)
    actor = {
        "assignee": staff[0].user,
        "colleague": staff[1].user,
        "department_head": department_head,
    }[who]
    with pytest.raises(DirectiveError, match=ERROR_NOT_DECIDER):
        assignment_accept(assignment=assignment, actor=actor)
    with pytest.raises(DirectiveError, match=ERROR_NOT_DECIDER):
        assignment_reopen(assignment=assignment, actor=actor, comment="不行")
    assignment.refresh_from_db()
    assert assignment.state == State.DONE


def test_accepting_what_is_not_done_is_refused(directive, staff, hr):
    with pytest.raises(DirectiveError, match="不能改为“已验收"):
        assignment_accept(assignment=_assignment(directive, staff[0].user), actor=hr)


def test_the_system_may_act_for_the_demo(directive, staff):
    assignment = _assignment(directive, staff[0].user)
    assignment_acknowledge(assignment=assignment, actor=SYSTEM)
    assignment = assignment_done(assignment=assignment, note="演示", actor=SYSTEM)
    assert assignment.transitions.last().actor is None
