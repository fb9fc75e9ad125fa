"""The demo company's plan: its departments and who heads them, its positions and ranks,
how it opens workshops, its founders and the persona logins (company.demo.build follows it).

Pure data and a few pure functions: no database, no randomness.
"""

from __future__ import annotations

from itertools import accumulate

from company import roles
from members.models import HR_DEPARTMENT, PATH_SEPARATOR
from members.services import STANDARD_DEPARTMENTS, STANDARD_POSITIONS

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
# Logins to try the roles with (the README's table of personas); demo_company_build picks the
# employees.
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
