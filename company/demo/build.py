"""The demo company in memory (`python manage.py demo`, and tests): pure, no database.

``demo_company_build`` makes the whole company from (size, seed, today) alone:
its own name lists and one ``random.Random(seed)``, never the global random or
Faker, so the same arguments give the same people on any machine;
company.demo.write puts it in the database.

The company grows hire by hire: what hire ``i`` is depends only on the seed and
the hires before it, never on the final size, so the first 300 employees of a
600-person company are the 300-person company.
"""

from __future__ import annotations

import random
import string
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from common.exceptions import ServiceError
from company.demo.plan import (
    CREATOR_PERSONA_DEPARTMENT,
    CREATOR_PERSONA_GROUP,
    FIRST_WORKSHOPS,
    FOUNDING_PLAN,
    HIRES_PER_NEW_WORKSHOP,
    OFFICE_CUM_WEIGHTS,
    OFFICE_PATHS,
    OFFICE_POSITIONS,
    PERSONA_ROLES,
    POSITION_RANKS,
    PRODUCTION_POSITIONS,
    WORKSHOP_PARENT,
    WORKSHOP_POSITIONS,
    WORKSHOP_SHARE,
    namesake_rule,
    workshop_path,
)
from members.models import HR_DEPARTMENT, PATH_SEPARATOR, Employee

MIN_EMPLOYEES = 30  # the founding team, plus room for the guaranteed namesakes
MAX_EMPLOYEES = 50_000
ERROR_SIZE = f"员工人数须在 {MIN_EMPLOYEES} 到 {MAX_EMPLOYEES} 之间。"


class DemoSizeError(ServiceError):
    """A demo company too small for its founding team or too large (ERROR_SIZE)."""


EMPLOYEE_NO_FORMAT = "JM{:05d}"

# Ordered by frequency, so the weights below make 王/李/张 the commonest.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_CUM_WEIGHTS = list(accumulate(1 / (i + 8) for i in range(len(SURNAMES))))
GIVEN_NAME_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯丹俊飞鑫波"
    "宁琳雪慧婷欣佳晨思雨宏志永海林峰春亮成云龙玲燕梅莉晶颖倩瑶嘉博睿轩子梓涵诗"
)
SINGLE_CHAR_GIVEN_NAME_SHARE = 0.3
PHONE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 177 180 181 182 183 185 186 187 188 189 198 199"
).split()
WECHAT_ID_CHARS = string.ascii_lowercase + string.digits

LEAVER_SHARE = 0.03
WECHAT_SHARE = 0.6
PHONE_SHARE = 0.92


@dataclass(frozen=True)
class DemoEmployee:
    employee_no: str
    name: str
    department: str  # path
    position: str
    rank: int
    category: str
    status: str = Employee.Status.ACTIVE
    left_on: date | None = None
    wechat_id: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DemoDepartment:
    path: str
    head: str  # 工号 of an active employee of the department


@dataclass(frozen=True)
class DemoPersona:
    username: str
    employee_no: str
    role: str | None  # a role name of company.roles; None: a plain employee, not staff


@dataclass(frozen=True)
class DemoCompany:
    departments: tuple[DemoDepartment, ...]
    positions: tuple[tuple[str, int], ...]
    employees: tuple[DemoEmployee, ...]
    personas: tuple[DemoPersona, ...]
    group_creators: tuple[tuple[str, str], ...] = ()  # (group code, 工号) other than the default

    def persona(self, username: str) -> DemoPersona:
        return next(p for p in self.personas if p.username == username)


def demo_company_build(*, employees: int, seed: int, today: date) -> DemoCompany:
    """The whole company in memory. Pure: no database, same arguments → equal result."""
    if not MIN_EMPLOYEES <= employees <= MAX_EMPLOYEES:
        raise DemoSizeError(ERROR_SIZE)
    rng = random.Random(seed)
    hires: list[DemoEmployee] = []
    heads: dict[str, str] = {}
    workshops = [workshop_path(n) for n in range(1, FIRST_WORKSHOPS + 1)]
    members_of: dict[str, list[int]] = defaultdict(list)
    name_count: Counter[str] = Counter()

    for index in range(employees):
        if index < len(FOUNDING_PLAN):
            department, position, heads_it = FOUNDING_PLAN[index]
        elif index % HIRES_PER_NEW_WORKSHOP == 0:
            department, position, heads_it = workshop_path(len(workshops) + 1), "车间主任", True
            workshops.append(department)
        else:
            department = _pick_department(rng, workshops)
            position = _pick_position(rng, department)
            heads_it = False
        same_department = namesake_rule(index)
        name = None
        if same_department is not None:
            candidates = members_of[department] if same_department else range(len(hires))
            name = _namesake(rng, hires, candidates, department, same_department, name_count)
        # Heads stay (a department's head is an active employee of it), and so do
        # the guaranteed namesakes, so that each pair is two people in the groups.
        may_leave = not heads_it and same_department is None
        employee = _hire(rng, index, name, department, position, may_leave, today)
        hires.append(employee)
        members_of[department].append(index)
        name_count[employee.name] += 1
        if heads_it:
            heads[department] = employee.employee_no

    hr_clerk = next(e for e in hires if e.department == HR_DEPARTMENT and e.position == "专员")
    persona_employees = {
        "hr": heads[HR_DEPARTMENT],  # also every group's creator (§5.1)
        "finance": heads["财务部"],
        "leader": heads["总经办"],  # the general manager
        "head": heads[workshop_path(1)],
        "groupadmin": hr_clerk.employee_no,  # HR's first 工号 after its head: admin of every group (§5.2)
        "creator": heads[CREATOR_PERSONA_DEPARTMENT],  # §5.1 creator of 俊马欢乐谷
        # A line worker with a department head; company.demo.cases gives them cases in several
        # states, one of them still open to appeal, for their /me/ pages.
        "employee": _plain_employee(hires).employee_no,
    }
    personas = tuple(
        DemoPersona(username, persona_employees[username], role)
        for username, role in PERSONA_ROLES.items()
    )
    return DemoCompany(
        departments=tuple(DemoDepartment(path, no) for path, no in heads.items()),
        positions=tuple(POSITION_RANKS.items()),
        employees=tuple(hires),
        personas=personas,
        group_creators=((CREATOR_PERSONA_GROUP, persona_employees["creator"]),),
    )


def _plain_employee(hires: list[DemoEmployee]) -> DemoEmployee:
    """The first line worker hired after the founders who is still here and took no one's name.

    Chosen among the earliest hires, so it is the same person at every company size.
    """
    return next(
        (
            e
            for index, e in enumerate(hires)
            if index >= len(FOUNDING_PLAN)
            and e.category == Employee.Category.PRODUCTION
            and e.status == Employee.Status.ACTIVE
            and namesake_rule(index) is None
        ),
        hires[-1],
    )


def _pick_department(rng: random.Random, workshops: list[str]) -> str:
    if rng.random() < WORKSHOP_SHARE:
        return rng.choice(workshops)
    return rng.choices(OFFICE_PATHS, cum_weights=OFFICE_CUM_WEIGHTS)[0]


def _pick_position(rng: random.Random, department: str) -> str:
    if department.startswith(WORKSHOP_PARENT + PATH_SEPARATOR):
        weights = WORKSHOP_POSITIONS
    else:
        weights = OFFICE_POSITIONS[department.split(PATH_SEPARATOR)[0]]
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _namesake(
    rng: random.Random,
    hires: list[DemoEmployee],
    candidates,
    department: str,
    same_department: bool,
    name_count: Counter[str],
) -> str | None:
    """The name of an active colleague whose name is still unique (so each copy makes a new pair)."""

    def fits(candidate: DemoEmployee) -> bool:
        return (
            (candidate.department == department) == same_department
            and candidate.status == Employee.Status.ACTIVE
            and name_count[candidate.name] == 1
        )

    for _ in range(200):
        candidate = hires[rng.choice(candidates)]
        if fits(candidate):
            return candidate.name
    # Rare: scan in order; None (a fresh name) only if every name there is taken twice.
    return next((hires[i].name for i in candidates if fits(hires[i])), None)


def _hire(
    rng: random.Random,
    index: int,
    name: str | None,
    department: str,
    position: str,
    may_leave: bool,
    today: date,
) -> DemoEmployee:
    if name is None:
        surname = rng.choices(SURNAMES, cum_weights=SURNAME_CUM_WEIGHTS)[0]
        length = 1 if rng.random() < SINGLE_CHAR_GIVEN_NAME_SHARE else 2
        name = surname + "".join(rng.choice(GIVEN_NAME_CHARS) for _ in range(length))
    left = may_leave and rng.random() < LEAVER_SHARE
    left_on = today - timedelta(days=rng.randint(1, 365)) if left else None
    # A leaver keeps the WeChat id they had: §5.3.c DEPARTED findings match on it.
    wechat_id = _wechat_id(rng) if left or rng.random() < WECHAT_SHARE else ""
    phone = (
        rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if rng.random() < PHONE_SHARE
        else ""
    )
    return DemoEmployee(
        employee_no=EMPLOYEE_NO_FORMAT.format(index + 1),
        name=name,
        department=department,
        position=position,
        rank=POSITION_RANKS[position],
        category=(
            Employee.Category.PRODUCTION
            if position in PRODUCTION_POSITIONS
            else Employee.Category.ADMIN
        ),
        status=Employee.Status.LEFT if left else Employee.Status.ACTIVE,
        left_on=left_on,
        wechat_id=wechat_id,
        phone=phone,
    )


def _wechat_id(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return "wxid_" + "".join(rng.choices(WECHAT_ID_CHARS, k=14))
    # A custom id: 6–16 characters, starting with a letter.
    rest = "".join(rng.choices(WECHAT_ID_CHARS + "_", k=rng.randint(5, 15)))
    return rng.choice(string.ascii_lowercase) + rest
