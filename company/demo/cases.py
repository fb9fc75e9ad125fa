"""Demo cases: the case workflow (§7.1) as HR meets it, in every state.

On the demo company (company.demo.write) with its reconciled rosters (company.demo.rosters), a
deterministic mix of cases, every one made through violations.services exactly as
the pages would: proposals from reconciliation, screening, overdue directives and
questions; cases filed by a group's admin; HR's confirmations (a repeat offence
that escalates, a §9.8 case that makes the department head's joint case, an
override with its reason) and dismissals; appeals pending, upheld and overturned.

Four eyes need two HR logins: ``demo-hr-1`` (an HR clerk and one of every group's
default admins: files cases, decides appeals) and ``demo-hr-2`` (confirms and dismisses,
registers appeals for employees). They have unusable passwords — nobody logs
in as them; the persona logins of company.demo.write are for that. The cases that go to
appeal are proposals no one reported, so that reporter, confirmer and appeal
decider always differ, and nobody decides an appeal they registered.

Running it again adds nothing: the demo's proposals carry source keys starting
with ``demo:``, and once they exist the step is skipped.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from company.demo import DEMO
from company.demo.case_people import demo_hr_logins, explained_by_employee, offenders
from company.demo.plan import workshop_path
from groups.models import ChatGroup, Finding, RosterAction
from groups.selectors import HOUSE_RULE_LABEL
from groups.services.actions import RENAME_NOTICE_KEY, roster_renames_tell
from members.models import Employee
from notices.models import Notice
from violations.models import Case
from violations.services import (
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    case_file,
    case_propose,
    finding_decide_left_group,
    seed_rule_catalog,
)

DEMO_KEY_PREFIX = "demo:"
# The self-service login (unusable password) of the member of the demo's §5.3.b case, when no
# member with a rename to make has a login of their own (no DEMO_PASSWORD: no personas).
DEMO_MEMBER_USERNAME = "demo-member"
# The workshop whose director is the "head" persona (company.demo.plan): their own §9.9 case
# shows on /me/cases/ when they log in.
HEAD_PERSONA_DEPARTMENT = workshop_path(1)


@dataclass(frozen=True)
class DemoCasesSummary:
    created: int  # cases made by this run (joint cases included)
    total: int  # cases in the database
    by_state: dict[str, int]  # state value -> count, every state listed


@transaction.atomic
def demo_cases_apply(
    *,
    seed: int,
    now: dt.datetime | None = None,
    reserved_employee_nos: Iterable[str] = (),
    own_cases_employee_no: str | None = None,
) -> DemoCasesSummary:
    """Give the demo company its cases, once; returns the counts by state.

    Needs the demo company (roles, groups, departments with heads). Deterministic
    for a seed and a company; a second call creates nothing. The two HR logins are
    linked to HR clerks who are not in ``reserved_employee_nos`` (the personas'
    employees, whose logins company.demo.write links). ``own_cases_employee_no`` (the
    "employee" persona's) gets a proposed case, three confirmed ones still open to
    appeal and an upheld appeal, so that their /me/ pages show every kind of case.
    """
    created = 0
    if not Case.objects.filter(source_key__startswith=DEMO_KEY_PREFIX).exists():
        created = _make_cases(
            seed=seed,
            now=now or timezone.now(),
            reserved=set(reserved_employee_nos),
            own_cases_employee_no=own_cases_employee_no,
        )
    return _summary(created)


def _make_cases(
    *, seed: int, now: dt.datetime, reserved: set[str], own_cases_employee_no: str | None
) -> int:
    before = Case.objects.count()
    rules = {rule.code: rule for rule in seed_rule_catalog()}
    clerk, reviewer = demo_hr_logins(reserved)
    rng = random.Random(f"{seed}:cases")
    groups = {g.code: g for g in ChatGroup.objects.filter(family=None)}
    anyone, office = offenders(rng, own_cases_employee_no)

    def days_ago(days: int, hour: int = 10) -> dt.datetime:
        moment = timezone.localtime(now) - dt.timedelta(days=days)
        return min(moment.replace(hour=hour, minute=rng.randrange(60), second=0), now)

    def last_month(day: int, hour: int = 10) -> dt.datetime:
        # Decided cases happened last month, so that the demo's computed period (last
        # month's, company.demo.appraisal) has deductions to show and export.
        end = timezone.localtime(now).replace(day=1) - dt.timedelta(days=1)
        moment = end.replace(day=min(day, end.day), hour=hour, minute=rng.randrange(60))
        return moment.replace(second=0, microsecond=0)

    def propose(code, employee, group, source, key, description, occurred_at) -> Case:
        case, _ = case_propose(
            rule_code=code,
            employee=employee,
            group=group,
            source=source,
            source_key=DEMO_KEY_PREFIX + key,
            description=description,
            occurred_at=occurred_at,
            actor=DEMO,
        )
        return case

    def file(code, employee, group, description, occurred_at) -> Case:
        # demo-hr-1 is HR's second clerk by 工号, hence an admin of every group (§5.2: the
        # default GROUP_DEFAULT_ADMINS, 2, names HR's first two after its head).
        return case_file(
            rule=rules[code],
            employee=employee,
            group=group,
            occurred_at=occurred_at,
            description=description,
            actor=clerk,
        )

    def confirm(case: Case, comment: str = "", **override) -> Case:
        case = explained_by_employee(case)
        return case_confirm(case=case, actor=reviewer, comment=comment, **override)

    def appeal(case: Case, reason: str) -> Case:
        # Registered by the confirmer, so that the clerk may decide it: nobody decides
        # an appeal they filed (violations.services.guards.own_interest).
        return case_appeal(
            case=case, actor=reviewer, comment=f"员工本人提出（人力资源部代为登记）：{reason}"
        )

    leisure, work = groups["leisure"], groups["work"]

    # --- proposed: waiting in HR's queue --------------------------------------------------
    # §5.3.b from reconciliation: a nickname instead of the real name, of a member who was
    # told (a login) and whose rename is past its due date and the grace period.
    finding = _told_rename_finding()
    if finding is not None:
        _rename_past_grace(finding, now=now)
        propose(
            "5.3.b",
            finding.employee,
            finding.group,
            Case.Source.RECONCILIATION,
            f"finding:{finding.pk}",
            f"群成员核对：{finding.group.name} 中 {finding.employee} 的群昵称为“{finding.display_name}”，"
            "未使用真实姓名，提醒后仍未改正（§5.3.b）。",
            finding.first_seen.taken_at,
        )
        # Proposed already: the daily escalation of the member's rename must not propose it
        # a second time (violations.services.roster_cases).
        RosterAction.objects.filter(finding=finding).update(escalated_at=now)
    # §9.5: HR decides that someone leaving a group is a case (never automatic).
    left = _open_finding(Finding.Kind.LEFT_GROUP)
    if left is not None:
        finding_decide_left_group(finding=left, propose_case=True, actor=clerk)
    # §9.4 filed by the group's admin.
    file(
        "9.4",
        anyone[0],
        leisure,
        "在群内发布“棋牌娱乐送彩金”链接，域名在屏蔽名单内；群管理员已撤回并截图（§9.4）。",
        days_ago(2, hour=21),
    )
    # §9.11 from screening: candidates only, HR decides.
    propose(
        "9.11",
        anyone[1],
        leisure,
        Case.Source.SCREENING,
        "screening:ads",
        "内容筛查命中广告关键词：连续三天发布微商代购广告（§9.11）。",
        days_ago(1, hour=12),
    )

    # --- confirmed ------------------------------------------------------------------------
    # §9.7 three times within the window: ×1.5 from the 2nd, one sanction up from the 3rd.
    repeat_offender = anyone[2]
    images = [
        propose(
            "9.7",
            repeat_offender,
            leisure,
            Case.Source.SCREENING,
            "screening:images",
            "内容筛查：单日在群内发布图片 38 张，超过本群每日 20 张的上限（§9.7）。",
            last_month(3),
        ),
        file(
            "9.7",
            repeat_offender,
            leisure,
            "单日发布图片 45 张，刷屏影响他人阅读，群管理员提醒后仍继续（§9.7）。",
            last_month(14),
        ),
        file(
            "9.7",
            repeat_offender,
            leisure,
            "单日发布图片 52 张，第三次超过上限（§9.7）。",
            last_month(26),
        ),
    ]
    for case in images:  # in the order they happened, so each counts the ones before
        confirm(case, "筛查记录与群聊截图一致。")
    # §7.2/§9.8 (joint liability) and §9.9 come from the real path: company.demo.directives
    # makes directives and questions, and their follow-up proposes the overdue ones.
    # §6.2 with HR's override of the points, reason given.
    confirm(
        file(
            "6.2",
            office[1],
            work,
            "将工作群内的新品报价截图转发到个人朋友圈，约 2 小时后删除（§6.2）。",
            last_month(22, hour=20),
        ),
        "截图为证。",
        points=Decimal("3"),
        override_reason="初次发生且已主动删除，酌情减轻。",
    )

    # --- dismissed ------------------------------------------------------------------------
    case_dismiss(
        case=file(
            "5.3.d",
            office[2],
            work,
            "在工作群转发“公司将裁员”的消息（§5.3.d）。",
            days_ago(8, hour=14),
        ),
        actor=reviewer,
        comment="经核实为转发的行业新闻原文，并非公司内部小道消息，不构成违规。",
    )
    ineligible = _open_finding(Finding.Kind.INELIGIBLE)
    case_dismiss(
        case=propose(
            "5.3.a",
            ineligible.employee if ineligible else anyone[3],
            ineligible.group if ineligible else work,
            Case.Source.RECONCILIATION,
            f"finding:{ineligible.pk}" if ineligible else "reconciliation:ineligible",
            "群成员核对：不符合该群的入群条件（§5.3.a）。",
            ineligible.first_seen.taken_at if ineligible else days_ago(1),
        ),
        actor=reviewer,
        comment="部门负责人批准其临时入群参与项目协作，不作处理。",
    )

    # --- appealed, upheld, overturned (proposals nobody reported: three different people) --
    appeal(
        confirm(
            propose(
                "9.3",
                anyone[4],
                leisure,
                Case.Source.SCREENING,
                "screening:insult",
                "内容筛查命中辱骂用语：在群内与同事争执时使用侮辱性言语（§9.3）。",
                last_month(20, hour=22),
            ),
            "群聊截图属实。",
        ),
        "当时是与同乡朋友开玩笑，对方并未介意，请求撤销。",
    )
    case_decide_appeal(
        case=appeal(
            confirm(
                propose(
                    "9.10",
                    anyone[5],
                    leisure,
                    Case.Source.SCREENING,
                    "screening:negative",
                    "内容筛查：多次在群内发布抱怨公司的负面言论（§9.10）。",
                    last_month(24, hour=23),
                ),
                "群聊记录属实。",
            ),
            "只是发发牢骚，没有恶意。",
        ),
        actor=clerk,
        uphold=True,
        comment="言论内容属实且多次发生，维持原处理。",
    )
    return Case.objects.count() - before


def _open_finding(kind: str) -> Finding | None:
    return (
        Finding.objects.filter(kind=kind, status=Finding.Status.OPEN, employee__isnull=False)
        .select_related("employee", "group", "first_seen")
        .order_by("group__code", "subject")
        .first()
    )


def _told_rename_finding() -> Finding | None:
    """A rename that §5.3.b asks for, not only a group's house rule
    (groups.selectors.HOUSE_RULE_LABEL), of a member who could be told: one with an active
    login first; else the demo gives the member a self-service login (an unusable password,
    as demo-hr-1/2: nobody logs in as them) so that the rename notice reaches them."""
    finding = (
        Finding.objects.filter(
            kind=Finding.Kind.NOT_REAL_NAME,
            status=Finding.Status.OPEN,
            employee__status=Employee.Status.ACTIVE,
            action__owner=RosterAction.Owner.MEMBER,
        )
        .exclude(detail__contains=HOUSE_RULE_LABEL)
        .filter(Q(employee__user__is_active=True) | Q(employee__user__isnull=True))
        .select_related("employee__user", "group", "first_seen", "action")
        .order_by(F("employee__user").asc(nulls_last=True), "group__code", "subject")
        .first()
    )
    if finding is None or finding.employee is None:
        return None
    member = finding.employee
    if member.user is None:
        user = get_user_model()(username=DEMO_MEMBER_USERNAME)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        member.user = user
        member.save(update_fields=["user"])
    # The notice the reconciliation's task would have sent once the member had a login.
    roster_renames_tell(action_ids=[finding.action.pk])
    return finding


def _rename_past_grace(finding: Finding, *, now: dt.datetime) -> None:
    """The rename the demo proposes by hand was told, reminded and left undone past the
    grace period (as roster_cases would escalate it, §5.3.b): its to-do dated back so that
    its due date plus the grace lies before today, the member told when the to-do opened."""
    today = timezone.localdate(now)
    due_days = settings.ROSTER_ACTION_DUE_DAYS
    grace = settings.ROSTER_ACTION_GRACE_DAYS
    seen = finding.first_seen.taken_at if finding.first_seen is not None else now
    told = min(
        timezone.localtime(seen),
        timezone.localtime(now) - dt.timedelta(days=due_days + grace + 1),
    )
    due_on = told.date() + dt.timedelta(days=due_days)
    RosterAction.objects.filter(finding=finding).update(
        created_at=told,
        due_on=due_on,
        last_reminded_on=today - dt.timedelta(days=1),
        reminder_count=(today - due_on).days - 1,
    )
    Notice.objects.filter(
        recipient=finding.employee.user,
        subject_key__startswith=RENAME_NOTICE_KEY.format(action=""),
    ).update(created_at=told)


def _summary(created: int) -> DemoCasesSummary:
    counts = dict(Case.objects.values_list("state").annotate(n=Count("pk")).order_by())
    by_state = {state: counts.get(state, 0) for state in Case.State.values}
    return DemoCasesSummary(created=created, total=sum(by_state.values()), by_state=by_state)
