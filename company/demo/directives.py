"""The demo's directives (§7.2) and questions (§9.9), made through directives' services with
dates relative to ``now``, and the overdue ones proposed by the follow-up the beat task runs
— so the "指令逾期" and "问题逾期未回复" cases in the demo come from the real path:

- a directive done and accepted, one pending in 管理群 (to the employee persona and someone of
  the head persona's workshop; one acknowledged), and three late: one left in HR's queue, two
  a head gave — one confirmed (§9.8: the department head's joint case), one confirmed,
  appealed and overturned (the joint case with it);
- a question answered and confirmed, one replied and awaiting the asker, one open, and one
  overdue to the head persona's workshop in 管理群 (its reply time set explicitly: ReplySla):
  confirmed, their own §9.9 case on /me/cases/.

Runs before company.demo.cases (whose HR logins it shares); a second run makes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from common.actors import SystemActor
from company import roles
from company.demo.case_people import demo_hr_logins, explained_by_employee, offenders
from company.demo.cases import HEAD_PERSONA_DEPARTMENT
from directives.models import Directive, DirectiveAssignment, Question, ReplySla
from directives.selectors import may_issue
from directives.services import (
    assignment_accept,
    assignment_acknowledge,
    assignment_done,
    directive_create,
    directives_follow_up,
    question_confirm,
    question_raise,
    question_reply,
)
from groups.models import ChatGroup
from members.models import Department, Employee
from violations.models import Case
from violations.services import case_appeal, case_confirm, case_decide_appeal

DEMO = SystemActor("demo")


@dataclass(frozen=True)
class DemoDirectivesSummary:
    directives: int
    assignments: dict[str, int]  # state label -> count
    questions: dict[str, int]  # state label -> count
    proposed: int  # cases the follow-up proposed in this run


def demo_directives_apply(
    *,
    seed: int,
    now: dt.datetime | None = None,
    reserved_employee_nos: Iterable[str] = (),
    own_cases_employee_no: str | None = None,
) -> DemoDirectivesSummary:
    """Give the demo company its directives and questions, once (module docstring)."""
    proposed = 0
    if not Directive.objects.exists():
        proposed = _make(
            seed=seed,
            now=now or timezone.now(),
            reserved=set(reserved_employee_nos),
            own_cases_employee_no=own_cases_employee_no,
        )
    return _summary(proposed)


def _issuer(assignee: Employee, *, head: bool = False) -> Employee:
    """The leader persona's employee when they may issue (a login in the leaders' role),
    else — or when ``head`` — the assignee's department head (§7.2: a company leader or a
    department head)."""
    leader = (
        Employee.objects.filter(user__groups__name=roles.COMPANY_LEADERS)
        .select_related("user")
        .order_by("employee_no")
        .first()
    )
    if not head and leader is not None and may_issue(leader):
        return leader
    return assignee.department.head or assignee


@transaction.atomic
def _make(
    *, seed: int, now: dt.datetime, reserved: set[str], own_cases_employee_no: str | None
) -> int:
    clerk, reviewer = demo_hr_logins(reserved)
    rng = random.Random(f"{seed}:directives")
    _anyone, staff = offenders(rng, own_cases_employee_no)

    def office(i: int) -> Employee:  # a small demo company has few office staff
        return staff[i % len(staff)]

    groups = {g.code: g for g in ChatGroup.objects.filter(family=None)}
    work, management = groups["work"], groups["management"]
    local_now = timezone.localtime(now)

    def days_ago(days: int, hour: int) -> dt.datetime:
        moment = (local_now - dt.timedelta(days=days)).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        return min(moment, local_now)  # never in the future, whenever the demo runs

    def last_month(day: int, hour: int = 9) -> dt.datetime:
        end = local_now.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=min(day, end.day), hour=hour, minute=0, second=0, microsecond=0)

    def directive(text, people, given_at, days, *, group=work, by_head=False):
        return directive_create(
            text=text,
            issuer=_issuer(people[0], head=by_head),
            group=group,
            given_at=given_at,
            working_days=days,
            employees=people,
            actor=DEMO,
            now=given_at,  # recorded when it was given: the demo replays the past
        )

    def finish(assignment: DirectiveAssignment, note: str) -> DirectiveAssignment:
        assignment_acknowledge(assignment=assignment, actor=DEMO)
        return assignment_done(assignment=assignment, note=note, actor=DEMO)

    # --- directives ---------------------------------------------------------------------
    done = directive(
        "整理本部门上月客户回访记录，发到工作群", [office(1), office(2)], days_ago(6, 9), 3
    )
    for assignment in done.assignments.all():
        assignment_accept(
            assignment=finish(assignment, "回访记录已整理并发到工作群。"), actor=clerk
        )
    own = Employee.objects.filter(employee_no=own_cases_employee_no).first()
    head_workshop = Department.objects.get(path=HEAD_PERSONA_DEPARTMENT)
    # One of the head persona's workshop too, so that they find it in their department's.
    worker = (
        Employee.objects.active()
        .filter(department=head_workshop, user__isnull=True, headed_departments=None)
        .order_by("employee_no")
        .first()
    )
    pending_people = [office(4), *(e for e in (own, worker) if e is not None)]
    pending = directive(
        "下周一前提交本季度培训需求", pending_people, days_ago(0, 8), 3, group=management
    )
    assignment_acknowledge(assignment=pending.assignments.first(), actor=DEMO)
    stocktake = directive(
        "月度盘点安排：各部门按附表完成盘点并回复结果", [office(0)], last_month(9), 1, by_head=True
    )
    report = directive("提交上周工作周报", [office(3)], last_month(20), 1, by_head=True)
    directive("核对本部门考勤异常并说明原因", [office(5)], days_ago(5, 9), 1)

    # --- questions ----------------------------------------------------------------------
    def question(text, department, asker, raised_at, group=work):
        return question_raise(
            text=text,
            group=group,
            department=department,
            raised_by=asker,
            raised_at=raised_at,
            actor=DEMO,
            now=raised_at,  # recorded when it was raised
        )

    # §9.9: 管理群's questions are answered within one working day, set explicitly here.
    ReplySla.objects.get_or_create(group=management, defaults={"working_days": 1})
    asked = [office(6), office(7), office(8)]
    answered = question("报销单据交到哪里？", asked[0].department, asked[0], days_ago(3, 10))
    question_reply(question=answered, reply="交到财务部前台，每周二、四收单。", actor=DEMO)
    question_confirm(question=answered, actor=DEMO)
    replied = question("新员工工牌多久能办好？", asked[1].department, asked[1], days_ago(2, 11))
    question_reply(question=replied, reply="三个工作日，办好后通知本人领取。", actor=DEMO)
    question("仓库周六是否收货？", asked[2].department, asked[2], days_ago(0, 8))
    question("一车间本周加班安排是什么？", head_workshop, asked[0], last_month(18, 16), management)

    # --- past the deadlines: what the beat task would propose, then HR's decisions ------
    proposed = directives_follow_up(actor=DEMO, now=now)
    count = proposed.directives_proposed + proposed.questions_proposed

    def case_of(source_key: str) -> Case:
        return Case.objects.get(source_key=source_key)

    stocktake_case = explained_by_employee(
        case_of(f"directive-assignment:{stocktake.assignments.get().pk}"),
        "盘点当天在外地客户处，未看到群内指令。",
    )
    case_confirm(
        case=stocktake_case, actor=reviewer, comment="已读未回复，逾期未执行；部门负责人连带。"
    )
    report_case = case_confirm(
        case=explained_by_employee(
            case_of(f"directive-assignment:{report.assignments.get().pk}"),
            "指令发出时本人在外地出差，已提前请假。",
        ),
        actor=reviewer,
        comment="逾期属实。",
    )
    # Registered by the confirmer, so that the clerk may decide it (nobody decides an
    # appeal they filed: violations.services.guards.own_interest).
    case_appeal(
        case=report_case,
        actor=reviewer,
        comment="员工本人提出（人力资源部代为登记）：指令发出时本人在外地出差，已提前请假。",
    )
    case_decide_appeal(
        case=report_case,
        actor=clerk,
        uphold=False,
        comment="请假审批记录属实，逾期有正当理由，撤销处理，部门负责人连带记录一并撤销。",
    )
    overdue_question = Question.objects.get(department=head_workshop)
    case_confirm(
        case=explained_by_employee(case_of(f"question:{overdue_question.pk}")),
        actor=reviewer,
        comment="问题记录属实。",
    )
    return count


def _summary(proposed: int) -> DemoDirectivesSummary:
    def by_state(model, choices) -> dict[str, int]:
        counts = dict(
            model.objects.order_by()
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
        return {label: counts.get(value, 0) for value, label in choices}

    return DemoDirectivesSummary(
        directives=Directive.objects.count(),
        assignments=by_state(DirectiveAssignment, DirectiveAssignment.State.choices),
        questions=by_state(Question, Question.State.choices),
        proposed=proposed,
    )
