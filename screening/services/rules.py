"""HR's screening rules as the engine reads them, and the rules a new company starts with.

The rules are data (docs/screening.md, 规则): HR edits the words, allowed phrases and domains
in the admin, each rule tied to the catalog rule a hit would breach. The defaults below are a
start, not a policy: they are created once and never overwritten, so HR's edits stand.
"""

from __future__ import annotations

from django.db import transaction

from screening.engine import KeywordSpec, RuleSpec, Screen
from screening.models import AllowedPhrase, Domain, Keyword, ScreeningRule
from violations.models import Rule

# Kinds the engine screens message by message; FLOOD is counted per day in the database.
ENGINE_KINDS = (
    ScreeningRule.Kind.KEYWORDS,
    ScreeningRule.Kind.CONFIDENTIAL,
    ScreeningRule.Kind.LINKS,
)


def screen_compile() -> tuple[Screen, dict[int, ScreeningRule]]:
    """The active rules compiled into one Screen, and the rules by pk.

    Five queries whatever the number of words (one per table): 5,000 keywords and 1,000
    domains compile in well under a second (docs/performance.md, 内容筛查)."""
    rules = {
        rule.pk: rule
        for rule in ScreeningRule.objects.filter(
            is_active=True, rule__is_active=True, kind__in=ENGINE_KINDS
        ).select_related("rule")
    }
    keywords: dict[int, list[KeywordSpec]] = {pk: [] for pk in rules}
    for rule_id, word, whole_word, initials in Keyword.objects.filter(
        screening_rule__in=rules
    ).values_list("screening_rule_id", "word", "whole_word", "initials"):
        keywords[rule_id].append(KeywordSpec(word=word, whole_word=whole_word, initials=initials))
    allowed: dict[int, list[str]] = {pk: [] for pk in rules}
    for rule_id, phrase in AllowedPhrase.objects.filter(screening_rule__in=rules).values_list(
        "screening_rule_id", "phrase"
    ):
        allowed[rule_id].append(phrase)
    domains: dict[int, dict[str, list[str]]] = {
        pk: {listing: [] for listing in Domain.Listing.values} for pk in rules
    }
    for rule_id, domain, listing in Domain.objects.filter(screening_rule__in=rules).values_list(
        "screening_rule_id", "domain", "listing"
    ):
        domains[rule_id][listing].append(domain)
    specs = [
        RuleSpec(
            rule_id=pk,
            kind=rule.kind,
            keywords=tuple(keywords[pk]),
            allowed=tuple(allowed[pk]),
            block_domains=tuple(domains[pk][Domain.Listing.BLOCK]),
            allow_domains=tuple(domains[pk][Domain.Listing.ALLOW]),
            shortener_domains=tuple(domains[pk][Domain.Listing.SHORTENER]),
            flag_short_links=rule.flag_short_links,
            flag_unlisted_domains=rule.flag_unlisted_domains,
            flag_mini_programs=rule.flag_mini_programs,
        )
        for pk, rule in rules.items()
    ]
    return Screen(specs), rules


def flood_rules() -> list[ScreeningRule]:
    """The active §9.7 rules with a daily limit."""
    return list(
        ScreeningRule.objects.filter(
            is_active=True,
            rule__is_active=True,
            kind=ScreeningRule.Kind.FLOOD,
            daily_limit__isnull=False,
        ).select_related("rule")
    )


# The rules a company starts with: (name, kind, catalog code, words, allowed, notes).
# Words a factory says every day are left out (tests/screening/test_import.py screens a day of
# ordinary chatter — 排产、品质、出货、加班 — against these and expects nothing).
DEFAULT_RULES: list[tuple[str, str, str, list[str], list[str], str]] = [
    (
        "赌博",
        ScreeningRule.Kind.KEYWORDS,
        "9.4",
        ["赌博", "博彩", "网赌", "赌场", "六合彩", "时时彩", "百家乐", "押注", "赌球", "澳门首家"],
        ["赌博罪"],
        "§9.4 禁止发布赌博内容与链接。",
    ),
    (
        "色情",
        ScreeningRule.Kind.KEYWORDS,
        "9.1",
        ["色情", "黄色网站", "约炮", "裸聊", "成人视频", "援交", "一夜情"],
        ["扫黄"],
        "§9.1 禁止色情内容。",
    ),
    (
        "政治",
        ScreeningRule.Kind.KEYWORDS,
        "9.1",
        ["反动", "颠覆国家", "法轮功", "台独", "藏独", "疆独", "翻墙"],
        [],
        "§9.1 禁止不良政治倾向的内容。",
    ),
    (
        "辱骂",
        ScreeningRule.Kind.KEYWORDS,
        "9.3",
        ["傻逼", "傻b", "脑残", "废物", "王八蛋", "狗东西", "去死", "滚蛋", "贱人", "白痴"],
        ["废物料", "废物处理", "废物回收", "固体废物"],
        "§9.3 禁止诋毁公司、同事和人身攻击。",
    ),
    (
        "广告",
        ScreeningRule.Kind.KEYWORDS,
        "9.11",
        ["代开发票", "刷单", "兼职日结", "网贷", "无抵押贷款", "微商", "招代理", "加微信领取"],
        [],
        "§9.11 禁止商业广告。",
    ),
    (
        "谣言与负面信息",
        ScreeningRule.Kind.KEYWORDS,
        "5.3.d",
        ["小道消息", "内部消息", "要倒闭", "发不出工资", "要裁员", "集体罢工"],
        [],
        "§5.3.d 不传播未经证实的消息和负面情绪。",
    ),
    (
        "涉密名称",
        ScreeningRule.Kind.CONFIDENTIAL,
        "6.1",
        [],
        [],
        "§6.1 涉密的项目、客户、价格名称只可在管理群内谈及：请人力资源部填写关键词。",
    ),
    (
        "链接与小程序",
        ScreeningRule.Kind.LINKS,
        "9.4",
        [],
        [],
        "§9.4 禁止赌博、色情、病毒链接：禁止名单上的网站、看不出去向的短链接、小程序与二维码交人工审核。",
    ),
    (
        "刷图",
        ScreeningRule.Kind.FLOOD,
        "9.7",
        [],
        [],
        "§9.7 不在群内过度发送图片：每人每群每天图片与表情合计超过上限时提出。",
    ),
]

# Services that hide where a link goes (§9.4: a short link is reviewed by a person).
DEFAULT_SHORTENERS = [
    "t.cn",
    "dwz.cn",
    "url.cn",
    "suo.im",
    "sina.lt",
    "bit.ly",
    "tinyurl.com",
    "goo.gl",
    "is.gd",
    "t.co",
    "ow.ly",
]
DEFAULT_DAILY_LIMIT = 20
ODD_HOURS_WEIGHT = 1.5


@transaction.atomic
def screening_rules_seed() -> list[ScreeningRule]:
    """Create the default rules that do not exist yet (by name); never touch existing ones."""
    created = []
    for name, kind, code, words, allowed, notes in DEFAULT_RULES:
        catalog_rule = Rule.objects.filter(code=code).first()
        if catalog_rule is None or ScreeningRule.objects.filter(name=name).exists():
            continue
        rule = ScreeningRule.objects.create(
            name=name,
            kind=kind,
            rule=catalog_rule,
            notes=notes,
            odd_hours_weight=ODD_HOURS_WEIGHT,
            daily_limit=DEFAULT_DAILY_LIMIT if kind == ScreeningRule.Kind.FLOOD else None,
        )
        Keyword.objects.bulk_create(Keyword(screening_rule=rule, word=word) for word in words)
        AllowedPhrase.objects.bulk_create(
            AllowedPhrase(screening_rule=rule, phrase=phrase) for phrase in allowed
        )
        if kind == ScreeningRule.Kind.LINKS:
            Domain.objects.bulk_create(
                Domain(screening_rule=rule, domain=domain, listing=Domain.Listing.SHORTENER)
                for domain in DEFAULT_SHORTENERS
            )
        created.append(rule)
    return created
