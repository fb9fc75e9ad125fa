"""What HR may write in a screening rule (docs/screening.md, 规则): 整词匹配 is for English
words and pinyin abbreviations only — on a Chinese keyword it would mean nothing (the engine
treats a Chinese letter's edge as a word break), so the form says so rather than let HR
believe it narrows the word."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from screening.models import Keyword
from tests.factories import ScreeningRuleFactory
from tests.screening.test_admin import _row_version, _rule_post

pytestmark = pytest.mark.django_db

WHOLE_WORD_CHINESE = "整词匹配只用于英文单词或拼音缩写；中文关键词按字面匹配。"


@pytest.mark.parametrize("word", ["傻逼", "賭博", "废 物", "😀"])
def test_whole_word_on_a_word_without_ascii_letters_or_digits_is_refused(word):
    rule = ScreeningRuleFactory()
    keyword = Keyword(screening_rule=rule, word=word, whole_word=True)
    with pytest.raises(ValidationError) as refused:
        keyword.full_clean()
    assert refused.value.message_dict == {"whole_word": [WHOLE_WORD_CHINESE]}


@pytest.mark.parametrize(
    ("word", "whole_word"),
    [
        ("db", True),
        ("ＤＢ", True),  # full width reads db
        ("qq群", True),  # its ASCII edge is what 整词 checks
        ("SB-200", True),
        ("7788", True),
        ("傻逼", False),
        ("😀", False),
    ],
)
def test_whole_word_is_accepted_on_ascii_words_and_off_on_any_word(word, whole_word):
    rule = ScreeningRuleFactory()
    Keyword(screening_rule=rule, word=word, whole_word=whole_word).full_clean()


def test_the_rules_page_refuses_whole_word_on_a_chinese_keyword(client, hr):
    client.force_login(hr)
    rule = ScreeningRuleFactory(words=["傻逼"])
    url = reverse("admin:screening_screeningrule_change", args=[rule.pk])
    keyword_row = {
        "keywords-TOTAL_FORMS": "1",
        "keywords-INITIAL_FORMS": "1",
        "keywords-0-id": str(rule.keywords.get().pk),
        "keywords-0-screening_rule": str(rule.pk),
        "keywords-0-word": "傻逼",
        "keywords-0-whole_word": "on",
    }
    response = client.post(
        url, _rule_post(rule, **keyword_row, _row_version=_row_version(client, rule))
    )
    assert response.status_code == 200
    assert WHOLE_WORD_CHINESE in response.content.decode()
    assert not rule.keywords.get().whole_word
    # The same row with initials instead (as docs/screening.md says) saves.
    keyword_row.pop("keywords-0-whole_word")
    keyword_row["keywords-0-initials"] = "sb"
    response = client.post(
        url, _rule_post(rule, **keyword_row, _row_version=_row_version(client, rule))
    )
    assert response.status_code == 302
    assert rule.keywords.get().initials == "sb"
