"""The rule catalog's seed: one rule per clause of conduct (docs/clauses.md)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from violations.models import Rule, Sanction

# The clauses of docs/clauses.md that are rules of conduct, with default points and
# sanction. Defaults only: HR edits them in the admin (docs/clauses.md, intro).
# (code, 中文名称, English title, points, sanction, active)
# §7.2 and §9.8 make the offender's department head answer for half (JOINT_SHARES).
RULE_CATALOG = [
    (
        "5.1",
        "群主未及时维护群成员",
        "Creator did not maintain the roster in time",
        "1",
        Sanction.REMINDER,
        True,
    ),
    (
        "5.3.a",
        "加入无关群组或邀请无关人员",
        "Joined an ineligible group or invited outsiders",
        "0",
        Sanction.REMINDER,
        True,
    ),
    ("5.3.b", "未使用真实姓名", "Did not use real name in the group", "1", Sanction.REMINDER, True),
    (
        "5.3.d",
        "违法违规言论、负面情绪或小道消息",
        "Unlawful speech, negativity or unverified rumours",
        "3",
        Sanction.WARNING,
        True,
    ),
    (
        "6.1",
        "在群内传输涉密信息",
        "Transmitted classified information",
        "5",
        Sanction.SERIOUS_WARNING,
        True,
    ),
    (
        "6.2",
        "向外单位或朋友圈转发公司信息",
        "Forwarded company information to outsiders or Moments",
        "5",
        Sanction.SERIOUS_WARNING,
        True,
    ),
    (
        "6.3",
        "出借微信或账号被盗未告知",
        "Lent WeChat account or did not report a stolen one",
        "2",
        Sanction.WARNING,
        True,
    ),
    (
        "7.2",
        "未按群内工作安排及时处理",
        "Did not act on an instruction given in a group in time",
        "2",
        Sanction.WARNING,
        True,
    ),
    (
        "9.1",
        "不良政治倾向、色情、暴力内容",
        "Bad political, pornographic or violent content",
        "5",
        Sanction.SERIOUS_WARNING,
        True,
    ),
    ("9.2", "泄露公司秘密", "Leaked company secrets", "10", Sanction.REFER, True),
    ("9.3", "诋毁公司或人身攻击", "Defamation or abusive language", "3", Sanction.WARNING, True),
    (
        "9.4",
        "发布色情、赌博、病毒链接",
        "Posted pornography, gambling or virus links",
        "3",
        Sanction.WARNING,
        True,
    ),
    (
        "9.5",
        "不听从群管理执意退群",
        "Left a group against management's instruction",
        "2",
        Sanction.WARNING,
        True,
    ),
    # §9.6: tracked, but never a deduction unless HR enables it (docs/clauses.md).
    (
        "9.6",
        "未分享公司对外信息",
        "Did not share the company's public posts",
        "0",
        Sanction.REMINDER,
        False,
    ),
    ("9.7", "过度在群内发图片", "Posted excessive images", "1", Sanction.REMINDER, True),
    (
        "9.8",
        "无故不接或推诿公司指令",
        "Ignored or dodged company instructions",
        "2",
        Sanction.WARNING,
        True,
    ),
    (
        "9.9",
        "部门负责人未及时回复群内问题",
        "Department head did not reply to an issue in time",
        "1",
        Sanction.REMINDER,
        True,
    ),
    ("9.10", "散播负面信息", "Spread negative information", "2", Sanction.WARNING, True),
    (
        "9.11",
        "发布商业广告或有害信息",
        "Posted advertising or harmful information",
        "2",
        Sanction.WARNING,
        True,
    ),
]


JOINT_SHARES = {"7.2": Decimal("0.5"), "9.8": Decimal("0.5")}

# "Reminder first, points on a repeat": code -> (from the N-th offence in the window, points).
# §5.3.a: the first ineligible join or invitation is a 0-point reminder, a repeat costs 2 points
# (docs/clauses.md). A factor could never lift its 0 (violations.services.cases.repeat_offence).
# violations/migrations/0006_rule_5_3_a_repeat_points.py gives existing databases the same.
REPEAT_POINTS = {"5.3.a": (2, Decimal("2"))}


@transaction.atomic
def seed_rule_catalog() -> list[Rule]:
    """Create the catalog's missing rules; rules HR already edited are left alone."""
    rules = []
    for code, title_zh, title_en, points, sanction, active in RULE_CATALOG:
        rule = Rule.objects.filter(code=code).first()
        if rule is None:
            rule = Rule(
                code=code,
                title_zh=title_zh,
                title_en=title_en,
                default_points=Decimal(points),
                sanction=sanction,
                is_active=active,
                head_share=JOINT_SHARES.get(code, Decimal("0")),
            )
            rule.repeat_from_offence, rule.repeat_points = REPEAT_POINTS.get(code, (None, None))
            rule.full_clean()
            rule.save()
        rules.append(rule)
    return rules
