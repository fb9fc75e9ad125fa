"""Reads for screening (docs/screening.md): HR's review queue of hits, a message in its
context, each rule's precision (issue 15, point 3), who may import a group's chat log, and
where in a message a hit's keyword sits (its highlight, and the 误报 suggestion's phrase).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.utils.html import format_html
from django.utils.safestring import SafeString

from groups.models import ChatGroup
from groups.selectors import roster_groups_visible_to
from screening.engine import normalize, search_form
from screening.models import Hit, Message, ScreeningRule
from violations.models import Case

IMPORT_PERMISSION = "screening.add_chatimport"
# What a row of the review queue shows, joined for the page's rows.
HIT_LIST_RELATED = [
    "message__group",
    "message__employee",
    "screening_rule__rule",
    "case",
]
# The queue: heaviest first (odd hours weigh more), then the oldest message — HR's case
# queue is oldest first too (violations.selectors.proposed_queue).
QUEUE_ORDER = ["-weight", "message__sent_at", "pk"]
# A case HR confirmed, whatever its appeal made of it since: the confirmation is what a
# rule's precision measures (an overturned appeal is about the sanction's fairness too).
CONFIRMED_STATES = (
    Case.State.CONFIRMED,
    Case.State.APPEALED,
    Case.State.UPHELD,
    Case.State.OVERTURNED,
)
CONTEXT_MESSAGES = 5  # before and after a hit's message on its page
SUGGESTION_MARGIN = 2  # letters or digits kept either side of a keyword in a suggestion
SUGGESTION_MAX = 64  # AllowSuggestion.phrase / AllowedPhrase.phrase
EXCERPT_CHARS = 24  # either side of the match in the queue's excerpt
PRECISION_TEXT = "确认 {confirmed} / 提出 {proposed}（{percent}%）"
SHORT_LINK_PREFIX = "短链接 "  # the engine's "短链接 t.cn": the domain is what the text holds


# -- the review queue and a hit's page ---------------------------------------------------------


def review_queue(user=None) -> QuerySet[Hit]:
    """Hits whose case waits for HR (待审核), heaviest first then oldest, with what a row
    shows. For ``user``, without the cases they may not decide: those they reported (four
    eyes) and their own (nobody decides about themselves) — violations.services.cases."""
    queue = (
        Hit.objects.filter(case__state=Case.State.PROPOSED)
        .select_related(*HIT_LIST_RELATED)
        .order_by(*QUEUE_ORDER)
    )
    if user is not None and user.pk is not None:
        queue = queue.exclude(case__reported_by_id=user.pk).exclude(case__employee__user_id=user.pk)
    return queue


def hits_for_list() -> QuerySet[Hit]:
    return Hit.objects.select_related(*HIT_LIST_RELATED).order_by(*QUEUE_ORDER)


def next_in_queue(user, *, after: Hit) -> Hit | None:
    """The hit HR reviews next: the first of their queue other than ``after``."""
    return review_queue(user).exclude(pk=after.pk).first()


def message_context(
    message: Message, before: int = CONTEXT_MESSAGES, after: int = CONTEXT_MESSAGES
) -> list[Message]:
    """``message`` with up to ``before`` messages of its group before it and ``after`` after
    it, by time (then by key, for messages of the same second), in order: two queries on the
    (group, sent_at, id) index, never another group's messages."""
    same_group = Message.objects.filter(group_id=message.group_id).select_related("employee")
    at = message.sent_at
    earlier = same_group.filter(Q(sent_at__lt=at) | Q(sent_at=at, pk__lt=message.pk)).order_by(
        "-sent_at", "-pk"
    )[:before]
    later = same_group.filter(Q(sent_at__gt=at) | Q(sent_at=at, pk__gt=message.pk)).order_by(
        "sent_at", "pk"
    )[:after]
    return [*reversed(list(earlier)), message, *later]


# -- each rule's precision -------------------------------------------------------------------


def rules_with_precision(rules: QuerySet[ScreeningRule] | None = None) -> QuerySet[ScreeningRule]:
    """Screening rules annotated, in one query, with their hits' cases: ``proposed`` (hits
    with a case), ``confirmed`` (ever confirmed: CONFIRMED_STATES), ``dismissed`` and
    ``pending`` (still 待审核). Precision is confirmed ÷ proposed (issue 15, point 3)."""
    rules = ScreeningRule.objects.all() if rules is None else rules
    return rules.annotate(
        proposed=Count("hits", filter=Q(hits__case__isnull=False)),
        confirmed=Count("hits", filter=Q(hits__case__state__in=CONFIRMED_STATES)),
        dismissed=Count("hits", filter=Q(hits__case__state=Case.State.DISMISSED)),
        pending=Count("hits", filter=Q(hits__case__state=Case.State.PROPOSED)),
    )


def precision_text(confirmed: int, proposed: int) -> str:
    """ "确认 3 / 提出 4（75%）"; "—" for a rule that proposed nothing yet."""
    if not proposed:
        return "—"
    percent = round(100 * confirmed / proposed)
    return PRECISION_TEXT.format(confirmed=confirmed, proposed=proposed, percent=percent)


# -- who imports a group's chat log ----------------------------------------------------------


def groups_user_can_import_for(user) -> QuerySet[ChatGroup]:
    """HR (screening.add_chatimport) imports for any group; a group's admins, and its creator
    unless it is confidential (§6.1), for theirs — the groups whose roster they see
    (groups.selectors.roster_groups_visible_to): a chat log says more than a roster."""
    if user is None or not user.is_authenticated:
        return ChatGroup.objects.none()
    if user.has_perm(IMPORT_PERMISSION):
        return ChatGroup.objects.all()
    return roster_groups_visible_to(user)


def can_import_chatlog(user, group: ChatGroup) -> bool:
    return groups_user_can_import_for(user).filter(pk=group.pk).exists()


# -- where a hit's keyword sits in its message -------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    # Char by char (cached), to know where each kept character came from: the engine
    # normalises whole batches, which only tells whether, not where.
    return normalize(char)


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` normalised char by char without its separators (anything not a letter or
    digit), and for each character kept the index in ``text`` it came from."""
    kept: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded in _fold(char):
            if folded.isalnum():
                kept.append(folded)
                origin.append(index)
    return "".join(kept), origin


def searched_words(matched: str, initials: Iterable[str] = ()) -> list[str]:
    """What to look for in a hit's message: the keyword (or domain) it matched, and the
    pinyin initials HR listed for it ("赌博" is found as "db" too)."""
    word = matched.removeprefix(SHORT_LINK_PREFIX)
    return [w for w in (word, *initials) if search_form(w)]


def locate(content: str, words: Iterable[str]) -> tuple[int, int] | None:
    """(start, end) in ``content`` of the first of ``words`` found as the engine finds it —
    traditional, full-width and spaced-out forms included ("賭 博" for 赌博) — else None."""
    compact, origin = _compact(content)
    for word in words:
        needle = search_form(word)
        at = compact.find(needle) if needle else -1
        if at >= 0:
            return origin[at], origin[at + len(needle) - 1] + 1
    return None


def suggestion_phrases(content: str, words: Iterable[str], *, stored: str = "") -> list[str]:
    """The allow-list phrases a 误报 suggests: the keyword with the letter after it, and with
    the letter before it ("又在赌气了" → 赌气, 在赌), normalised and without separators as the
    engine compares allowed phrases. Taken from ``stored`` (Hit.phrase, the engine's own: the
    keyword with up to SUGGESTION_MARGIN letters either side) when the hit has one, else found
    in ``content``. One letter either way, not the whole surrounding: a phrase that narrow
    recurs, so the dismissals of the true harmless word (赌气, 废物率) add up on one suggestion
    while the accidental neighbours stay at one. Never the keyword alone: allowing the keyword
    itself would switch it off."""
    needles = [n for n in (search_form(w) for w in words) if n]
    phrase = stored if stored else _phrase_in(content, needles)
    for needle in needles:
        at = phrase.find(needle)
        if at < 0:
            continue
        end = at + len(needle)
        candidates = [phrase[at : end + 1] if end < len(phrase) else ""]
        candidates.append(phrase[at - 1 : end] if at > 0 else "")
        return [c for c in candidates if c and c != needle and len(c) <= SUGGESTION_MAX]
    return []


def _phrase_in(content: str, needles: list[str]) -> str:
    compact, _ = _compact(content)
    for needle in needles:
        at = compact.find(needle)
        if at >= 0:
            start = max(0, at - SUGGESTION_MARGIN)
            return compact[start : at + len(needle) + SUGGESTION_MARGIN]
    return ""


def highlighted(content: str, words: Iterable[str], *, around: int | None = None) -> SafeString:
    """``content`` escaped, its match in <mark>; with ``around``, only that many characters
    either side of the match (…). Message content is whatever the chat held: never trusted."""
    span = locate(content, words)
    if span is None:
        text = content if around is None else content[: 2 * around]
        more = "…" if around is not None and len(content) > 2 * around else ""
        return format_html("{}{}", text, more)
    start, end = _widen(content, *span)
    head_from = 0 if around is None else _token_start(content, max(0, start - around))
    tail_to = (
        len(content) if around is None else _token_end(content, min(len(content), end + around))
    )
    return format_html(
        "{}{}<mark>{}</mark>{}{}",
        "…" if head_from > 0 else "",
        content[head_from:start],
        content[start:end],
        content[end:tail_to],
        "…" if tail_to < len(content) else "",
    )


TOKEN_SLACK = 40  # how much further an excerpt goes not to cut a link or word in two


def _in_token(char: str) -> bool:
    # Latin letters, digits and a link's punctuation: Chinese text may be cut anywhere.
    return char.isascii() and not char.isspace()


def _widen(content: str, start: int, end: int) -> tuple[int, int]:
    """The match, or the whole link or Latin word it lies in (a domain's hit marks its link)."""
    while start > 0 and _in_token(content[start - 1]) and _in_token(content[start]):
        start -= 1
    while end < len(content) and _in_token(content[end - 1]) and _in_token(content[end]):
        end += 1
    return start, end


def _token_start(content: str, at: int) -> int:
    """``at``, or up to TOKEN_SLACK characters earlier, where a link or Latin word starts."""
    limit = max(0, at - TOKEN_SLACK)
    while at > limit and _in_token(content[at - 1]) and _in_token(content[at]):
        at -= 1
    return at


def _token_end(content: str, at: int) -> int:
    """``at``, or up to TOKEN_SLACK characters later, where a link or Latin word ends."""
    limit = min(len(content), at + TOKEN_SLACK)
    while at < limit and at > 0 and _in_token(content[at - 1]) and _in_token(content[at]):
        at += 1
    return at
