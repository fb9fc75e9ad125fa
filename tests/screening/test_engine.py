"""The screening engine (docs/screening.md): each rule kind, the variants and evasions that
must still match (§9.1, §9.4, §9.11, §5.3.d), whole words and allow-lists that must not,
the §6.1 confidential-group exception, every link case, and a day of ordinary factory
chatter that must produce no hit. Pure Python: no database."""

from __future__ import annotations

import pytest

from screening.engine import (
    MATCHED_MINI_PROGRAM,
    MATCHED_QR,
    QR_HOSTS,
    EngineHit,
    Incoming,
    KeywordSpec,
    RuleSpec,
    Screen,
    normalize,
)


def words(*written: str, whole_word: bool = False, initials: str = "") -> tuple[KeywordSpec, ...]:
    return tuple(KeywordSpec(word, whole_word, initials) for word in written)


def text(content: str, *, confidential_group: bool = False) -> Incoming:
    return Incoming(kind="text", content=content, confidential_group=confidential_group)


def matched(screen: Screen, content: str, kind: str = "text") -> list[tuple[int, str]]:
    """(rule, matched) of one message's hits."""
    return [(hit.rule_id, hit.matched) for hit in screen.screen([Incoming(kind, content)])]


GAMBLING = RuleSpec(rule_id=1, kind="keywords", keywords=words("赌博", "博彩", "六合彩"))


# --- Normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        ("賭博", "赌博"),
        ("ＤＢ", "db"),
        ("ＱＱ群１２３", "qq群123"),
        ("Feedback", "feedback"),
        ("①號線", "1号线"),
        ("，。！", ",。!"),
    ],
)
def test_normalize_reads_traditional_full_width_and_case_alike(written, normalized):
    assert normalize(written) == normalized


def test_a_batch_is_normalised_as_normalize_reads_each_message():
    """The batch path (common full-width punctuation replaced, NFKC only where needed, one
    opencc call over the joined batch) must read each message as normalize() does: compare
    the phrase of a keyword placed after each with normalize()'s letters before it."""
    prefixes = ["頭髮乾了", "ＡＢＣ，", "café", "cafe\u0301", "第①批", "line1\nline2", "", "乾隆"]
    rule = RuleSpec(rule_id=1, kind="keywords", keywords=words("zz"))
    hits = Screen([rule]).screen([text(f"{prefix}zz") for prefix in prefixes])
    assert [hit.index for hit in hits] == list(range(len(prefixes)))
    expected = ["".join(c for c in normalize(p) if c.isalnum())[-2:] + "zz" for p in prefixes]
    assert [hit.phrase for hit in hits] == expected
    assert expected[:5] == ["干了zz", "bczz", "fézz", "fézz", "1批zz"]


def test_a_lone_surrogate_in_a_broken_export_does_not_stop_the_batch():
    hits = Screen([GAMBLING]).screen([text("abc\ud800def"), text("一起去赌博")])
    assert [(hit.index, hit.matched) for hit in hits] == [(1, "赌博")]
    assert normalize("a\ud800b") == "a\ufffdb"


# --- Keywords: variants and evasions ---------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "今晚一起去赌博吗",
        "今晚一起去賭博嗎",  # traditional
        "今晚一起去赌 博吗",  # a space
        "今晚一起去赌.博吗",  # punctuation
        "今晚一起去赌，博吗",
        "今晚一起去赌😀博吗",  # an emoji
        "今晚一起去赌👨\u200d👩\u200d👧博吗",  # a ZWJ sequence
        "今晚一起去赌\u2764\ufe0f博吗",  # a symbol with its variation selector
        "今晚一起去赌\u200b博吗",  # a zero-width space
        "今晚一起去赌_博吗",
        "今晚一起去賭 ★ 博吗",  # traditional and separators at once
        "今晚一起去赌\n博吗",  # over two lines of one message
    ],
)
def test_keyword_matches_through_variants_and_separators(content):
    assert matched(Screen([GAMBLING]), content) == [(1, "赌博")]


@pytest.mark.parametrize("content", ["ＶＰＮ翻墙教程", "vpn翻墙教程", "V P N 翻墙", "V-P-N"])
def test_ascii_keyword_matches_full_width_upper_case_and_spaced(content):
    rule = RuleSpec(rule_id=2, kind="keywords", keywords=words("VPN"))
    assert matched(Screen([rule]), content) == [(2, "VPN")]


def test_keyword_written_with_separators_matches_without_them():
    rule = RuleSpec(rule_id=3, kind="keywords", keywords=words("代开 发票", "😀"))
    screen = Screen([rule])
    assert matched(screen, "专业代开发票，量大从优") == [(3, "代开 发票")]
    assert matched(screen, "今天心情好😀") == []  # a keyword of separators only matches nothing


def test_substring_keyword_matches_inside_a_longer_word():
    rule = RuleSpec(rule_id=2, kind="keywords", keywords=words("vpn"))
    assert matched(Screen([rule]), "下载myvpnapp") == [(2, "vpn")]


# --- Whole words and pinyin initials ---------------------------------------------------

WHOLE_DB = RuleSpec(rule_id=4, kind="keywords", keywords=words("db", whole_word=True))


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("去db玩", True),  # the neighbours are Chinese
        ("ok db", True),
        ("DB!", True),
        ("ok,ｄｂ。", True),
        ("d b", True),
        ("feedback", False),
        ("dbase", False),
        ("the db2 server", False),  # a digit continues an ASCII word
        ("old bag", False),  # "d b" across a space, but each letter continues its word
        ("请填写feedback表", False),
        ("DB-9接头", False),  # a model number: "-" between ASCII joins it
        ("db.example.com", False),
        ("ops_db 库", False),
        ("ok db.", True),
        ("d-b", True),
        ("去-db-玩", True),  # "-" between Chinese and ASCII breaks the word
    ],
)
def test_whole_word_is_not_part_of_a_longer_word(content, hit):
    assert matched(Screen([WHOLE_DB]), content) == ([(4, "db")] if hit else [])


@pytest.mark.parametrize(
    "content", ["你个傻逼", "傻逼！", "你个傻逼吧", "go 傻逼 now", "ok傻逼", "傻逼ok", "你个傻 逼"]
)
def test_whole_word_on_a_chinese_keyword_matches_as_written(content):
    """Chinese has no spaces between words: a CJK edge is always a word boundary, so 整词匹配
    on a Chinese keyword (Keyword.clean() refuses it for new words) changes nothing."""
    rule = RuleSpec(rule_id=5, kind="keywords", keywords=words("傻逼", whole_word=True))
    assert matched(Screen([rule]), content) == [(5, "傻逼")]


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("加qq群吧", True),  # both edges meet Chinese
        ("qq群", True),
        ("加 QQ群", True),
        ("abqq群", False),  # the ASCII edge continues "abqq"
        ("ab-qq群", False),  # "-" between ASCII joins one token
        ("ab qq群", True),
    ],
)
def test_whole_word_checks_only_the_ascii_edge_of_a_mixed_keyword(content, hit):
    rule = RuleSpec(rule_id=5, kind="keywords", keywords=words("qq群", whole_word=True))
    assert matched(Screen([rule]), content) == ([(5, "qq群")] if hit else [])


def test_whole_word_letters_of_other_alphabets_continue_a_word():
    """Accented Latin letters are letters of the same word ("caf" is no word in "café");
    only CJK and the scripts after it break a word at every letter."""
    rule = RuleSpec(rule_id=5, kind="keywords", keywords=words("caf", whole_word=True))
    screen = Screen([rule])
    assert matched(screen, "café") == []
    assert matched(screen, "去caf吧") == [(5, "caf")]


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("今晚db吗", True),
        ("今晚 DB 吗", True),
        ("今晚ＤＢ吗", True),
        ("去d.b吗", True),
        ("feedback 已收到", False),
        ("dbase 备份", False),
        ("adb 调试", False),
    ],
)
def test_pinyin_initials_hr_listed_match_as_a_whole_word(content, hit):
    rule = RuleSpec(rule_id=1, kind="keywords", keywords=words("赌博", initials="db"))
    assert matched(Screen([rule]), content) == ([(1, "赌博")] if hit else [])


def test_initials_match_only_when_hr_listed_them():
    assert matched(Screen([GAMBLING]), "今晚db吗") == []


# --- Allow-lists -----------------------------------------------------------------------

BET = RuleSpec(rule_id=6, kind="keywords", keywords=words("赌"), allowed=("赌气", "打赌"))


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("他在赌气", False),
        ("他在賭氣", False),  # the allowed phrase matches through variants too
        ("我跟你打赌明天下雨", False),
        ("他在赌气，还说要去赌", True),  # the second 赌 is in no allowed phrase
        ("去赌一把", True),
        # A separator inside the allowed phrase cuts it: 赌 stands on its own.
        ("他在赌 气", True),
        ("今晚去赌，气氛好", True),
        ("我跟你打，赌明天下雨", True),
    ],
)
def test_a_keyword_inside_an_allowed_phrase_is_no_hit(content, hit):
    assert matched(Screen([BET]), content) == ([(6, "赌")] if hit else [])


def test_a_keyword_across_a_sentence_boundary_matches_until_hr_allows_the_phrase():
    """A separator is a separator: "总裁，员工" holds 裁员 as "裁 员" would. Such a 误报 is
    what the allow-list (and the phrase a hit carries) is for."""
    content = "员工大会定在周五下午，总裁，员工代表都要参加"
    rule = RuleSpec(rule_id=6, kind="keywords", keywords=words("裁员"))
    (hit,) = Screen([rule]).screen([text(content)])
    assert hit.phrase == "午总裁员工代"
    allowed = RuleSpec(rule_id=6, kind="keywords", keywords=words("裁员"), allowed=("总裁员工",))
    assert Screen([allowed]).screen([text(content)]) == []
    # The narrow phrase a 误报 suggests (selectors.suggestion_phrases: the keyword and the
    # letter after it) spares the message too: its only separator lies inside the keyword.
    suggested = RuleSpec(rule_id=6, kind="keywords", keywords=words("裁员"), allowed=("裁员工",))
    assert Screen([suggested]).screen([text(content)]) == []
    # A separator outside the keyword but inside the allowed phrase still cuts it.
    assert matched(Screen([suggested]), "总裁，员，工代表") == [(6, "裁员")]


def test_an_allowed_phrase_spares_only_its_own_rule():
    other = RuleSpec(rule_id=7, kind="keywords", keywords=words("赌"))
    assert matched(Screen([BET, other]), "他在赌气") == [(7, "赌")]


def test_allowed_phrase_around_the_keyword_not_just_after_it():
    rule = RuleSpec(
        rule_id=8, kind="keywords", keywords=words("废物"), allowed=("固体废物", "废物料")
    )
    screen = Screen([rule])
    assert matched(screen, "固体废物按规定存放") == []
    assert matched(screen, "废物料放到指定区域") == []
    assert matched(screen, "你这个废物") == [(8, "废物")]


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("废物料放东边仓库", False),
        ("废物料要分类", False),
        ("廢物料要分類", False),
        ("固体废物按规定存放", False),
        # The allowed phrase is one run of letters: a separator the sender put inside it
        # (after the keyword, or before it) leaves the keyword on its own — a hit.
        ("你这个废物，料你也不敢", True),
        ("你这个废物😀料", True),
        ("你这个废物 料", True),
        ("你这个废物\n料", True),
        ("你这个废物_料", True),
        ("固体，废物", True),
        ("固体😀废物", True),
        # A separator inside the keyword itself hides nothing: "废 物料" reads no more as
        # an insult than "废物料" written in one run (the keyword is only there once the
        # separators are dropped) — see test_a_keyword_across_a_sentence_boundary_…
        ("废 物料放东边仓库", False),
        # …but a second separator, after the keyword, still cuts the allowed phrase.
        ("你这个废 物，料你也不敢", True),
        ("废物料，你这个废物", True),  # the second 废物 lies in no allowed phrase
    ],
)
def test_an_allowed_phrase_broken_up_by_a_separator_allows_nothing(content, hit):
    rule = RuleSpec(
        rule_id=8, kind="keywords", keywords=words("废物"), allowed=("固体废物", "废物料")
    )
    assert matched(Screen([rule]), content) == ([(8, "废物")] if hit else [])


def test_an_allowed_phrase_written_with_separators_is_one_run():
    """HR's separators in an allowed phrase are dropped like a keyword's: "废物 料" allows
    what "废物料" allows, and no more."""
    rule = RuleSpec(rule_id=8, kind="keywords", keywords=words("废物"), allowed=("废物 料",))
    screen = Screen([rule])
    assert matched(screen, "废物料要分类") == []
    assert matched(screen, "你这个废物 料") == [(8, "废物")]


# --- §6.1 confidential names -----------------------------------------------------------

SECRET = RuleSpec(rule_id=9, kind="confidential", keywords=words("星河项目"))


def test_confidential_name_hits_outside_the_confidential_group():
    hits = Screen([SECRET]).screen([text("星河项目下周报价")])
    assert [(hit.rule_id, hit.matched) for hit in hits] == [(9, "星河项目")]


def test_confidential_name_is_no_hit_in_the_confidential_group():
    screen = Screen([SECRET, GAMBLING])
    hits = screen.screen([text("星河项目下周报价，别去赌博", confidential_group=True)])
    # §6.1 spares only the confidential rule: gambling is gambling in 管理群 too.
    assert [(hit.rule_id, hit.matched) for hit in hits] == [(1, "赌博")]


# --- One hit per message and rule; what a hit says --------------------------------------


def test_one_hit_per_rule_per_message_the_first_in_the_text():
    hits = Screen([GAMBLING]).screen([text("博彩、赌博、六合彩都有")])
    assert [(hit.rule_id, hit.matched) for hit in hits] == [(1, "博彩")]


def test_each_rule_hits_once_in_the_same_message():
    insults = RuleSpec(rule_id=2, kind="keywords", keywords=words("傻逼", "废物"))
    hits = Screen([GAMBLING, insults]).screen([text("傻逼才去赌博，废物，六合彩")])
    assert [(hit.index, hit.rule_id, hit.matched) for hit in hits] == [
        (0, 2, "傻逼"),
        (0, 1, "赌博"),
    ]


def test_the_longest_of_the_keywords_starting_first_is_reported():
    rule = RuleSpec(rule_id=1, kind="keywords", keywords=words("赌", "赌博"))
    assert matched(Screen([rule]), "去赌博吗") == [(1, "赌博")]


def test_the_same_letters_as_a_word_and_as_initials_match_as_the_word():
    rule = RuleSpec(
        rule_id=1, kind="keywords", keywords=(*words("赌博", initials="db"), *words("DB"))
    )
    assert matched(Screen([rule]), "feedback") == [(1, "DB")]  # "DB" is a substring keyword


def test_a_word_in_two_lists_hits_each_list_and_twice_in_one_list_once():
    one = RuleSpec(rule_id=1, kind="keywords", keywords=words("赌博", "賭博"))
    two = RuleSpec(rule_id=2, kind="keywords", keywords=words("赌博"))
    assert matched(Screen([one, two]), "赌博") == [(1, "赌博"), (2, "赌博")]


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ("今晚一起去赌博吗", "起去赌博吗"),  # two letters before, one left after
        ("赌博", "赌博"),
        ("去賭 博！", "去赌博"),  # the normalised text, separators dropped
        ("他说：“我们去赌博啊”", "们去赌博啊"),
    ],
)
def test_hit_phrase_is_the_match_with_two_letters_either_side(content, phrase):
    (hit,) = Screen([GAMBLING]).screen([text(content)])
    assert hit == EngineHit(index=0, rule_id=1, matched="赌博", phrase=phrase)


def test_hits_carry_their_message_index_across_internal_chunks():
    # More messages than one normalisation chunk (4,096), some holding newlines of their own.
    messages = [text("收到\n好的") for _ in range(10_000)]
    for index in (0, 4095, 4096, 8191, 9999):
        messages[index] = text("赌\n博")
    hits = Screen([GAMBLING]).screen(messages)
    assert [hit.index for hit in hits] == [0, 4095, 4096, 8191, 9999]


def test_nothing_to_screen():
    assert Screen([]).screen([text("赌博 http://t.cn/x")]) == []
    assert Screen([GAMBLING]).screen([]) == []
    assert Screen([GAMBLING]).screen([text(""), Incoming("image", "")]) == []


def test_flood_rules_are_left_to_the_database_and_unknown_kinds_refused():
    assert Screen([RuleSpec(rule_id=1, kind="flood")]).screen([Incoming("image", "")]) == []
    with pytest.raises(ValueError, match="unknown screening rule kind"):
        Screen([RuleSpec(rule_id=1, kind="regex")])


# --- Links (§9.4, §9.11) ---------------------------------------------------------------

LINKS = RuleSpec(
    rule_id=20,
    kind="links",
    block_domains=("evil-bet.com", "https://WWW.Porn-Site.net/index.html"),
    shortener_domains=("t.cn", "bit.ly"),
)


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("http://evil-bet.com/play", "evil-bet.com"),
        ("https://evil-bet.com", "evil-bet.com"),
        ("看看 https://m.vip.evil-bet.com/x?a=1", "m.vip.evil-bet.com"),  # a subdomain
        ("www.evil-bet.com/reg", "evil-bet.com"),  # www. without a scheme
        ("HTTP://WWW.EVIL-BET.COM/PLAY", "evil-bet.com"),  # upper case
        ("ｈｔｔｐ：／／ｅｖｉｌ－ｂｅｔ．ｃｏｍ", "evil-bet.com"),  # full width
        ("网址evil-bet.com/reg注册送钱", "evil-bet.com"),  # bare, Chinese either side
        ("porn-site.net", "porn-site.net"),  # HR listed it with scheme, www. and path
        ("短链 http://t.cn/A6abc", "短链接 t.cn"),
        ("t.cn/A6abc", "短链接 t.cn"),
        ("https://bit.ly/3xyz 点开", "短链接 bit.ly"),
        ("https://weixin.qq.com/g/AbCdEf", MATCHED_QR),
        ("https://weixin.qq.com/q/02xyz", MATCHED_QR),
        ("http://u.wechat.com/MNopq", MATCHED_QR),
        ("付款 https://qr.alipay.com/fkx123", MATCHED_QR),
        ("https://wxaurl.cn/abcDEF", MATCHED_QR),
    ],
)
def test_link_rule_flags(content, hit):
    assert matched(Screen([LINKS]), content, kind="link") == [(20, hit)]


@pytest.mark.parametrize(
    "content",
    [
        "https://notevil-bet.com/x",  # a different domain that ends alike
        "http://evil-bet.com.cn/x",  # evil-bet.com is not a suffix of it
        "公司通知 https://mp.weixin.qq.com/s/AbC",  # an article, not a QR code
        "https://weixin.qq.com/s/abc",
        "报表见附件 排产计划.xlsx",  # a file name
        "plan.xlsx 和 v1.2.3 版本",
        "发邮件到 sales@evil-bet.com",  # an e-mail address is not a link
        "ok.thanks",
        "evil-bet",
    ],
)
def test_link_rule_leaves_alone(content):
    assert matched(Screen([LINKS]), content, kind="link") == []


def test_unlisted_domains_flagged_only_with_the_flag_and_an_allow_list():
    allow = ("junma-tech.cn", "qq.com")
    only_allowed = RuleSpec(
        rule_id=21, kind="links", allow_domains=allow, flag_unlisted_domains=True
    )
    screen = Screen([only_allowed])
    assert matched(screen, "http://oa.junma-tech.cn/a") == []  # an allowed domain's subdomain
    assert matched(screen, "https://mp.weixin.qq.com/s/x") == []
    assert matched(screen, "https://www.taobao.com/item") == [(21, "taobao.com")]
    assert matched(screen, "http://192.168.1.10/erp") == [(21, "192.168.1.10")]
    flag_off = RuleSpec(rule_id=22, kind="links", allow_domains=allow)
    assert matched(Screen([flag_off]), "https://www.taobao.com/item") == []
    # "Only the allowed sites" means nothing while HR has allowed none.
    no_list = RuleSpec(rule_id=23, kind="links", flag_unlisted_domains=True)
    assert matched(Screen([no_list]), "https://www.taobao.com/item") == []


def test_the_most_specific_listing_of_a_domain_wins():
    rule = RuleSpec(
        rule_id=24,
        kind="links",
        block_domains=("example.com",),
        allow_domains=("safe.example.com",),
        flag_unlisted_domains=True,
    )
    screen = Screen([rule])
    assert matched(screen, "http://safe.example.com/a") == []
    assert matched(screen, "http://a.safe.example.com/a") == []
    assert matched(screen, "http://evil.example.com/a") == [(24, "evil.example.com")]


# With good.com allowed and unlisted sites flagged: a link to anywhere else is a hit.
GOOD_ONLY = RuleSpec(
    rule_id=27,
    kind="links",
    block_domains=("evil.com",),
    allow_domains=("good.com",),
    flag_unlisted_domains=True,
)


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        # The host is what follows the last "@" of the authority: good.com is a user name.
        ("http://good.com@evil.com/x", "evil.com"),
        ("https://good.com:pass@evil.com", "evil.com"),
        ("http://good.com@x@evil.com/", "evil.com"),
        ("http://WWW.GOOD.COM@WWW.EVIL.COM/x", "evil.com"),
        ("https://good.com@other.net/x", "other.net"),  # not blocked, but off the allow list
        ("http://good.com\\@evil.com/x", "evil.com"),  # a browser reads "\\" as "/", others not
        # The other way round the user name is evil.com and the site good.com.
        ("http://evil.com@good.com/x", None),
        # An "@" after the host is in the path or query, not in the authority.
        ("http://good.com/@evil.com", None),
        ("https://good.com/login?next=a@evil.com", None),
        ("https://good.com#me@evil.com", None),
    ],
)
def test_a_user_name_before_the_host_does_not_hide_the_site(content, hit):
    assert matched(Screen([GOOD_ONLY]), content) == ([(27, hit)] if hit else [])


@pytest.mark.parametrize(
    ("content", "hit"),
    [
        ("https://evil。com", "evil.com"),  # the CJK full stop
        ("https://evil｡com/x", "evil.com"),  # the half-width ideographic full stop
        ("https://evil．com/x", "evil.com"),  # the full-width full stop
        ("http://m。evil。com/x", "m.evil.com"),
        ("www.evil。com/reg", "evil.com"),
        ("网址evil。com注册送钱", "evil.com"),  # bare, with a known ending
        ("看看evil。com。", "evil.com"),  # the sentence's own full stop ends it
        ("http://good.com@evil。com/x", "evil.com"),
        ("https://good。com/x", None),
    ],
)
def test_a_chinese_full_stop_in_a_link_reads_as_a_dot(content, hit):
    assert matched(Screen([GOOD_ONLY]), content) == ([(27, hit)] if hit else [])


@pytest.mark.parametrize(
    "content",
    [
        "明天见。好的",
        "收到。OK。谢谢",
        "已完成。com那边也收到了",
        "版本v1。2 已经上线",
        "ok。thanks",
        "计划。xlsx 在群文件",
        "好的。www",
    ],
)
def test_a_full_stop_in_ordinary_chinese_makes_no_link(content):
    assert matched(Screen([GOOD_ONLY]), content) == []


def test_a_qr_code_on_an_allowed_domain_is_still_a_qr_code():
    rule = RuleSpec(rule_id=26, kind="links", allow_domains=("qq.com",), flag_unlisted_domains=True)
    screen = Screen([rule])
    assert matched(screen, "扫码进群 https://weixin.qq.com/g/AbC") == [(26, MATCHED_QR)]
    assert matched(screen, "https://mp.weixin.qq.com/s/AbC") == []


def test_short_links_and_mini_programs_follow_their_flags():
    quiet = RuleSpec(
        rule_id=25,
        kind="links",
        shortener_domains=("t.cn",),
        flag_short_links=False,
        flag_mini_programs=False,
    )
    screen = Screen([quiet])
    assert matched(screen, "http://t.cn/abc") == []
    assert matched(screen, "https://weixin.qq.com/g/abc") == []
    assert matched(screen, "拼单小程序", kind="mini_program") == []


def test_a_mini_program_share_is_flagged_by_its_kind():
    assert matched(Screen([LINKS]), "限时拼单 · 立减50", kind="mini_program") == [
        (20, MATCHED_MINI_PROGRAM)
    ]
    assert matched(Screen([LINKS]), "限时拼单 · 立减50", kind="link") == []


def test_a_mini_program_to_a_blocked_site_is_flagged_once_for_the_site():
    hits = matched(Screen([LINKS]), "拼单 https://evil-bet.com/mp", kind="mini_program")
    assert hits == [(20, "evil-bet.com")]


def test_one_link_hit_per_rule_per_message_the_first_link():
    content = "http://t.cn/a 和 http://evil-bet.com/b"
    assert matched(Screen([LINKS]), content) == [(20, "短链接 t.cn")]


def test_every_qr_host_is_flagged():
    for host, prefix in QR_HOSTS:
        url = f"https://{host}{prefix or '/'}abc"
        assert matched(Screen([LINKS]), url) == [(20, MATCHED_QR)], url


def test_keyword_and_link_rules_each_hit_one_message():
    hits = Screen([GAMBLING, LINKS]).screen([text("赌博网站 http://evil-bet.com"), text("收到")])
    assert [(hit.index, hit.rule_id, hit.matched) for hit in hits] == [
        (0, 1, "赌博"),
        (0, 20, "evil-bet.com"),
    ]


# --- A day of ordinary factory chatter: no hit ------------------------------------------

# A realistic rule set: the lists a company starts with (docs/screening.md), and more.
REALISTIC_RULES = [
    RuleSpec(
        rule_id=1,
        kind="keywords",
        keywords=(
            *words("赌博", initials="db"),
            *words("博彩", "网赌", "赌场", "六合彩", "时时彩", "百家乐", "押注", "赌球"),
        ),
        allowed=("赌博罪",),
    ),
    RuleSpec(
        rule_id=2,
        kind="keywords",
        keywords=words("色情", "黄色网站", "约炮", "裸聊", "成人视频", "援交", "一夜情"),
        allowed=("扫黄",),
    ),
    RuleSpec(
        rule_id=3,
        kind="keywords",
        keywords=words("反动", "颠覆国家", "法轮功", "台独", "翻墙"),
    ),
    RuleSpec(
        rule_id=4,
        kind="keywords",
        keywords=(
            *words("傻逼", initials="sb"),
            *words("脑残", "废物", "王八蛋", "狗东西", "去死", "滚蛋", "贱人", "白痴"),
        ),
        allowed=("废物料", "废物处理", "废物回收", "固体废物"),
    ),
    RuleSpec(
        rule_id=5,
        kind="keywords",
        keywords=words("代开发票", "加微信", "兼职刷单", "刷单", "网贷", "微商", "招代理"),
        allowed=("加微信群",),
    ),
    RuleSpec(
        rule_id=6,
        kind="keywords",
        keywords=words("内部消息", "小道消息", "裁员", "要倒闭", "发不出工资", "集体罢工"),
    ),
    RuleSpec(rule_id=7, kind="confidential", keywords=words("星河项目", "天枢计划")),
    RuleSpec(
        rule_id=8,
        kind="links",
        block_domains=("evil-bet.com", "xpj888.vip"),
        shortener_domains=("t.cn", "dwz.cn", "url.cn", "bit.ly"),
    ),
]

FACTORY_CHATTER = [
    "各位班组长：下周排产计划已经发到群文件，请按计划准备物料",
    "二号线今天排产1200台，换型时间预计40分钟",
    "A-1023外壳来料检验不合格，毛刺超标，已通知供应商返工",
    "IQC抽检50件，不良3件，已经隔离到不良品区",
    "今晚注塑车间加班到10点，夜宵食堂统一安排",
    "明天周六加班，需要加班的同事在OA上提交加班申请",
    "出货单已经发给仓库，下午4点前装车，物流车3点到",
    "客户催交期了，这批电源板能不能提前两天出货？",
    "交期确认：B2外壳5月20日交货，数量3000件",
    "品质部通知：本周客诉2起，均为包装破损，请包装线加强检查",
    "首件检验已完成，OK，可以批量生产",
    "返工的那批控制盒已经全部复检合格，今天可以入库",
    "安全提醒：进入车间必须戴安全帽，叉车通道不得堆放物料",
    "设备保养计划：周三下午冲压车间停线保养2小时",
    "空压机压力偏低，维修组请过来看一下",
    "模具保养到期，三号线停机换模大概一个半小时",
    "5S检查结果：装配车间扣2分，工具没有归位",
    "SMT线良率今天98.5%，比昨天提升了0.7个点",
    "PCB板库存还剩200片，采购请尽快补料",
    "ERP系统今晚10点到12点升级，期间无法开单",
    "固体废物要分类存放，废物料统一放到指定区域，每周五废物回收",
    "新同事请加微信群，群名是装配车间-生产交流群",
    "质检报告已经上传共享盘，文件名：电源板检验报告.xlsx",
    "作业指导书更新到C版了，旧版请收回，见 http://oa.junma-tech.cn/sop/1023",
    "公司通知 https://mp.weixin.qq.com/s/Ab3dEfGh 请大家阅读",
    "培训资料放网盘了 https://pan.baidu.com/s/1aBcD 提取码 k8m2",
    "消防演习周四下午三点，听到警报按疏散路线撤离",
    "这个工单的数量是500还是5000？麻烦确认一下",
    "月底盘点，请各班组提前整理好现场",
    "供应商说M6螺丝要延期三天到货，排产要调整一下",
    "夜班注意设备点检，发现异常及时报告班长",
    "今天的产量：一号线850台，二号线920台，辛苦大家了👍",
    "收到",
    "好的，马上安排",
    "@张工 首件检验做了吗？",
    "谢谢李班长！🙏",
    "客户审核下周二到厂，各部门把现场整理好，资料准备齐全",
    "下周一开始夏季作息，午休时间调整为12:00-13:30",
    "扫黄打非宣传资料已经贴在公告栏了",
    "车间温度太高了，风扇已经申请，预计明天到",
    "这个尺寸超差0.05mm，要不要让步接收？请品质部判定",
    "仓库：来料10箱已到，请安排卸货，王主管去签收",
    "老板说这个月的奖金月底发，大家再坚持一下",
    "SB-200型号的支架图纸已经发出，请查收",
    "feedback表填好了，已经发到HR邮箱",
    "DB-9接头要换成新的，供应商下午送样",
    "打卡机坏了，今天先手工登记考勤",
    "廢料區的垃圾請及時清理，明天有檢查",  # a colleague typing traditional characters
    "ＱＣ早会 ８：００ 在品质部门口，别迟到",
]


def test_ordinary_factory_chatter_makes_no_hit():
    assert len(FACTORY_CHATTER) >= 30
    screen = Screen(REALISTIC_RULES)
    hits = screen.screen([Incoming("text", line) for line in FACTORY_CHATTER])
    assert [(FACTORY_CHATTER[hit.index], hit.matched) for hit in hits] == []


def test_the_realistic_rules_still_catch_what_they_are_for():
    """The same rules are not silent by construction: each catches its kind of message."""
    screen = Screen(REALISTIC_RULES)
    bad = [
        "周末去澳门赌 博，谁一起",
        "兼职刷单日结，加微信 abc123",
        "听说公司要裁员了，内部消息",
        "你个傻逼",
        "今晚db吗",
        "星河项目的报价是多少",
        "注册就送 http://www.xpj888.vip/reg",
    ]
    hits = screen.screen([Incoming("text", line) for line in bad])
    assert sorted({hit.index for hit in hits}) == list(range(len(bad)))
