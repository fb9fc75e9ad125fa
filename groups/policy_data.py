"""The four groups of §4 as data: what seed_policy creates.

Eligibility and content are rows HR can edit afterwards; seed_policy only
creates what is missing, it never overwrites HR's edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from groups.models import ChatGroup, EligibilityRule, Finding, RosterAction
from members.models import WORKSHOP_DIRECTOR_RANK, Employee

CONTENT_KINDS = {
    "confidential": "机密事项（请示、审议、决议、会签、批复）",
    "major_matters": "高层管理重大事项",
    "daily_office": "日常办公",
    "emergency": "应急处理",
    "sales_production": "与销售相关的生产、技术开发、质量管理、订单管理",
    "news": "部门和公司工作动态",
    "plans_summaries": "计划、总结",
    "notices": "通知、公告",
    "work_communication": "员工之间的因公交流",
    "approved_release": "经部门领导、公司领导批准发布的信息",
    "holiday_greetings": "节日祝福",
    "leisure": "工作外娱乐交流",
}

# §4: the six departments of 俊马产销管理机制.
PRODUCTION_SALES_DEPARTMENTS = ["总经办", "销售部", "生产部", "品质部", "技术部", "PMC部"]


class RuleSpec(TypedDict, total=False):
    """One eligibility rule as seeded: EligibilityRule's fields, a department by its path."""

    kind: str  # EligibilityRule.Kind
    min_rank: int
    department: str  # the department's path, looked up when the rule is created
    category: str  # Employee.Category


class GroupSpec(TypedDict):
    """One of the four groups of §4 as seeded (groups.services.staffing.seed_groups)."""

    code: str
    name: str
    function: str
    content: list[str]  # CONTENT_KINDS codes
    is_confidential: bool
    rules: list[RuleSpec]


GROUPS: list[GroupSpec] = [
    {
        "code": "management",
        "name": "俊马管理群",
        "function": "高层管理的重大事项、日常办公和应急处理的请示、审议、决议、会签和批复等机密性内容发布",
        "content": ["confidential", "major_matters", "daily_office", "emergency"],
        "is_confidential": True,
        # §4: 各部门负责人、车间主任及以上人员
        "rules": [
            {"kind": EligibilityRule.Kind.DEPARTMENT_HEAD},
            {"kind": EligibilityRule.Kind.MIN_RANK, "min_rank": WORKSHOP_DIRECTOR_RANK},
        ],
    },
    {
        "code": "production_sales",
        "name": "俊马产销管理机制",
        "function": "与销售密切相关的生产、技术开发、质量管理、订单管理等相关工作的公布、沟通和处理内容",
        "content": ["sales_production", "work_communication"],
        "is_confidential": False,
        # §4: 总经办、销售、生产、品质、技术、PMC相关人员
        "rules": [
            {"kind": EligibilityRule.Kind.DEPARTMENT, "department": d}
            for d in PRODUCTION_SALES_DEPARTMENTS
        ],
    },
    {
        "code": "work",
        "name": "俊马工作群",
        "function": (
            "面向全体员工公开发布部门和公司的工作动态、计划、总结、通知、公告、应急和节日祝福等信息，"
            "员工之间的因公交流、沟通和处理等内容，以及经部门领导、公司领导批准发布的信息内容"
        ),
        "content": [
            "news",
            "plans_summaries",
            "notices",
            "emergency",
            "holiday_greetings",
            "work_communication",
            "approved_release",
        ],
        "is_confidential": False,
        # §4: 公司行管人员
        "rules": [{"kind": EligibilityRule.Kind.CATEGORY, "category": Employee.Category.ADMIN}],
    },
    {
        "code": "leisure",
        "name": "俊马欢乐谷",
        "function": "节日祝福，工作外娱乐交流",
        "content": ["holiday_greetings", "leisure"],
        "is_confidential": False,
        # §4: 公司全员
        "rules": [{"kind": EligibilityRule.Kind.EVERYONE}],
    },
]

# §5.3.b asks for the real name: 姓名. 部门-姓名 is a house rule a group may choose.
NAMING_DEFAULT = ChatGroup.NamingConvention.NAME


@dataclass(frozen=True)
class FindingSpec:
    clause: str
    severity: int
    action: str | None  # RosterAction.Kind, or None when nothing is to be done in WeChat
    advice: str
    # Who can fix it (RosterAction.Owner): adding and removing is the creator's (§5.1), a
    # display name the member's own (§5.3.b), who someone is HR's question.
    owner: str = RosterAction.Owner.CREATOR


# One place for what each kind of finding means: its clause, how bad it is and
# what the group's creator should do about it.
FINDING_SPECS: dict[str, FindingSpec] = {
    Finding.Kind.DEPARTED: FindingSpec(
        "5.3.c",
        Finding.Severity.CRITICAL,
        RosterAction.Kind.REMOVE,
        "立即移出：已离职人员不得留在群内",
    ),
    Finding.Kind.STRANGER: FindingSpec(
        "5.3.c", Finding.Severity.HIGH, RosterAction.Kind.REMOVE, "移出：与公司无关的人员"
    ),
    Finding.Kind.INELIGIBLE: FindingSpec(
        "5.3.a", Finding.Severity.MEDIUM, RosterAction.Kind.REMOVE, "移出：不符合本群入群条件"
    ),
    Finding.Kind.MISSING: FindingSpec(
        "5.1", Finding.Severity.MEDIUM, RosterAction.Kind.ADD, "拉入群：符合入群条件但不在群内"
    ),
    # §5.3.b: only the member can change their own display name.
    Finding.Kind.NOT_REAL_NAME: FindingSpec(
        "5.3.b",
        Finding.Severity.LOW,
        RosterAction.Kind.RENAME,
        "成员本人改为实名",
        owner=RosterAction.Owner.MEMBER,
    ),
    # Who someone is, and whose an account is, are HR's questions, not the creator's.
    Finding.Kind.AMBIGUOUS: FindingSpec(
        "5.3.b",
        Finding.Severity.MEDIUM,
        RosterAction.Kind.RESOLVE,
        "人力资源部确认是哪位员工",
        owner=RosterAction.Owner.HR,
    ),
    Finding.Kind.DUPLICATE_ACCOUNT: FindingSpec(
        "6.3",
        Finding.Severity.HIGH,
        RosterAction.Kind.RESOLVE,
        "核实账号归属，移出多余账号",
        owner=RosterAction.Owner.HR,
    ),
    # §6.3: an account its owner reported lost or stolen: HR looks into it (whoever speaks
    # with it now is not the employee), until the report is closed.
    Finding.Kind.REPORTED_ACCOUNT: FindingSpec(
        "6.3",
        Finding.Severity.HIGH,
        RosterAction.Kind.RESOLVE,
        "该账号已挂失：核实后移出，或在找回后解除挂失",
        owner=RosterAction.Owner.HR,
    ),
    Finding.Kind.OVER_CAPACITY: FindingSpec(
        "4",
        Finding.Severity.MEDIUM,
        RosterAction.Kind.RESOLVE,
        "超出人数上限：移出人员或启用同系列新群",
    ),
    Finding.Kind.LEFT_GROUP: FindingSpec(
        "9.5", Finding.Severity.MEDIUM, None, "人力资源部决定是否按 §9.5 处理"
    ),
    Finding.Kind.JOINED: FindingSpec("4", Finding.Severity.INFO, None, ""),
}
