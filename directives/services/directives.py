"""A directive's life (§7.2): recorded with its assignees expanded to people, then per
assignee assigned → acknowledged → done (with a note) → accepted, or reopened (→ acknowledged
again). One transitions table, one move function, an audit row per move; a forbidden move
raises DirectiveError and changes nothing.

Guarantees, whoever calls:
- the issuer is a company leader or a department head (§7.2);
- only the assignee acknowledges and marks done (the system too: the demo), or HR / the issuer
  on their behalf (an assignee without a login reports by word of mouth; the row says 代为登记);
  done needs a note;
- only HR or the issuer accepts or reopens, never the assignee about their own work;
- the deadline is an aware datetime after the given time, still ahead when it is recorded and
  on a working day, or N working days from the later of the given time and the recording
  (a backdated record leaves the assignees the window they were never told about);
- each assignment carries its own due_at: the deadline at creation; a reopening gives one more
  working day from the moment it is sent back (done on time, reopened late, is not late).
What happens past the deadline (a proposed §7.2 case) is follow_up.py's; HR decides it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.actors import Actor, actor_user, require_actor
from common.exceptions import ServiceError
from directives import selectors
from directives.models import Directive, DirectiveAssignment, DirectiveTransition
from directives.services.directive_notices import directive_tell_assignees, directive_tell_done
from groups.models import ChatGroup
from members.models import Department, Employee
from workdays.selectors import is_working_day, working_day_overrides, working_days_after

State = DirectiveAssignment.State
ALLOWED = {
    (State.ASSIGNED, State.ACKNOWLEDGED),
    (State.ACKNOWLEDGED, State.DONE),
    (State.DONE, State.ACCEPTED),
    (State.DONE, State.REOPENED),
    (State.REOPENED, State.ACKNOWLEDGED),
}

ERROR_FORBIDDEN = "指令执行记录当前为“{current}”，不能改为“{target}”。"
ERROR_NOT_ISSUER_ROLE = "下达指令的须是公司领导或部门负责人（§7.2）：{issuer} 不是。"
ERROR_RECORD_FORBIDDEN = "只有人力资源部、下达人本人或该群的群主、管理员可以登记这条指令。"
ERROR_NO_ASSIGNEES = "请至少指定一名在职的执行人或一个有在职员工的部门。"
ERROR_DEADLINE = "请给出完成期限：具体时间或工作日数，二者选一。"
ERROR_DEADLINE_BEFORE = "完成期限必须晚于下达时间。"
ERROR_TEXT_REQUIRED = "请填写指令内容。"
ERROR_DEADLINE_PAST = (
    "完成期限 {deadline:%Y年%-m月%-d日 %H:%M} 在登记时已经过去，执行人无从完成；请给出新的期限。"
)
ERROR_DEADLINE_DAY_OFF = "截止时间 {day:%Y年%-m月%-d日} 是{kind}，请改为工作日。"
ERROR_NOT_ASSIGNEE = "只有执行人本人，或人力资源部、下达人代为登记，可以确认收到或报告完成。"
ERROR_NOTE_REQUIRED = "报告完成时请写明完成情况。"
ERROR_NOT_DECIDER = "只有人力资源部或下达人可以验收或退回；执行人不能验收自己的工作。"
ERROR_COMMENT_REQUIRED = "退回时请写明原因。"
ON_BEHALF = "代为登记：{comment}"
# §7.2: a reopened assignment gets this many working days from the moment it is sent back.
REOPEN_WORKING_DAYS = 1


class DirectiveError(ServiceError):
    """A refused directive or move; the message says why, in Chinese."""


def record_transition(
    assignment: DirectiveAssignment, from_state: str, actor: Actor, comment: str
) -> DirectiveTransition:
    return DirectiveTransition.objects.create(
        assignment=assignment,
        from_state=from_state,
        to_state=assignment.state,
        actor=actor_user(actor),
        comment=comment,
    )


def _check_move(assignment: DirectiveAssignment, target: str) -> None:
    if (assignment.state, target) not in ALLOWED:
        raise DirectiveError(
            ERROR_FORBIDDEN.format(
                current=assignment.get_state_display(), target=State(target).label
            )
        )


def _move(
    assignment: DirectiveAssignment,
    target: str,
    *,
    actor: Actor,
    comment: str = "",
    fields: tuple[str, ...] = (),
) -> DirectiveAssignment:
    """The one place an assignment changes state: checks the move, saves, writes the row."""
    _check_move(assignment, target)
    previous = assignment.state
    assignment.state = target
    assignment.save(update_fields=["state", *fields])
    record_transition(assignment, previous, actor, comment)
    return assignment


def _locked(assignment: DirectiveAssignment) -> DirectiveAssignment:
    return (
        DirectiveAssignment.objects.select_for_update(of=("self",))
        .select_related("directive__issuer", "employee")
        .get(pk=assignment.pk)
    )


def expand_assignees(
    employees: Iterable[Employee], departments: Iterable[Department]
) -> list[Employee]:
    """The people a directive names: the employees given and every active employee of the
    departments given (sub-departments included), each once — as they are now (§7.2: who
    was there when it was given answers for it)."""
    q = Q(pk__in=[e.pk for e in employees])
    for department in departments:
        q |= department.subtree_q("department__")
    return list(Employee.objects.active().filter(q).order_by("employee_no"))


@transaction.atomic
def directive_create(
    *,
    text: str,
    issuer: Employee,
    group: ChatGroup,
    given_at: dt.datetime,
    actor: Actor,
    deadline: dt.datetime | None = None,
    working_days: int | None = None,
    employees: Iterable[Employee] = (),
    departments: Iterable[Department] = (),
    now: dt.datetime | None = None,
) -> Directive:
    """Record a directive given in ``group`` with its assignees expanded to people (one
    DirectiveAssignment each, "" → assigned in its timeline); the deadline is ``deadline``
    or ``working_days`` working days from ``given_at``."""
    require_actor(actor)
    text = (text or "").strip()
    if not text:
        raise DirectiveError(ERROR_TEXT_REQUIRED)
    if not selectors.may_record_directive(actor, group, issuer):
        raise DirectiveError(ERROR_RECORD_FORBIDDEN)
    if not selectors.may_issue(issuer):
        raise DirectiveError(ERROR_NOT_ISSUER_ROLE.format(issuer=issuer))
    if (deadline is None) == (working_days is None):
        raise DirectiveError(ERROR_DEADLINE)
    now = now or timezone.now()
    if working_days is not None:
        # Counted from when the assignees could know of it at the latest: the recording.
        deadline = working_days_after(max(given_at, now), working_days)
    if deadline is None or deadline <= given_at:
        raise DirectiveError(ERROR_DEADLINE_BEFORE)
    if working_days is None:
        _check_explicit_deadline(deadline, now)
    people = expand_assignees(employees, departments)
    if not people:
        raise DirectiveError(ERROR_NO_ASSIGNEES)
    directive = Directive(
        text=text,
        issuer=issuer,
        group=group,
        given_at=given_at,
        deadline=deadline,
        created_by=actor_user(actor),
    )
    directive.full_clean()
    directive.save()
    assignments = DirectiveAssignment.objects.bulk_create(
        DirectiveAssignment(directive=directive, employee=person, due_at=deadline)
        for person in people
    )
    user = actor_user(actor)
    DirectiveTransition.objects.bulk_create(
        DirectiveTransition(
            assignment=a, from_state="", to_state=State.ASSIGNED, actor=user, comment="下达"
        )
        for a in assignments
    )
    directive_tell_assignees(directive, assignments, actor, now=now)  # each assignee's inbox
    return directive


def _check_explicit_deadline(deadline: dt.datetime, now: dt.datetime) -> None:
    """An explicit deadline must leave a window and fall on a working day."""
    if deadline <= now:
        raise DirectiveError(
            ERROR_DEADLINE_PAST.format(
                deadline=timezone.localtime(deadline, timezone.get_default_timezone())
            )
        )
    day = timezone.localdate(deadline, timezone.get_default_timezone())
    if not is_working_day(day):
        # A day off in the holiday table is a holiday (Oct 3 of National Day is a Saturday too).
        kind = "法定假日" if day in working_day_overrides(day, day) else "周末"
        raise DirectiveError(ERROR_DEADLINE_DAY_OFF.format(day=day, kind=kind))


def _on_behalf(assignment: DirectiveAssignment, actor: Actor, comment: str) -> str:
    """The comment of the row; refused unless the assignee, or HR / the issuer for them."""
    require_actor(actor)
    if actor.pk is None or assignment.employee.user_id == actor.pk:
        return comment  # the system (the demo), or the assignee themselves
    if selectors.may_decide_assignment(actor, assignment):
        return ON_BEHALF.format(comment=comment)
    raise DirectiveError(ERROR_NOT_ASSIGNEE)


@transaction.atomic
def assignment_acknowledge(*, assignment: DirectiveAssignment, actor: Actor) -> DirectiveAssignment:
    """The assignee confirms having received it (again, after a reopening); HR or the issuer
    may record it for them."""
    assignment = _locked(assignment)
    comment = _on_behalf(assignment, actor, "确认收到")
    return _move(assignment, State.ACKNOWLEDGED, actor=actor, comment=comment)


@transaction.atomic
def assignment_done(
    *,
    assignment: DirectiveAssignment,
    note: str,
    actor: Actor,
    now: dt.datetime | None = None,
) -> DirectiveAssignment:
    """The assignee reports it done, saying how (HR or the issuer may record it for them);
    HR or the issuer then accepts or reopens."""
    assignment = _locked(assignment)
    _on_behalf(assignment, actor, "")
    note = (note or "").strip()
    if not note:
        raise DirectiveError(ERROR_NOTE_REQUIRED)
    _check_move(assignment, State.DONE)
    assignment.note = note
    assignment.done_at = now or timezone.now()
    comment = _on_behalf(assignment, actor, note)
    _move(assignment, State.DONE, actor=actor, comment=comment, fields=("note", "done_at"))
    directive_tell_done(assignment, actor)  # waits for the issuer's acceptance (待验收)
    return assignment


def _refuse_unless_decider(assignment: DirectiveAssignment, actor: Actor) -> None:
    require_actor(actor)
    if not selectors.may_decide_assignment(actor, assignment):
        raise DirectiveError(ERROR_NOT_DECIDER)


@transaction.atomic
def assignment_accept(
    *, assignment: DirectiveAssignment, actor: Actor, comment: str = ""
) -> DirectiveAssignment:
    """HR or the issuer accepts the work reported done."""
    assignment = _locked(assignment)
    _refuse_unless_decider(assignment, actor)
    return _move(assignment, State.ACCEPTED, actor=actor, comment=comment.strip() or "验收")


@transaction.atomic
def assignment_reopen(
    *,
    assignment: DirectiveAssignment,
    actor: Actor,
    comment: str,
    now: dt.datetime | None = None,
) -> DirectiveAssignment:
    """HR or the issuer sends it back with the reason; the assignee acknowledges it again and
    has REOPEN_WORKING_DAYS from now to redo it (a fresh reminder too)."""
    assignment = _locked(assignment)
    _refuse_unless_decider(assignment, actor)
    comment = (comment or "").strip()
    if not comment:
        raise DirectiveError(ERROR_COMMENT_REQUIRED)
    _check_move(assignment, State.REOPENED)
    assignment.due_at = working_days_after(now or timezone.now(), REOPEN_WORKING_DAYS)
    assignment.reminded_at = None
    return _move(
        assignment,
        State.REOPENED,
        actor=actor,
        comment=comment,
        fields=("due_at", "reminded_at"),
    )
