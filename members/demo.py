"""A realistic demo company, for `make run` and for tests: `python manage.py demo`.

Two steps. ``demo_company_build`` makes the whole company in memory from
(size, seed, today) alone: its own name lists and one ``random.Random(seed)``,
never the global random or Faker, so the same arguments give the same people
on any machine. ``demo_company_apply`` upserts it by natural keys (department
path, position name, 工号) and writes only what differs: a second run changes
nothing, and a larger run only adds people.

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

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Q
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from groups.models import ChatGroup
from groups.services import (
    chat_group_assign_default_staff,
    chat_group_sync_all_permissions,
    seed_groups,
)
from groups.services.staffing import HR_DEPARTMENT
from members import roles
from members.models import PATH_SEPARATOR, Department, Employee, Position
from members.services import (
    STANDARD_DEPARTMENTS,
    STANDARD_POSITIONS,
    department_get_or_create_by_path,
    department_set_head,
    seed_org_chart,
)

MIN_EMPLOYEES = 30  # the founding team, plus room for the guaranteed namesakes
MAX_EMPLOYEES = 50_000
ERROR_SIZE = f"员工人数须在 {MIN_EMPLOYEES} 到 {MAX_EMPLOYEES} 之间。"
EMPLOYEE_NO_FORMAT = "JM{:05d}"
CHANGE_REASON = "演示数据（manage.py demo）"
BATCH_SIZE = 1000  # Django lowers it further to the database's parameter limit

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

POSITION_RANKS = {
    **STANDARD_POSITIONS,  # 总经理 9, 副总经理 8, 总监 7, 经理 6, 车间主任 5 (WORKSHOP_DIRECTOR_RANK)
    "主管": 4,
    "组长": 3,
    **dict.fromkeys(["工程师", "技术员", "专员", "文员", "会计", "业务员", "计划员"], 2),
    **dict.fromkeys(["普工", "操作工", "质检员"], 1),
}
# §4 (俊马工作群): line workers are 生产; everyone else, the workshop director
# and the workshop's clerk included, is 行管.
PRODUCTION_POSITIONS = frozenset({"组长", "质检员", "操作工", "普工"})

WORKSHOP_PARENT = "生产部"
FIRST_WORKSHOPS = 3
HIRES_PER_NEW_WORKSHOP = 1000  # the company opens one more workshop per 1,000 hires
HEAD_POSITIONS = {"总经办": "总经理", "销售部": "总监", "生产部": "总监", "技术部": "总监"}
SUB_DEPARTMENTS = {"销售部/华东区": "经理", "销售部/华南区": "主管", "品质部/实验室": "主管"}
# Founding staff who head nothing: two deputies (rank ≥ 5 without a department)
# and an HR clerk, who becomes a group admin (§5.2).
FOUNDING_STAFF = [("总经办", "副总经理"), ("总经办", "副总经理"), (HR_DEPARTMENT, "专员")]

WORKSHOP_SHARE = 0.69  # of new hires; ~65 % of the company ends up 生产
OFFICE_WEIGHTS = {
    "总经办": 2,
    "人力资源部": 1.5,
    "财务部": 2,
    "销售部": 4,
    "销售部/华东区": 3,
    "销售部/华南区": 3,
    "生产部": 3,
    "品质部": 3,
    "品质部/实验室": 1.5,
    "技术部": 5,
    "PMC部": 3,
}
OFFICE_PATHS = list(OFFICE_WEIGHTS)
OFFICE_CUM_WEIGHTS = list(accumulate(OFFICE_WEIGHTS.values()))
# Positions of a new hire by top-level department (sub-departments use their parent's).
OFFICE_POSITIONS = {
    "总经办": {"经理": 2, "主管": 8, "专员": 40, "文员": 50},
    "人力资源部": {"主管": 10, "专员": 60, "文员": 30},
    "财务部": {"主管": 10, "会计": 65, "文员": 25},
    "销售部": {"经理": 4, "主管": 10, "业务员": 70, "文员": 16},
    "生产部": {"经理": 4, "主管": 10, "计划员": 40, "文员": 46},
    "品质部": {"经理": 3, "主管": 10, "工程师": 45, "技术员": 42},
    "技术部": {"经理": 3, "主管": 7, "工程师": 60, "技术员": 30},
    "PMC部": {"主管": 10, "计划员": 60, "文员": 30},
}
WORKSHOP_POSITIONS = {"组长": 8, "质检员": 10, "操作工": 30, "普工": 48, "文员": 4}
# Logins to try the roles with (STYLE.md personas); demo_company_build picks the employees.
# None: a plain employee's login (not staff, no role): only their own pages (/me/).
PERSONA_ROLES: dict[str, str | None] = {
    "hr": roles.HR,
    "finance": roles.FINANCE,
    "leader": roles.COMPANY_LEADERS,
    "head": roles.DEPARTMENT_HEADS,
    "groupadmin": roles.GROUP_ADMINS,
    "creator": roles.DEPARTMENT_HEADS,  # heads 生产部 and created 俊马欢乐谷 (§5.1)
    "employee": None,
}
# §5.1: the group whose creator is the "creator" persona, not the HR head (every other group's).
CREATOR_PERSONA_GROUP = "leisure"
CREATOR_PERSONA_DEPARTMENT = WORKSHOP_PARENT


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
    role: str | None  # a role name of members.roles; None: a plain employee, not staff


@dataclass(frozen=True)
class DemoCompany:
    departments: tuple[DemoDepartment, ...]
    positions: tuple[tuple[str, int], ...]
    employees: tuple[DemoEmployee, ...]
    personas: tuple[DemoPersona, ...]
    group_creators: tuple[tuple[str, str], ...] = ()  # (group code, 工号) other than the default

    def persona(self, username: str) -> DemoPersona:
        return next(p for p in self.personas if p.username == username)


@dataclass(frozen=True)
class DemoSummary:
    departments: int
    employees: int
    active: int
    left: int
    production: int
    admin: int
    namesake_groups: int
    created: int
    updated: int
    personas: tuple[str, ...]  # usernames created or changed in this run


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (1–99), for workshop names."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def workshop_path(number: int) -> str:
    return f"{WORKSHOP_PARENT}{PATH_SEPARATOR}{chinese_number(number)}车间"


def _founding_plan() -> list[tuple[str, str, bool]]:
    """(department, position, heads it) of the first hires, in order."""
    heads = [(path, HEAD_POSITIONS.get(path, "经理")) for path in STANDARD_DEPARTMENTS]
    heads += [(workshop_path(n), "车间主任") for n in range(1, FIRST_WORKSHOPS + 1)]
    heads += list(SUB_DEPARTMENTS.items())
    return [(path, position, True) for path, position in heads] + [
        (path, position, False) for path, position in FOUNDING_STAFF
    ]


FOUNDING_PLAN = _founding_plan()
# Hires who take the name of an earlier colleague (same name, another person):
# two early ones, so that even a small company has two pairs, then one per 100.
EARLY_NAMESAKES = {len(FOUNDING_PLAN) + 4: True, len(FOUNDING_PLAN) + 9: False}


def namesake_rule(index: int) -> bool | None:
    """None: a fresh name; True/False: copy a colleague's name, in the same department or not."""
    if index in EARLY_NAMESAKES:
        return EARLY_NAMESAKES[index]
    if index >= 100 and index % 100 == 57:
        return (index // 100) % 2 == 1
    return None


def demo_company_build(*, employees: int, seed: int, today: date) -> DemoCompany:
    """The whole company in memory. Pure: no database, same arguments → equal result."""
    if not MIN_EMPLOYEES <= employees <= MAX_EMPLOYEES:
        raise ValueError(ERROR_SIZE)
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
        "groupadmin": hr_clerk.employee_no,  # an admin of every group (§5.2)
        "creator": heads[CREATOR_PERSONA_DEPARTMENT],  # §5.1 creator of 俊马欢乐谷
        # A line worker with a department head; violations.demo gives them cases in several
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


@transaction.atomic
def demo_company_apply(*, company: DemoCompany, password: str | None) -> DemoSummary:
    """Make the database hold ``company``, in one transaction.

    Guarantees: the policy's seed data exists (roles, org chart, four groups);
    departments, positions and employees match the company (by path, name,
    工号), writing only what differs, with history rows for what it writes;
    each department has its head; each group has its default creator and
    admins (§5.1, §5.2), except 俊马欢乐谷, created by the 生产部 head (the
    "creator" persona); persona logins exist only when ``password`` is given;
    groups' object permissions match their creator and admins.
    """
    role_groups = roles.seed_roles()
    seed_org_chart()
    seed_groups()
    positions = _apply_positions(company.positions)
    departments = _apply_departments(company.departments)
    created, updated, by_no = _apply_employees(company.employees, departments, positions)
    for spec in company.departments:
        department, head = departments[spec.path], by_no[spec.head]
        if department.head_id != head.pk:
            department_set_head(department=department, head=head)
    personas: tuple[str, ...] = ()
    if password:
        personas = _apply_personas(company.personas, by_no, role_groups, password)
    for group in ChatGroup.objects.all():
        chat_group_assign_default_staff(group=group)
    _apply_group_creators(company.group_creators, by_no)
    # Bulk writes send no signals: sync the groups' object permissions here.
    chat_group_sync_all_permissions()
    return _summary(created, updated, personas)


def _apply_group_creators(
    creators: tuple[tuple[str, str], ...], by_no: dict[str, Employee]
) -> None:
    """§5.1: a group created by someone other than the HR head (so a creator who is not HR
    can be tried); the object permissions follow in chat_group_sync_all_permissions."""
    groups = ChatGroup.objects.in_bulk([code for code, _ in creators], field_name="code")
    for code, employee_no in creators:
        group, creator = groups.get(code), by_no[employee_no]
        if group is not None and group.creator_id != creator.pk:
            group.creator = creator
            group.save(update_fields=["creator"])


def _apply_positions(specs: tuple[tuple[str, int], ...]) -> dict[str, Position]:
    positions = {p.name: p for p in Position.objects.all()}
    for name, rank in specs:
        position = positions.get(name) or Position(name=name)
        if position.pk is None or position.rank != rank:
            position.rank = rank
            position.full_clean()
            position.save()
            positions[name] = position
    return positions


def _apply_departments(specs: tuple[DemoDepartment, ...]) -> dict[str, Department]:
    departments = {d.path: d for d in Department.objects.select_related("parent")}
    for spec in specs:
        if spec.path not in departments:
            departments[spec.path] = department_get_or_create_by_path(path=spec.path)
    return departments


def _apply_employees(
    specs: tuple[DemoEmployee, ...],
    departments: dict[str, Department],
    positions: dict[str, Position],
) -> tuple[int, int, dict[str, Employee]]:
    by_no = {e.employee_no: e for e in Employee.objects.all()}
    new: list[Employee] = []
    changed: list[Employee] = []
    changed_fields: set[str] = set()
    for spec in specs:
        values = {
            "name": spec.name,
            "department_id": departments[spec.department].pk,
            "position_id": positions[spec.position].pk,
            "rank": spec.rank,
            "category": spec.category,
            "status": spec.status,
            "left_on": spec.left_on,
            "wechat_id": spec.wechat_id,
            "phone": spec.phone,
        }
        employee = by_no.get(spec.employee_no)
        if employee is None:
            new.append(Employee(employee_no=spec.employee_no, **values))
            continue
        if employee.status == spec.status == Employee.Status.LEFT:
            # A leaving date is a fact: a run on a later day does not move it.
            values["left_on"] = employee.left_on
        diff = [field for field, value in values.items() if getattr(employee, field) != value]
        for field in diff:
            setattr(employee, field, values[field])
        if diff:
            changed.append(employee)
            changed_fields.update(diff)
    for employee in new + changed:
        # Foreign keys come from the dicts above; skip their one-query-per-row check.
        employee.full_clean(
            exclude=["department", "position", "user"],
            validate_unique=False,
            validate_constraints=False,
        )
    created = bulk_create_with_history(
        new, Employee, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON
    )
    by_no.update((e.employee_no, e) for e in created)
    if changed:
        bulk_update_with_history(
            changed,
            Employee,
            sorted(changed_fields),  # attnames: bulk_update accepts "department_id"
            batch_size=BATCH_SIZE,
            default_change_reason=CHANGE_REASON,
        )
    return len(new), len(changed), by_no


def _apply_personas(
    personas: tuple[DemoPersona, ...],
    by_no: dict[str, Employee],
    role_groups: dict[str, Group],
    password: str,
) -> tuple[str, ...]:
    user_model = get_user_model()
    users = {
        u.username: u
        for u in user_model.objects.filter(username__in=[p.username for p in personas])
    }
    # Hashing is slow on purpose: hash once for all personas, check each stored hash once.
    hashed: list[str] = []
    verified: dict[str, bool] = {}

    def password_hash() -> str:
        if not hashed:
            hashed.append(make_password(password))
        return hashed[0]

    touched = []
    for persona in personas:
        user = users.get(persona.username)
        changed = user is None
        is_staff = persona.role is not None
        if user is None:
            user = user_model(
                username=persona.username, is_staff=is_staff, password=password_hash()
            )
            user.full_clean()
            user.save()
        else:
            if user.password not in verified:
                verified[user.password] = check_password(password, user.password)
            update_fields = []
            if not verified[user.password]:
                user.password = password_hash()
                update_fields.append("password")
            if user.is_staff != is_staff:
                user.is_staff = is_staff
                update_fields.append("is_staff")
            if update_fields:
                user.save(update_fields=update_fields)
                changed = True
        role = role_groups[persona.role] if persona.role else None
        if role is not None and not user.groups.filter(pk=role.pk).exists():
            user.groups.add(role)
            changed = True
        employee = by_no[persona.employee_no]
        if employee.user_id != user.pk:
            for other in Employee.objects.filter(user=user):
                other.user = None
                other.save(update_fields=["user"])
            employee.user = user
            employee.save(update_fields=["user"])
            changed = True
        if changed:
            touched.append(persona.username)
    return tuple(touched)


def _summary(created: int, updated: int, personas: tuple[str, ...]) -> DemoSummary:
    counts = Employee.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=Employee.Status.ACTIVE)),
        production=Count("pk", filter=Q(category=Employee.Category.PRODUCTION)),
    )
    namesakes = Employee.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1).count()
    return DemoSummary(
        departments=Department.objects.count(),
        employees=counts["total"],
        active=counts["active"],
        left=counts["total"] - counts["active"],
        production=counts["production"],
        admin=counts["total"] - counts["production"],
        namesake_groups=namesakes,
        created=created,
        updated=updated,
        personas=personas,
    )
