"""HR's review of screening hits (issue 15, point 3; docs/screening.md): confirm or dismiss
the case a hit proposed, and the allow-list suggestions that dismissals as 误报 feed.

Guarantees:
- a hit's case is decided only through violations.services (case_confirm, case_dismiss):
  who may decide (HR, ``violations.decide_case``), four eyes, "nobody decides about
  themselves" and the employee's explanation window are theirs, enforced whoever calls;
- a dismissal as 误报 records its reason as "误报：…" on the case and, for a keyword rule,
  counts one more dismissal for each suggested allowed phrase around the keyword (the
  keyword with the letter after it, and with the one before it; never the keyword alone) — in the
  same transaction as the dismissal, so a refused dismissal suggests nothing;
- only who edits the screening rules (``screening.change_screeningrule``) accepts or
  rejects a suggestion; accepting adds the allowed phrase (once) with who added it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user, require_actor
from common.exceptions import ServiceError
from screening import selectors
from screening.models import AllowedPhrase, AllowSuggestion, Hit, Keyword, ScreeningRule
from violations.models import Case
from violations.services import case_confirm, case_dismiss

RULES_PERMISSION = "screening.change_screeningrule"
FALSE_POSITIVE_PREFIX = "误报："
FALSE_POSITIVE_DEFAULT = "命中内容在此处并无违规含义。"
EXAMPLE_MAX_CHARS = 500

ERROR_NO_CASE = "这条命中没有提出案件（发言人未匹配到员工），没有可确认或驳回的案件。"
ERROR_NOT_RULE_EDITOR = "只有人力资源部（可以修改筛查规则的人）可以处理允许词建议。"
ERROR_SUGGESTION_CLOSED = "允许词建议“{phrase}”已处理（{status}）。"
ERROR_KEYWORD_TOO_LONG = "第 {line} 行：关键词不能超过 {limit} 个字。"

# Rules whose hits are keywords in the text: a 误报 there suggests an allowed phrase.
KEYWORD_KINDS = (ScreeningRule.Kind.KEYWORDS, ScreeningRule.Kind.CONFIDENTIAL)


class ReviewError(ServiceError):
    """A review step refused; nothing was written."""


def _case_of(hit: Hit) -> Case:
    if hit.case_id is None:
        raise ReviewError(ERROR_NO_CASE)
    return hit.case  # type: ignore[return-value]  # case_id checked above


def hit_confirm(*, hit: Hit, actor: Actor, comment: str = "") -> Case:
    """Confirm the case ``hit`` proposed (violations.services.case_confirm: HR only, four
    eyes, after the employee's explanation window; the points fixed now)."""
    require_actor(actor)
    return case_confirm(case=_case_of(hit), actor=actor, comment=comment)


@transaction.atomic
def hit_dismiss(*, hit: Hit, actor: Actor, false_positive: bool, comment: str) -> Case:
    """Dismiss the case ``hit`` proposed (violations.services.case_dismiss). As 误报 the
    reason is "误报：" + ``comment`` (a standard sentence when empty) and, for a keyword rule,
    the allowed phrase around the keyword is suggested once more (hit_suggest); otherwise
    ``comment`` is required (case_dismiss refuses an empty one)."""
    require_actor(actor)
    case = _case_of(hit)
    comment = (comment or "").strip()
    if false_positive:
        comment = FALSE_POSITIVE_PREFIX + (comment or FALSE_POSITIVE_DEFAULT)
    case = case_dismiss(case=case, actor=actor, comment=comment)
    if false_positive:
        hit_suggest(hit)
    return case


def hit_suggest(hit: Hit) -> list[AllowSuggestion]:
    """Count one 误报 for each phrase around ``hit``'s keyword (selectors.suggestion_phrases:
    the keyword with the letter after it, and with the letter before it): the suggestions made
    or updated (their example the latest message); none for a link or flood rule, a keyword
    with nothing around it, or one not found in the text. Called inside hit_dismiss's
    transaction."""
    rule = hit.screening_rule
    if rule.kind not in KEYWORD_KINDS:
        return []
    initials = Keyword.objects.filter(screening_rule=rule, word=hit.matched).values_list(
        "initials", flat=True
    )
    words = selectors.searched_words(hit.matched, [i for i in initials if i])
    content = hit.message.content
    suggestions = []
    for phrase in selectors.suggestion_phrases(content, words, stored=hit.phrase):
        suggestion, _ = AllowSuggestion.objects.get_or_create(
            screening_rule=rule,
            phrase=phrase,
            defaults={
                "keyword": hit.matched[: AllowSuggestion._meta.get_field("keyword").max_length]
            },
        )
        # F(): two clerks dismissing at once both count.
        AllowSuggestion.objects.filter(pk=suggestion.pk).update(
            dismissals=F("dismissals") + 1,
            example=content[:EXAMPLE_MAX_CHARS],
            updated_at=timezone.now(),
        )
        suggestion.refresh_from_db()
        suggestions.append(suggestion)
    return suggestions


def _refuse_unless_rule_editor(actor: Actor) -> None:
    if not actor_may(actor, RULES_PERMISSION):
        raise ReviewError(ERROR_NOT_RULE_EDITOR)


def _open_suggestion(suggestion: AllowSuggestion) -> AllowSuggestion:
    locked = AllowSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != AllowSuggestion.Status.OPEN:
        raise ReviewError(
            ERROR_SUGGESTION_CLOSED.format(phrase=locked.phrase, status=locked.get_status_display())
        )
    return locked


@transaction.atomic
def suggestion_accept(*, suggestion: AllowSuggestion, actor: Actor) -> AllowedPhrase:
    """Add the suggested phrase to its rule's allowed phrases (once: an existing one is kept
    as it is) and close the suggestion as 已加入允许词."""
    _refuse_unless_rule_editor(actor)
    suggestion = _open_suggestion(suggestion)
    allowed = AllowedPhrase.objects.filter(
        screening_rule_id=suggestion.screening_rule_id, phrase=suggestion.phrase
    ).first()
    if allowed is None:
        allowed = AllowedPhrase(
            screening_rule_id=suggestion.screening_rule_id,
            phrase=suggestion.phrase,
            added_by=actor_user(actor),
        )
        allowed.full_clean()
        allowed.save()
    suggestion.status = AllowSuggestion.Status.ACCEPTED
    suggestion.save(update_fields=["status", "updated_at"])
    return allowed


@transaction.atomic
def suggestion_reject(*, suggestion: AllowSuggestion, actor: Actor) -> AllowSuggestion:
    """Close the suggestion as 不采纳; later 误报 still count on it, and it stays closed."""
    _refuse_unless_rule_editor(actor)
    suggestion = _open_suggestion(suggestion)
    suggestion.status = AllowSuggestion.Status.REJECTED
    suggestion.save(update_fields=["status", "updated_at"])
    return suggestion


def keyword_lines(text: str) -> list[str]:
    """HR's bulk entry read: one keyword a line, stripped, blank lines and repeats left out;
    ReviewError naming the first line too long for a keyword."""
    limit = Keyword._meta.get_field("word").max_length or 0
    words: list[str] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        word = raw.strip()
        if len(word) > limit:
            raise ReviewError(ERROR_KEYWORD_TOO_LONG.format(line=line, limit=limit))
        if word and word not in words:
            words.append(word)
    return words


@transaction.atomic
def keywords_add(*, screening_rule: ScreeningRule, text: str, actor: Actor) -> list[Keyword]:
    """HR's bulk entry (批量添加关键词): the keywords of ``text`` (keyword_lines) the rule
    does not have yet, added as substring matches; returns them. A line too long refuses
    them all."""
    _refuse_unless_rule_editor(actor)
    words = keyword_lines(text)
    existing = set(
        Keyword.objects.filter(screening_rule=screening_rule, word__in=words).values_list(
            "word", flat=True
        )
    )
    added = [Keyword(screening_rule=screening_rule, word=w) for w in words if w not in existing]
    for keyword in added:
        keyword.full_clean(validate_unique=False)  # the existing words are left out above
    return Keyword.objects.bulk_create(added)
