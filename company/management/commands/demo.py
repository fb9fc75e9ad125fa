"""python manage.py demo --employees N [--seed S] — a demo company; safe to run again.

Same N and seed → the same company; running again changes nothing, a larger N
adds employees. Persona logins (hr, finance, leader, head, groupadmin, creator,
employee) are created only when DEMO_PASSWORD is set, all with that password.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from company.demo.announcements import demo_announcements_apply
from company.demo.appraisal import demo_appraisal_apply
from company.demo.build import DemoSizeError, demo_company_build
from company.demo.cases import demo_cases_apply
from company.demo.chatlog import demo_chatlogs_apply
from company.demo.directives import demo_directives_apply
from company.demo.plan import PERSONA_ROLES
from company.demo.rosters import demo_rosters_apply
from company.demo.write import demo_company_apply
from violations.models import Case, Rule

LOGIN_ENV = "DEMO_PASSWORD"
ERROR_NOT_SEEDED = (
    "尚未载入制度（部门、四个微信群、违规条款、角色）：请先运行 python manage.py seed_policy"
    "（make demo 会先运行它）。演示公司未写入任何数据。"
)


class Command(BaseCommand):
    help = "创建演示公司（部门、岗位、员工、群管理员；可重复运行，结果由人数和种子决定）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--employees", type=int, required=True, help="员工人数")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")

    def handle(self, *args, employees: int, seed: int, **options) -> None:
        # The demo's groups, cases and periods are the policy's: without seed_policy it stopped
        # halfway, the employees written and no case (seed_policy writes all of it at once).
        if not Rule.objects.exists():
            raise CommandError(ERROR_NOT_SEEDED)
        try:  # first: a size out of range is refused before anything is written
            company = demo_company_build(employees=employees, seed=seed, today=timezone.localdate())
        except DemoSizeError as error:
            raise CommandError(str(error)) from error
        password = os.environ.get(LOGIN_ENV) or None
        summary = demo_company_apply(company=company, password=password)
        self.stdout.write(
            f"演示公司（种子 {seed}）：部门 {summary.departments} / "
            f"员工 {summary.employees}（在职 {summary.active}，离职 {summary.left}）/ "
            f"生产 {summary.production}，行管 {summary.admin} / 同名 {summary.namesake_groups} 组"
        )
        self.stdout.write(f"本次新建员工 {summary.created}，更新 {summary.updated}。")
        rosters = demo_rosters_apply(seed=seed)
        if rosters.snapshots:
            done = f"导入成员快照 {rosters.snapshots} 份（{rosters.members} 人次）并已核对。"
        else:
            done = "各群已有成员快照，未重复导入。"
        self.stdout.write(f"微信群 {rosters.groups} 个（本次新增 {rosters.new_groups}）；{done}")
        # Before the cases' summary: the overdue directives and questions add their cases.
        directives = demo_directives_apply(
            seed=seed,
            reserved_employee_nos=[p.employee_no for p in company.personas],
            own_cases_employee_no=company.persona("employee").employee_no,
        )
        assignments = "，".join(f"{k} {n}" for k, n in directives.assignments.items())
        questions = "，".join(f"{k} {n}" for k, n in directives.questions.items())
        self.stdout.write(
            f"群内指令 {directives.directives} 条（执行人：{assignments}）；"
            f"群内问题（{questions}）；本次逾期提交审核 {directives.proposed} 件。"
        )
        cases = demo_cases_apply(
            seed=seed,
            reserved_employee_nos=[p.employee_no for p in company.personas],
            own_cases_employee_no=company.persona("employee").employee_no,
        )
        states = "，".join(f"{Case.State(state).label} {n}" for state, n in cases.by_state.items())
        self.stdout.write(f"违规案件 {cases.total} 件（{states}）；本次新建 {cases.created} 件。")
        chatlogs = demo_chatlogs_apply(
            seed=seed,
            today=timezone.localdate(),
            reserved_employee_nos=[p.employee_no for p in company.personas],
        )
        self.stdout.write(
            f"聊天记录：本次导入 {chatlogs.imports} 份，新消息 {chatlogs.messages} 条，"
            f"筛查命中 {chatlogs.hits} 条，提出待审核案件 {chatlogs.cases} 件。"
        )
        appraisal = demo_appraisal_apply(today=timezone.localdate())
        self.stdout.write(
            f"考核期间 {appraisal.period} {'已计算' if appraisal.computed else '已有结果，未重算'}："
            f"{appraisal.employees} 名员工，扣分明细 {appraisal.lines} 条，扣分合计 {appraisal.deducted}。"
        )
        notices = demo_announcements_apply(
            reserved_employee_nos=tuple(p.employee_no for p in company.personas)
        )
        if notices.skipped:
            self.stdout.write(f"公告：需要演示账号（{LOGIN_ENV}），未创建。")
        else:
            states = "，".join(f"{label} {n}" for label, n in notices.by_state.items())
            self.stdout.write(f"公告（{states}）；本次新建 {notices.created} 份。")
        usernames = "、".join(PERSONA_ROLES)
        if password and summary.personas:
            touched = "、".join(summary.personas)
            self.stdout.write(f"演示账号 {touched} 已创建或更新，密码为 {LOGIN_ENV} 的值。")
        elif password:
            self.stdout.write(f"演示账号 {usernames} 已存在，未改变。")
        else:
            self.stdout.write(
                f"未设置 {LOGIN_ENV}，未创建演示账号。如需 {usernames}，请运行："
                f"{LOGIN_ENV}=<密码> python manage.py demo --employees {employees} --seed {seed}"
            )
