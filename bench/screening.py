"""Benchmark: the screening engine on a year of a big group's chat (docs/performance.md, 内容筛查).

Run by hand, never in the test suite:

    .venv/bin/python -m bench.screening [--messages 1000000] [--keywords 5000]
        [--domains 1000] [--sample 2000] [--batch 2000] [--seed 1]

No database: it times ``screening.engine`` alone. It generates, deterministically from
``--seed``, ``--messages`` messages — mostly factory chatter (排产、品质、出货、加班、来料 …),
some with links (the company's sites, WeChat articles, cloud drives), a few in traditional
characters or with emoji and spaces between the characters, images and stickers, 5 % from
the confidential group — and plants a hit in ~0.1 % of them (a keyword, often disguised:
traditional, full width, spaces or emoji between the characters, pinyin initials; a blocked
domain; a short link; a mini program). The rules: ``--keywords`` words in six keyword lists
and one confidential list (real words first, then generated 2–4 character words and some
ASCII words, whole-word, some with initials; none of them in the chatter) and a links rule
with ``--domains`` blocked domains, the usual short-link services and an allow list.

It times ``Screen(rules)`` and the screening of every message, in batches of ``--batch``
(the import's batch size), and checks that every planted hit was found; then the naive way
— each message normalised, then each keyword of each rule tested with ``in``, each blocked
domain and short-link service likewise — on the first ``--sample`` messages, extrapolated
to all. Targets (issue 15): ≤ 30 s for 1,000,000 messages, ≥ 20× faster than the naive way.

Hits besides the planted ones are generated words that a planted word forms with the chatter
around it once the separators are dropped, or random ASCII (a cloud drive's 提取码) that
happens to be a generated ASCII word; the naive way finds more in its sample, having no whole
words (an ASCII word inside a link's random token) and no allow-list.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import opencc  # noqa: E402 — after the path is set

from bench._db import load_average  # noqa: E402
from screening.engine import (  # noqa: E402
    Incoming,
    KeywordSpec,
    RuleSpec,
    Screen,
    normalize,
)

TARGET_SECONDS_PER_MILLION = 30.0
TARGET_SPEEDUP = 20.0

# --- The chatter -----------------------------------------------------------------------

LINES = [
    "一号线",
    "二号线",
    "三号线",
    "注塑车间",
    "装配车间",
    "包装线",
    "SMT线",
    "冲压车间",
    "喷涂线",
]
PRODUCTS = [
    "A-1023",
    "B2外壳",
    "电源板",
    "控制盒",
    "M6螺丝",
    "端盖",
    "支架",
    "线束",
    "散热片",
    "面板",
]
PEOPLE = [
    "张工",
    "李班长",
    "王主管",
    "小刘",
    "陈经理",
    "赵师傅",
    "周工",
    "吴组长",
    "郑姐",
    "孙师傅",
]
DEFECTS = ["毛刺", "缩水", "划伤", "尺寸超差", "色差", "虚焊", "漏装", "变形", "气泡"]
WEEKDAYS = "一二三四五六日"
TEMPLATES = [
    "{line}今天排产{n}台{product}，{person}跟进一下物料",
    "{product}来料检验不合格，已经通知供应商返工",
    "明天{line}加班到{hour}点，请大家安排好时间",
    "品质部：{product}抽检{n}件，不良{m}件，主要是{defect}",
    "出货单已经发给仓库了，{person}下午{hour}点前装车",
    "设备保养按计划周{weekday}进行，{line}停线两小时",
    "{person}，{product}的交期客户催了，能不能提前两天？",
    "收到",
    "好的",
    "好的，马上安排",
    "辛苦了👍",
    "@{person} 首件检验做了吗？",
    "{line}的{defect}问题，今天下午开个短会分析一下",
    "安全提醒：进车间必须戴安全帽和防护眼镜，叉车通道不要堆放物料",
    "今天的5S检查，{line}扣了{m}分，工具没有归位",
    "{product}的图纸更新到C版了，旧版请收回",
    "来料{n}箱已到，仓库请安排卸货，{person}去签收",
    "{line}{hour}点交接班，记得填写交接记录",
    "这批{product}返工完成，共{n}件，已送品质复检",
    "下周一开始夏季作息，午休时间调整为12:00-13:30",
    "食堂今天加了夜宵，加班的同事{hour}点去吃",
    "{person}请假半天，{line}由{person}临时顶一下",
    "空压机压力有点低，维修过来看看",
    "{product}库存还剩{n}个，要补料了",
    "客户审核下周{weekday}到厂，各部门把现场整理好",
    "{line}良率今天{pct}%，比昨天好一些",
    "质检报告已经上传到共享盘，文件名：{product}检验报告.xlsx",
    "模具保养到期了，{line}停机换模大概一个半小时",
    "今天的产量：{line}{n}台，{line}{m}台",
    "月底盘点，请各班组提前准备",
    "ok，我去看一下",
    "谢谢{person}！",
    "[强]",
    "消防演习周{weekday}下午三点，听到警报按路线疏散",
    "{product}包装要换新的纸箱，样品在{person}那里",
    "夜班注意设备点检，发现异常及时报告班长",
    "供应商说{product}要延期三天到货，排产要调整",
    "明天早上7:50开早会，不要迟到",
    "这个工单的数量是{n}还是{m}？麻烦确认一下",
    "本周出货计划已更新，共{n}单，请仓库备货",
]
LINK_TEMPLATES = [
    "公司通知 https://mp.weixin.qq.com/s/{token}",
    "报表在这里 http://erp.junma-tech.cn/report?id={n}",
    "新版作业指导书 www.junma-tech.cn/sop/{n}.pdf",
    "资料放网盘了 https://pan.baidu.com/s/{token} 提取码 {code}",
    "供应商的产品目录：http://www.supplier-{n}.com/catalog",
    "培训视频 https://v.qq.com/x/page/{token}.html",
]
ALLOWED_DOMAINS = ["junma-tech.cn", "mp.weixin.qq.com", "pan.baidu.com", "qq.com"]
SHORTENERS = ["t.cn", "dwz.cn", "url.cn", "suo.im", "bit.ly", "tinyurl.com", "is.gd", "t.co"]
EMOJI = ["😀", "👍", "🙏", "🔥", "❤️", "👨‍👩‍👧", "★", "。", "·", " ", "-", "_"]

# --- The rules ---------------------------------------------------------------------------

# (kind, real words) of each list: the seed's (screening.services.rules), and more.
REAL_WORDS: list[tuple[str, list[str]]] = [
    ("keywords", ["赌博", "博彩", "网赌", "赌场", "六合彩", "时时彩", "百家乐", "押注", "赌球"]),
    ("keywords", ["色情", "黄色网站", "约炮", "裸聊", "成人视频", "援交", "一夜情"]),
    ("keywords", ["反动", "颠覆国家", "翻墙", "法轮功"]),
    ("keywords", ["傻逼", "脑残", "废物", "王八蛋", "狗东西", "滚蛋", "贱人", "白痴"]),
    ("keywords", ["代开发票", "刷单", "兼职日结", "网贷", "无抵押贷款", "微商", "加微信领取"]),
    ("keywords", ["小道消息", "内部消息", "要倒闭", "发不出工资", "要裁员", "集体罢工"]),
    ("confidential", ["星河项目", "天枢计划", "北辰客户"]),
]
# Common characters the generated words are made of: they share characters with the chatter
# (so the automaton walks partial matches, as it would on real lists) but are never in it.
CHARS = (
    "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之"
    "过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如"
    "前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其"
    "种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政"
    "海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比"
    "住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司"
    "利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统"
    "色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权"
    "往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江"
    "语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广罗"
    "赌博彩票骰庄押注筹码牌坊妓嫖淫裸艳贷款刷单兼职微商代理骗谣罢工裁倒闭政权翻墙枪毒"
)
ASCII = "abcdefghijklmnopqrstuvwxyz"


def chatter(rng: random.Random) -> str:
    template = rng.choice(TEMPLATES)
    return template.format(
        line=rng.choice(LINES),
        product=rng.choice(PRODUCTS),
        person=rng.choice(PEOPLE),
        defect=rng.choice(DEFECTS),
        weekday=rng.choice(WEEKDAYS),
        n=rng.randint(2, 3000),
        m=rng.randint(0, 60),
        hour=rng.randint(6, 23),
        pct=rng.randint(90, 99),
    )


def link_chatter(rng: random.Random) -> str:
    token = "".join(rng.choices(ASCII + "0123456789ABCDEF", k=rng.randint(8, 22)))
    return rng.choice(LINK_TEMPLATES).format(
        token=token, n=rng.randint(1, 999), code="".join(rng.choices(ASCII, k=4))
    )


def disguise(rng: random.Random, word: str, s2t: opencc.OpenCC) -> str:
    """A keyword as someone hiding it writes it (what the engine must still see)."""
    how = rng.randrange(5)
    if how == 0:
        return s2t.convert(word)  # traditional characters
    if how == 1:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)  # full width
    if how == 2:
        return rng.choice(EMOJI).join(word)
    if how == 3:
        return " ".join(word)
    return word


def make_rules(
    rng: random.Random, keywords: int, domains: int, chatter_text: set[str]
) -> tuple[list[RuleSpec], list[tuple[int, str, str]], list[str]]:
    """The rules; (rule id, word, what stands alone: initials or an ASCII word) of each
    keyword; the blocked domains."""
    per_rule: list[list[KeywordSpec]] = [[] for _ in REAL_WORDS]
    words: list[tuple[int, str, str]] = []
    taken: set[str] = set()

    def add(index: int, spec: KeywordSpec) -> None:
        taken.add(spec.word)
        per_rule[index].append(spec)
        # An ASCII word is whole-word: planted, it stands alone, as its initials do.
        words.append(
            (index + 1, spec.word, spec.initials or (spec.word if spec.whole_word else ""))
        )

    for index, (_, real) in enumerate(REAL_WORDS):
        for word in real:
            add(index, KeywordSpec(word))
    while len(words) < keywords:
        index = rng.randrange(len(REAL_WORDS))
        if rng.random() < 0.05:  # an ASCII word: whole word (else "db" is in "feedback")
            word = "".join(rng.choices(ASCII, k=rng.randint(3, 6)))
            if word in taken or word in chatter_text:
                continue
            add(index, KeywordSpec(word, whole_word=True))
            continue
        word = "".join(rng.choices(CHARS, k=rng.randint(2, 4)))
        if word in taken or word in chatter_text:
            continue
        initials = ""
        if rng.random() < 0.05:
            initials = "".join(rng.choices(ASCII, k=len(word)))
            if initials in chatter_text or len(initials) < 3:
                initials = ""
        add(index, KeywordSpec(word, initials=initials))
    block: set[str] = set()
    while len(block) < domains:
        label = "".join(rng.choices(ASCII + "0123456789", k=rng.randint(4, 10)))
        block.add(f"{label}.{rng.choice(['com', 'net', 'xyz', 'top', 'vip', 'cc', 'cn'])}")
    blocked = sorted(block)
    rules = [
        RuleSpec(rule_id=index + 1, kind=kind, keywords=tuple(per_rule[index]))
        for index, (kind, _) in enumerate(REAL_WORDS)
    ]
    rules[3] = RuleSpec(  # the insults' allow-list, as the seed has it
        rule_id=4, kind="keywords", keywords=rules[3].keywords, allowed=("废物料", "废物回收")
    )
    rules.append(
        RuleSpec(
            rule_id=len(rules) + 1,
            kind="links",
            block_domains=tuple(blocked),
            allow_domains=tuple(ALLOWED_DOMAINS),
            shortener_domains=tuple(SHORTENERS),
        )
    )
    return rules, words, blocked


def chatter_substrings(rng: random.Random, count: int) -> set[str]:
    """Every 2–6 character piece of ``count`` chatter messages, normalised and compacted
    (and every whole ASCII token): a generated keyword must be none of them."""
    pieces: set[str] = set()
    for _ in range(count):
        text = normalize(chatter(rng) if rng.random() < 0.95 else link_chatter(rng))
        compact = "".join(ch for ch in text if ch.isalnum())
        for size in range(2, 7):
            for at in range(len(compact) - size + 1):
                pieces.add(compact[at : at + size])
    for template in TEMPLATES + LINK_TEMPLATES:
        pieces.update(normalize(template).replace("{", " ").replace("}", " ").split())
    return pieces


def make_messages(
    rng: random.Random,
    count: int,
    words: list[tuple[int, str, str]],
    blocked: list[str],
) -> tuple[list[Incoming], dict[int, int]]:
    """The messages, and {index: the rule its planted hit should trip}."""
    s2t = opencc.OpenCC("s2t.json")
    messages: list[Incoming] = []
    planted: dict[int, int] = {}
    links_rule = len(REAL_WORDS) + 1
    for index in range(count):
        confidential_group = rng.random() < 0.05
        roll = rng.random()
        if roll < 0.001:  # a planted hit
            plant = rng.random()
            if plant < 0.75:
                rule_id, word, initials = rng.choice(words)
                if rule_id == 7:  # §6.1: never planted in the confidential group
                    confidential_group = False
                if initials and rng.random() < 0.5:
                    shown = f" {initials} "  # pinyin initials stand alone
                else:
                    shown = disguise(rng, word, s2t)
                before, after = chatter(rng), chatter(rng)
                content, kind = f"{before}，{shown}，{after}", "text"
            elif plant < 0.9:
                rule_id = links_rule
                content, kind = f"看这个 http://www.{rng.choice(blocked)}/win?id={index}", "link"
            elif plant < 0.95:
                rule_id = links_rule
                content, kind = f"点开 https://{rng.choice(SHORTENERS)}/A{index}", "link"
            else:
                rule_id = links_rule
                content, kind = "来拼单 · 限时优惠", "mini_program"
            planted[index] = rule_id
        elif roll < 0.03:
            content, kind = link_chatter(rng), "link"
        elif roll < 0.08:
            content, kind = rng.choice(["[图片]", "", "[动画表情]"]), "image"
        elif roll < 0.09:  # traditional characters, as a colleague from Hong Kong types
            content, kind = s2t.convert(chatter(rng)), "text"
        elif roll < 0.095:  # emoji and spaces between words, harmless
            content, kind = rng.choice(EMOJI).join(chatter(rng).split("，")), "text"
        else:
            content, kind = chatter(rng), "text"
        messages.append(Incoming(kind, content, confidential_group))
    return messages, planted


def naive(messages: Sequence[Incoming], rules: list[RuleSpec]) -> int:
    """The hits the one-by-one way finds: ``keyword in text`` for every keyword of every rule,
    ``domain in text`` for every listed domain (keywords normalised once, beforehand)."""
    keyword_rules = [
        (
            rule.rule_id,
            rule.kind == "confidential",
            ["".join(ch for ch in normalize(k.word) if ch.isalnum()) for k in rule.keywords]
            + [k.initials for k in rule.keywords if k.initials],
        )
        for rule in rules
        if rule.kind != "links"
    ]
    link_rules = [rule for rule in rules if rule.kind == "links"]
    hits = 0
    for message in messages:
        text = normalize(message.content)
        compact = "".join(ch for ch in text if ch.isalnum())
        for _, confidential, words in keyword_rules:
            if confidential and message.confidential_group:
                continue
            for word in words:
                if word in compact:
                    hits += 1
                    break
        for rule in link_rules:
            if message.kind == "mini_program" or any(
                domain in text for domain in rule.block_domains + rule.shortener_domains
            ):
                hits += 1
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--keywords", type=int, default=5_000)
    parser.add_argument("--domains", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=2_000, help="messages the naive way reads")
    parser.add_argument("--batch", type=int, default=2_000, help="messages per screen() call")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(f"screening benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    rng = random.Random(args.seed)
    start = time.perf_counter()
    rules, words, blocked = make_rules(
        rng, args.keywords, args.domains, chatter_substrings(random.Random(args.seed), 20_000)
    )
    messages, planted = make_messages(rng, args.messages, words, blocked)
    print(
        f"generated {len(messages):,} messages ({len(planted):,} with a planted hit), "
        f"{len(words):,} keywords in {len(REAL_WORDS)} lists, {len(blocked):,} blocked "
        f"domains in {time.perf_counter() - start:.1f} s"
    )
    print(f"before: {load_average()}")

    start = time.perf_counter()
    screen = Screen(rules)
    print(f"Screen(rules) compiled in {time.perf_counter() - start:.3f} s")

    cpu, start = time.process_time(), time.perf_counter()
    hits = []
    for at in range(0, len(messages), args.batch):
        for hit in screen.screen(messages[at : at + args.batch]):
            hits.append((at + hit.index, hit.rule_id))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    found = set(hits)
    missed = [
        (index, rule_id) for index, rule_id in planted.items() if (index, rule_id) not in found
    ]
    per_million = seconds * 1_000_000 / len(messages)
    print(
        f"engine: {len(messages):,} messages in {seconds:.2f} s (CPU {cpu:.2f} s), "
        f"{len(messages) / seconds:,.0f} msgs/s; {len(hits):,} hits "
        f"({len(planted) - len(missed):,} of {len(planted):,} planted found, "
        f"{len(hits) - (len(planted) - len(missed)):,} other)"
    )
    for index, rule_id in missed[:10]:
        print(f"  missed: rule {rule_id}: {messages[index].content!r}")

    sample = messages[: args.sample]
    start = time.perf_counter()
    naive_hits = naive(sample, rules)
    naive_seconds = time.perf_counter() - start
    naive_total = naive_seconds * len(messages) / len(sample)
    engine_sample = sum(1 for index, _ in hits if index < len(sample))
    print(
        f"naive: {len(sample):,} messages in {naive_seconds:.2f} s, "
        f"{len(sample) / naive_seconds:,.0f} msgs/s → {len(messages):,} extrapolated "
        f"{naive_total:.1f} s ({naive_hits} hits in the sample; the engine's: {engine_sample})"
    )
    speedup = naive_total / seconds
    print(f"speed-up: {speedup:.1f}×")
    print(f"after: {load_average()}")
    print(
        f"targets: ≤ {TARGET_SECONDS_PER_MILLION:.0f} s per 1,000,000 messages "
        f"({per_million:.1f} s): {'yes' if per_million <= TARGET_SECONDS_PER_MILLION else 'NO'}; "
        f"≥ {TARGET_SPEEDUP:.0f}× the naive way: {'yes' if speedup >= TARGET_SPEEDUP else 'NO'}; "
        f"every planted hit found: {'yes' if not missed else 'NO'}"
    )


if __name__ == "__main__":
    main()
