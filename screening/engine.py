"""The screening engine: HR's rules compiled once, a batch of messages screened in one pass
(docs/screening.md). Pure Python, no Django: the import service hands it plain values and
stores what it returns, and bench/screening.py times it on its own.

What it flags, for HR to decide (a hit only ever proposes a case): keyword lists — politics
and pornography (§9.1), insults (§9.3), gambling (§9.4), advertising (§9.11), rumours and
negative talk (§5.3.d) — and classified names outside the confidential group (§6.1); links to
blocked, unlisted or hidden (short-link) sites, QR codes and mini programs (§9.4, §9.11).
Variants and simple evasions still match: traditional characters, full width, upper case,
separators between the letters, pinyin initials HR listed.

What the sender's separators (spaces, punctuation, emoji …) still decide, though dropped:

- whole words: a keyword marked 整词匹配 may not continue an ASCII word ("db" in "去db玩",
  not in "feedback" or "DB-9"). Chinese has no spaces between words, so a CJK edge is always a
  word boundary: 整词匹配 on a Chinese keyword changes nothing (Keyword.clean() refuses it);
- allowed phrases: an allowed phrase is one run of letters. It spares a keyword only where the
  message holds it with no separator inside it — except inside the keyword itself, which
  makes the keyword no plainer than writing it in one run. With 废物料 allowed, "废物料要分类"
  and "废 物料" are no hit, while "你这个废物，料你也不敢" and "你这个废物😀料" are: the
  separator after 废物 cuts the allowance off. (HR's own separators in an allowed phrase are
  dropped like a keyword's: "废物 料" allows what "废物料" allows.)
- links: a user name before the host ("http://good.com@evil.com" goes to evil.com) is no
  host, and a Chinese full stop between a link's ASCII letters ("evil。com", also ｡ and ．)
  reads as the dot it stands for — never elsewhere, so "明天见。好的" stays no link.

Why it is built this way (issue 15, 性能: 1,000,000 messages × 5,000 keywords × 1,000 domains
in ≤ 30 s):

- one Aho-Corasick automaton (pyahocorasick) holds every keyword of every keyword and
  confidential rule, so a text is read once whatever the number of words;
- a batch is normalised in a few calls over the whole batch joined by "\\n" (one opencc
  call, one casefold, one separator regex), not message by message;
- the costly checks — whole word, allow-list, the URL regex — run only where a cheap test
  says they can matter (a candidate match, a "." in the text); a message's word breaks are
  found only for a candidate that needs them, once.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

import ahocorasick  # type: ignore[import-not-found,unused-ignore]  # no stubs
import opencc

__all__ = [
    "MATCHED_MINI_PROGRAM",
    "MATCHED_QR",
    "QR_HOSTS",
    "EngineHit",
    "Incoming",
    "KeywordSpec",
    "RuleSpec",
    "Screen",
    "normalize",
]

# ScreeningRule.Kind values, as plain strings (no Django here).
KEYWORDS = "keywords"
CONFIDENTIAL = "confidential"
LINKS = "links"
FLOOD = "flood"  # §9.7: counted per sender per day in the database, not by the engine
MINI_PROGRAM = "mini_program"  # Message.Kind

MATCHED_MINI_PROGRAM = "小程序"
MATCHED_QR = "二维码"
MATCHED_SHORT_LINK = "短链接 {host}"

# §9.4, §9.11: links that open a QR code to scan (a friend, a group, a payment, a mini
# program) — where a person can be led off the company's groups. (host, path prefix); the host
# covers its subdomains.
QR_HOSTS: tuple[tuple[str, str], ...] = (
    ("weixin.qq.com", "/q/"),  # a personal WeChat QR code
    ("weixin.qq.com", "/g/"),  # a group's QR code
    ("u.wechat.com", ""),  # WeChat's own short QR links
    ("qr.alipay.com", ""),  # Alipay payment / transfer codes
    ("wxaurl.cn", ""),  # a mini program's URL link (opens it from outside WeChat)
)

# How many messages are normalised together: large enough that the per-call costs vanish,
# small enough that a batch's strings stay a few MB.
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class KeywordSpec:
    word: str  # as HR wrote it
    whole_word: bool = False  # not inside a longer word (see _is_whole_word)
    initials: str = ""  # pinyin initials HR listed ("db" for 赌博): matched as a whole word


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: int  # ScreeningRule.pk
    kind: str  # "keywords" | "confidential" | "links" ("flood" is counted in the DB, not here)
    keywords: tuple[KeywordSpec, ...] = ()
    allowed: tuple[str, ...] = ()  # a keyword match inside one of these is no hit (_is_allowed)
    block_domains: tuple[str, ...] = ()
    allow_domains: tuple[str, ...] = ()
    shortener_domains: tuple[str, ...] = ()
    flag_short_links: bool = True
    flag_unlisted_domains: bool = False
    flag_mini_programs: bool = True


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: str  # Message.Kind value: "text", "link", "mini_program", "image", …
    content: str  # for links the reader puts title and URL in the content
    confidential_group: bool = False  # §6.1: "confidential" rules never hit in 管理群


@dataclass(frozen=True, slots=True)
class EngineHit:
    index: int  # position of the message in the batch given to screen()
    rule_id: int
    matched: str  # the keyword as HR wrote it / the host / "短链接 t.cn" / "小程序" / "二维码"
    # Keyword hits: the match with up to 2 letters either side in the normalised, compacted
    # text — what an allow-list suggestion holds if HR dismisses the hit as 误报.
    phrase: str = ""


# --- Normalisation -----------------------------------------------------------------------

_T2S = opencc.OpenCC("t2s.json")

# Full-width punctuation that nearly every Chinese message holds. Replacing each by its own
# NFKC form first gives the same NFKC result (NFKC maps each of them alone), and lets
# unicodedata's quick check pass, so that a message without full-width letters or digits
# skips the full normalisation, the costliest step of all (≈ 5 µs a message).
_COMMON_FULL_WIDTH = tuple(
    (char, unicodedata.normalize("NFKC", char)) for char in "，！？；：（）　～…"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
# Separators: anything that is not a letter or digit (spaces, punctuation, emoji, symbols,
# ZWJ, variation selectors; "_" too) — dropped so that "赌 博", "赌.博", "赌😀博" read 赌博.
_SEPARATORS = re.compile(r"[\W_]+")
# The same, keeping the "\n" that joins the messages of a batch.
_SEPARATORS_IN_BATCH = re.compile(r"[^\w\n]+|_+")
_WORD_RUN = re.compile(r"[^\W_]+")


def normalize(text: str) -> str:
    """NFKC (full width → half width, ① → 1), traditional → simplified (opencc t2s), casefold:
    賭博 and ＤＢ read 赌博 and db. Keywords and messages go through the same steps."""
    text = unicodedata.normalize("NFKC", text)
    try:
        text = _T2S.convert(text)
    except UnicodeEncodeError:  # a lone surrogate (a broken export): opencc reads UTF-8
        text = _T2S.convert(_SURROGATES.sub("\ufffd", text))
    return text.casefold()


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text)


def search_form(text: str) -> str:
    """A keyword, initials or allowed phrase as the automaton holds it: normalised, without
    separators ("賭 博" → 赌博). The review pages find a hit's words in its message by it."""
    return _compact(normalize(text))


def _normalize_batch(joined: str) -> str:
    """normalize() of each of the texts joined by "\\n" (none holds a "\\n" of its own)."""
    for char, replacement in _COMMON_FULL_WIDTH:
        if char in joined:
            joined = joined.replace(char, replacement)
    if not unicodedata.is_normalized("NFKC", joined):
        # Message by message: only the few that need it pay for the full normalisation.
        joined = "\n".join(
            part if unicodedata.is_normalized("NFKC", part) else unicodedata.normalize("NFKC", part)
            for part in joined.split("\n")
        )
    try:
        joined = _T2S.convert(joined)
    except UnicodeEncodeError:
        joined = _T2S.convert(_SURROGATES.sub("\ufffd", joined))
    return joined.casefold()


# --- Keywords (§9.1, §9.3, §9.4, §9.11, §5.3.d; §6.1 for the confidential rules) -----------


class _Entry(NamedTuple):
    """What a key of the automaton means to one rule."""

    rule_id: int
    matched: str  # the keyword as HR wrote it
    length: int  # of the compacted key
    whole_word: bool
    confidential: bool
    # (allowed phrase, where the key lies in it): the key at s is allowed when the text
    # holds the phrase at s - offset.
    allowed: tuple[tuple[str, int], ...]


def _in_a_word(char: str) -> bool:
    """Whether a letter can continue a word into its neighbour: letters and digits of the
    alphabetic scripts (ASCII, and accented Latin, Cyrillic … below U+2E80). CJK and the
    scripts above never do: Chinese runs its words together, so a Chinese letter's edge is
    a word boundary — "db" is a word in "去db玩", and 傻逼 one in "你个傻逼"."""
    return char < "\u2e80"


# Between ASCII letters or digits these join one token rather than part two words: a model
# number (SB-200), a host (db.example.com), a file or user name (a_db, x@db). "db" in them is
# no whole word, where "ok db" or "去db玩" is.
_JOINERS = frozenset("-._/@:'")


def _word_breaks(normalized: str) -> set[int]:
    """Offsets in the compacted text where a separator stood in the normalised one and broke
    the word there (and the two ends)."""
    breaks = {0}
    position = 0
    previous_end = -1
    for run in _WORD_RUN.finditer(normalized):
        gap = normalized[previous_end : run.start()] if previous_end >= 0 else ""
        if not (gap in _JOINERS and normalized[previous_end - 1].isascii() and run[0][0].isascii()):
            breaks.add(position)
        position += run.end() - run.start()
        previous_end = run.end()
    breaks.add(position)
    return breaks


def _continues(text: str, at: int, breaks: set[int]) -> bool:
    """Whether text[at - 1] and text[at] are letters of one word: both alphabetic and no
    separator broke the word between them."""
    return (
        0 < at < len(text)
        and at not in breaks
        and _in_a_word(text[at - 1])
        and _in_a_word(text[at])
    )


def _is_whole_word(text: str, start: int, end: int, breaks: set[int]) -> bool:
    """Neither neighbour of text[start:end] continues its edge's word."""
    return not (_continues(text, start, breaks) or _continues(text, end, breaks))


def _allowing_phrase(text: str, start: int, allowed: tuple[tuple[str, int], ...]) -> bool:
    """Whether an allowed phrase's letters lie around the key at ``start`` (separators not
    considered yet: the cheap test, before the message's word breaks are known)."""
    return any(
        offset <= start and text.startswith(phrase, start - offset) for phrase, offset in allowed
    )


def _is_allowed(
    text: str, start: int, end: int, allowed: tuple[tuple[str, int], ...], breaks: set[int]
) -> bool:
    """Whether the key at text[start:end] lies in an allowed phrase that the message holds in
    one run: no separator inside the phrase, but inside the key (docs/screening.md, 允许词).
    "你这个废物，料" does not hold 废物料 — the comma ends the word 废物 before 料; "废 物料"
    does, the space breaking only the keyword (that alone hides nothing: "废物料" written in
    one run is no hit either), and so does "总裁，员工" hold 裁员工 (a match across a sentence
    that a 误报's suggestion allows)."""
    for phrase, offset in allowed:
        at = start - offset
        if offset <= start and text.startswith(phrase, at):
            inside = range(at + 1, at + len(phrase))
            if not any(b in breaks and not start < b < end for b in inside):
                return True
    return False


def _occurrences(phrase: str, key: str) -> list[int]:
    found = []
    at = phrase.find(key)
    while at >= 0:
        found.append(at)
        at = phrase.find(key, at + 1)
    return found


def _keyword_entries(rule: RuleSpec) -> Iterable[tuple[str, _Entry]]:
    allowed = [phrase for phrase in (search_form(p) for p in rule.allowed) if phrase]
    for keyword in rule.keywords:
        forms = [(keyword.word, keyword.whole_word)]
        if keyword.initials:
            forms.append((keyword.initials, True))  # "db" inside "feedback" is no 赌博
        for written, whole_word in forms:
            key = search_form(written)
            if not key:  # only separators (an emoji): nothing that could match
                continue
            yield (
                key,
                _Entry(
                    rule_id=rule.rule_id,
                    matched=keyword.word,
                    length=len(key),
                    whole_word=whole_word,
                    confidential=rule.kind == CONFIDENTIAL,
                    allowed=tuple(
                        (phrase, offset)
                        for phrase in allowed
                        for offset in _occurrences(phrase, key)
                    ),
                ),
            )


def _add_entry(same_key: list[_Entry], entry: _Entry) -> None:
    """One entry per (key, rule): "賭博" and "赌博" in one list are one word. Of two, the one
    that matches more stays (a word as a substring over the same letters as initials)."""
    for at, other in enumerate(same_key):
        if other.rule_id == entry.rule_id:
            if other.whole_word and not entry.whole_word:
                same_key[at] = entry
            return
    same_key.append(entry)


# --- Links (§9.4, §9.11) -------------------------------------------------------------------

# Bare domains ("abc.com/x" without http://) are links only with one of these endings, so that
# "plan.xlsx", "v1.2" or "ok.thanks" are not; with http(s):// or www. any host is a link.
_BARE_TLDS = frozenset(
    "com net org cn top xyz vip cc io me info biz co tv club site online shop app link live "
    "pro wang ink fun icu ltd store tech space website win bet casino porn xxx sex cam hk tw "
    "mo asia mobi work ru uk us jp kr de tk ml ga cf gq".split()
)
# In normalised (casefolded, half-width) text. The host is ASCII: Chinese right after a URL
# ("http://abc.com看看") is not part of it.
_URL = re.compile(
    # A user name before the host ("http://good.com@evil.com/x", "user:pass@") is skipped: the
    # host follows the last "@" of the authority (printable ASCII up to the first / ? #).
    r"https?://(?:[!-\"$-.0->@-~]*@)?(?P<host>[a-z0-9.-]+)(?P<path>[/?#:][!-~]*)?"
    r"|(?<![a-z0-9.@_/-])(?P<bare>(?:[a-z0-9-]+\.)+(?P<tld>[a-z]{2,24}))(?![a-z0-9-])"
    r"(?P<bare_path>[/?#:][!-~]*)?"
)


# A CJK full stop (。, and ｡ that NFKC makes 。; ． is "." already) between the ASCII letters of
# a link: "evil。com" is how a link is typed past a dot-matching filter. Only there — "明天见。
# 好的" gains no dot — and the link still needs a scheme, www. or a known ending.
_CJK_DOT = re.compile("。(?<=[a-z0-9-]。)(?=[a-z0-9])")


def clean_domain(domain: str) -> str:
    """A listed domain as hosts are compared: lower case, no scheme, path or "www."."""
    domain = normalize(domain).strip()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain)
    domain = re.split(r"[/:?#\s]", domain, maxsplit=1)[0].strip(".")
    return domain.removeprefix("*.").removeprefix("www.")


def _suffixes(host: str) -> list[str]:
    """ "a.b.com" → ["a.b.com", "b.com", "com"]: longest first, so the most specific listing
    of a domain wins (block example.com, allow safe.example.com)."""
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def _is_qr(suffixes: list[str], path: str) -> bool:
    return any(host in suffixes and path.startswith(prefix) for host, prefix in QR_HOSTS)


class _LinkRule:
    """One links rule: its lists as one dictionary (domain → listing) searched by suffix."""

    def __init__(self, spec: RuleSpec) -> None:
        self.rule_id = spec.rule_id
        self.listing: dict[str, str] = {}
        # Allow first, block last: a domain on two lists of one rule is blocked.
        for listing, domains in (
            ("allow", spec.allow_domains),
            ("shortener", spec.shortener_domains),
            ("block", spec.block_domains),
        ):
            for domain in domains:
                if cleaned := clean_domain(domain):
                    self.listing[cleaned] = listing
        self.flag_short_links = spec.flag_short_links
        # §9.4: "only the allowed sites" means something only once HR allowed some.
        self.flag_unlisted = spec.flag_unlisted_domains and bool(spec.allow_domains)
        self.flag_mini_programs = spec.flag_mini_programs

    def verdict(self, host: str, suffixes: list[str], path: str) -> str | None:
        """What a link to host/path makes this rule flag, or None."""
        listing = next((self.listing[s] for s in suffixes if s in self.listing), None)
        if listing == "block":
            return host
        if self.flag_mini_programs and _is_qr(suffixes, path):
            return MATCHED_QR
        if listing == "shortener":
            # A short link hides where it goes: a person looks (§9.4).
            return MATCHED_SHORT_LINK.format(host=host) if self.flag_short_links else None
        if listing is None and self.flag_unlisted:
            return host
        return None


def _links(text: str) -> Iterable[tuple[str, list[str], str]]:
    """(host without "www.", its suffixes, path) of each link in a normalised text."""
    for match in _URL.finditer(text):
        host = match["host"]
        if host is None:
            host = match["bare"]
            if not host.startswith("www.") and match["tld"] not in _BARE_TLDS:
                continue
            path = match["bare_path"] or ""
        else:
            path = match["path"] or ""
        host = host.strip(".-").removeprefix("www.")
        if host:
            yield host, _suffixes(host), path


# --- The screen ----------------------------------------------------------------------------


class Screen:
    """HR's rules compiled once; screen() any number of batches with it."""

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        entries: dict[str, list[_Entry]] = {}
        self._link_rules: list[_LinkRule] = []
        for rule in rules:
            if rule.kind in (KEYWORDS, CONFIDENTIAL):
                for key, entry in _keyword_entries(rule):
                    _add_entry(entries.setdefault(key, []), entry)
            elif rule.kind == LINKS:
                self._link_rules.append(_LinkRule(rule))
            elif rule.kind != FLOOD:
                raise ValueError(f"unknown screening rule kind {rule.kind!r}")
        self._automaton: Any = None
        if entries:
            self._automaton = ahocorasick.Automaton()
            for key, same_key in entries.items():
                self._automaton.add_word(key, tuple(same_key))
            self._automaton.make_automaton()

    def screen(self, messages: Sequence[Incoming]) -> list[EngineHit]:
        """The hits of a batch, in message order; at most one per (message, rule): the first
        match in the text (keywords before links)."""
        hits: list[EngineHit] = []
        for start in range(0, len(messages), _CHUNK):
            self._screen_chunk(messages[start : start + _CHUNK], start, hits)
        hits.sort(key=attrgetter("index"))  # stable: a message's keyword hits stay first
        return hits

    def _screen_chunk(self, chunk: Sequence[Incoming], offset: int, hits: list[EngineHit]) -> None:
        if not chunk:
            return
        contents = [message.content for message in chunk]
        joined = "\n".join(contents)
        if joined.count("\n") != len(contents) - 1:  # a content has newlines of its own
            joined = "\n".join(content.replace("\n", " ") for content in contents)
        normalized = _normalize_batch(joined)
        if normalized.count("\n") != len(contents) - 1:  # never seen; do not guess
            normalized = "\n".join(normalize(part) for part in joined.split("\n"))
        if self._automaton is not None:
            self._keyword_hits(chunk, normalized, offset, hits)
        if self._link_rules:
            if "。" in normalized:
                normalized = _CJK_DOT.sub(".", normalized)  # links only: keywords are done
            self._link_hits(chunk, normalized.split("\n"), offset, hits)

    def _keyword_hits(
        self, chunk: Sequence[Incoming], normalized: str, offset: int, hits: list[EngineHit]
    ) -> None:
        compacted = _SEPARATORS_IN_BATCH.sub("", normalized)
        texts = compacted.split("\n")
        starts = [0]
        for text in texts:
            starts.append(starts[-1] + len(text) + 1)
        # (message, rule) → (start, -length, entry) of its best match so far: the first in the
        # text, the longest of those ("赌博" rather than "赌" in "去赌博吗").
        best: dict[tuple[int, int], tuple[int, int, _Entry]] = {}
        word_breaks: dict[int, set[int]] = {}
        normalized_texts: list[str] = []

        def breaks_of(i: int) -> set[int]:
            nonlocal normalized_texts
            if i not in word_breaks:
                normalized_texts = normalized_texts or normalized.split("\n")
                word_breaks[i] = _word_breaks(normalized_texts[i])
            return word_breaks[i]

        for last, keyed in self._automaton.iter(compacted):
            i = bisect_right(starts, last) - 1
            text = texts[i]
            end = last - starts[i] + 1
            for entry in keyed:
                start = end - entry.length
                found = best.get((i, entry.rule_id))
                if found is not None and found[:2] <= (start, -entry.length):
                    continue
                if entry.confidential and chunk[i].confidential_group:
                    continue  # §6.1: classified names belong in 管理群
                if entry.whole_word and not _is_whole_word(text, start, end, breaks_of(i)):
                    continue
                if (
                    entry.allowed
                    and _allowing_phrase(text, start, entry.allowed)
                    and _is_allowed(text, start, end, entry.allowed, breaks_of(i))
                ):
                    continue
                best[i, entry.rule_id] = (start, -entry.length, entry)
        for (i, rule_id), (start, _, entry) in sorted(
            best.items(), key=lambda b: (b[0][0], b[1][:2])
        ):
            text = texts[i]
            phrase = text[max(0, start - 2) : start + entry.length + 2]
            hits.append(EngineHit(offset + i, rule_id, entry.matched, phrase))

    def _link_hits(
        self, chunk: Sequence[Incoming], texts: list[str], offset: int, hits: list[EngineHit]
    ) -> None:
        for i, text in enumerate(texts):
            flagged: set[int] = set()
            if "." in text:  # every link the regex knows has a dot
                for host, suffixes, path in _links(text):
                    for rule in self._link_rules:
                        if rule.rule_id in flagged:
                            continue
                        if (matched := rule.verdict(host, suffixes, path)) is not None:
                            flagged.add(rule.rule_id)
                            hits.append(EngineHit(offset + i, rule.rule_id, matched))
            if chunk[i].kind == MINI_PROGRAM:
                for rule in self._link_rules:
                    if rule.flag_mini_programs and rule.rule_id not in flagged:
                        hits.append(EngineHit(offset + i, rule.rule_id, MATCHED_MINI_PROGRAM))
