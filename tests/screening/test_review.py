"""HR's review of screening hits (issue 15, point 3): confirm and dismiss through the case
services (HR only, four eyes), 误报 feeding allow-list suggestions, accepting them, the
message in context, each rule's precision, the queue's order — and the chat-log job's
upload handling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from common.actors import SystemActor
from company.roles import HR
from screening import selectors
from screening.jobs import chatlog_import_job
from screening.models import AllowedPhrase, AllowSuggestion, Hit, Keyword
from screening.services.review import (
    ERROR_KEYWORD_TOO_LONG,
    ERROR_NO_CASE,
    ERROR_NOT_RULE_EDITOR,
    ERROR_SUGGESTION_CLOSED,
    FALSE_POSITIVE_DEFAULT,
    FALSE_POSITIVE_PREFIX,
    ReviewError,
    hit_confirm,
    hit_dismiss,
    keywords_add,
    suggestion_accept,
    suggestion_reject,
)
from tests.factories import (
    ChatGroupFactory,
    ChatImportFactory,
    EmployeeFactory,
    MessageFactory,
    ScreeningRuleFactory,
    StaffUserFactory,
)
from violations.models import Case
from violations.services import CaseError, case_propose
from violations.services.cases import (
    ERROR_COMMENT_REQUIRED,
    ERROR_NOT_HR,
    ERROR_OWN_REPORT,
)

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("screening")
T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def hr_screens(seeded):
    """人力资源部 holds screening.* — company.roles once the app joins its OUR_APPS; until
    then granted here (a no-op afterwards)."""
    Group.objects.get(name=HR).permissions.add(
        *Permission.objects.filter(content_type__app_label="screening")
    )


def make_hit(
    *,
    content: str = "今晚一起去赌博吗",
    matched: str = "赌博",
    employee=None,
    unmatched: bool = False,
    group=None,
    screening_rule=None,
    sent_at: dt.datetime = T0,
    weight: str = "1",
    reporter=SYSTEM,
) -> Hit:
    """A message, its hit and — when its sender is an employee — the case proposed for it,
    as the import makes them (docs/screening.md)."""
    group = group or ChatGroupFactory()
    employee = None if unmatched else (employee or EmployeeFactory())
    message = MessageFactory(
        chat_import=ChatImportFactory(group=group),
        content=content,
        employee=employee,
        sent_at=sent_at,
    )
    screening_rule = screening_rule or ScreeningRuleFactory(words=[matched])
    case = None
    if employee is not None:
        case, _ = case_propose(
            rule_code=screening_rule.rule.code,
            employee=employee,
            source=Case.Source.SCREENING,
            source_key=f"message:{message.pk}:rule:{screening_rule.pk}",
            description=f"{group.name}：{content}",
            occurred_at=sent_at,
            actor=reporter,
            group=group,
        )
    return Hit.objects.create(
        message=message,
        screening_rule=screening_rule,
        matched=matched,
        weight=Decimal(weight),
        case=case,
    )


def last_comment(case: Case) -> str:
    return case.transitions.order_by("-at", "-pk").first().comment


# -- confirm and dismiss -----------------------------------------------------------------------


def test_confirm_confirms_the_hits_case_as_hr(hr):
    hit = make_hit()
    case = hit_confirm(hit=hit, actor=hr)
    case.refresh_from_db()
    assert case.state == Case.State.CONFIRMED
    assert case.confirmed_by == hr


def test_false_positive_dismisses_with_the_prefix_and_suggests_the_phrase_around_the_word(hr):
    hit = make_hit(content="他又在赌气了，别理他", matched="赌")
    case = hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert case.state == Case.State.DISMISSED
    assert last_comment(case) == FALSE_POSITIVE_PREFIX + FALSE_POSITIVE_DEFAULT
    assert set(AllowSuggestion.objects.values_list("phrase", flat=True)) == {"赌气", "在赌"}
    suggestion = AllowSuggestion.objects.get(phrase="赌气")
    assert (suggestion.keyword, suggestion.dismissals) == ("赌", 1)
    assert suggestion.screening_rule == hit.screening_rule
    assert suggestion.example == "他又在赌气了，别理他"


def test_false_positive_keeps_the_clerks_words_after_the_prefix(hr):
    hit = make_hit(content="他又在赌气了", matched="赌")
    case = hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="是生气的意思")
    assert last_comment(case) == "误报：是生气的意思"


def test_each_false_positive_of_the_same_phrase_counts_on_one_suggestion(hr):
    rule = ScreeningRuleFactory(words=["赌"])
    first = make_hit(content="他又在赌气了", matched="赌", screening_rule=rule)
    second = make_hit(content="今天又在赌气了吧", matched="赌", screening_rule=rule)
    hit_dismiss(hit=first, actor=hr, false_positive=True, comment="")
    hit_dismiss(hit=second, actor=hr, false_positive=True, comment="")
    suggestion = AllowSuggestion.objects.get(phrase="赌气")
    assert suggestion.dismissals == 2
    assert suggestion.example == "今天又在赌气了吧"  # the latest


def test_the_suggested_phrase_is_normalised_as_the_engine_compares(hr):
    hit = make_hit(content="他又在 賭 氣了", matched="赌")
    hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert set(AllowSuggestion.objects.values_list("phrase", flat=True)) == {"赌气", "在赌"}


def test_the_phrase_the_engine_stored_is_the_one_suggested(hr):
    hit = make_hit(content="废 物料要分类", matched="废物")
    Hit.objects.filter(pk=hit.pk).update(phrase="废物料要")
    hit.refresh_from_db()
    hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert AllowSuggestion.objects.get().phrase == "废物料"


def test_a_stored_phrase_that_is_the_keyword_alone_suggests_nothing(hr):
    hit = make_hit(content="废物！", matched="废物")
    Hit.objects.filter(pk=hit.pk).update(phrase="废物")
    hit.refresh_from_db()
    hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert not AllowSuggestion.objects.exists()


def test_a_keyword_standing_alone_suggests_nothing(hr):
    # Allowing the keyword itself would switch the keyword off.
    hit = make_hit(content="赌！", matched="赌")
    hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert not AllowSuggestion.objects.exists()


def test_a_link_rules_false_positive_suggests_nothing(hr):
    rule = ScreeningRuleFactory(kind="links")
    hit = make_hit(content="看看 https://t.cn/abc", matched="短链接 t.cn", screening_rule=rule)
    case = hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert case.state == Case.State.DISMISSED
    assert not AllowSuggestion.objects.exists()


def test_a_plain_dismissal_needs_a_reason_and_suggests_nothing(hr):
    hit = make_hit(content="他又在赌气了", matched="赌")
    with pytest.raises(CaseError, match=ERROR_COMMENT_REQUIRED):
        hit_dismiss(hit=hit, actor=hr, false_positive=False, comment="  ")
    case = hit_dismiss(hit=hit, actor=hr, false_positive=False, comment="群里的玩笑，已提醒")
    assert case.state == Case.State.DISMISSED
    assert last_comment(case) == "群里的玩笑，已提醒"
    assert not AllowSuggestion.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "group_admin", "finance"])
def test_who_is_not_hr_neither_confirms_nor_dismisses(request, who):
    actor = request.getfixturevalue(who)
    hit = make_hit(content="他又在赌气了", matched="赌")
    with pytest.raises(CaseError, match=ERROR_NOT_HR):
        hit_confirm(hit=hit, actor=actor)
    with pytest.raises(CaseError, match=ERROR_NOT_HR):
        hit_dismiss(hit=hit, actor=actor, false_positive=True, comment="")
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED
    assert not AllowSuggestion.objects.exists()  # the refused dismissal suggested nothing


def test_four_eyes_the_reporter_neither_confirms_nor_dismisses_another_clerk_does(hr, hr2):
    hit = make_hit(reporter=hr)
    with pytest.raises(CaseError, match=ERROR_OWN_REPORT):
        hit_confirm(hit=hit, actor=hr)
    with pytest.raises(CaseError, match=ERROR_OWN_REPORT):
        hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    assert hit_confirm(hit=hit, actor=hr2).state == Case.State.CONFIRMED


def test_a_hit_without_a_case_has_nothing_to_decide(hr):
    hit = make_hit(unmatched=True)
    assert hit.case is None
    with pytest.raises(ReviewError, match=ERROR_NO_CASE):
        hit_confirm(hit=hit, actor=hr)
    with pytest.raises(ReviewError, match=ERROR_NO_CASE):
        hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")


# -- suggestions -----------------------------------------------------------------------------


@pytest.fixture
def suggestion(hr):
    hit = make_hit(content="他又在赌气了", matched="赌")
    hit_dismiss(hit=hit, actor=hr, false_positive=True, comment="")
    return AllowSuggestion.objects.get(phrase="赌气")


def test_accepting_a_suggestion_adds_the_allowed_phrase_once(hr, hr2, suggestion):
    allowed = suggestion_accept(suggestion=suggestion, actor=hr)
    assert (allowed.phrase, allowed.screening_rule, allowed.added_by) == (
        "赌气",
        suggestion.screening_rule,
        hr,
    )
    suggestion.refresh_from_db()
    assert suggestion.status == AllowSuggestion.Status.ACCEPTED
    with pytest.raises(ReviewError) as refused:
        suggestion_accept(suggestion=suggestion, actor=hr2)
    assert str(refused.value) == ERROR_SUGGESTION_CLOSED.format(
        phrase="赌气", status="已加入允许词"
    )
    assert AllowedPhrase.objects.filter(screening_rule=suggestion.screening_rule).count() == 1


def test_an_allowed_phrase_already_there_is_kept(hr, hr2, suggestion):
    AllowedPhrase.objects.create(
        screening_rule=suggestion.screening_rule, phrase=suggestion.phrase, added_by=hr2
    )
    assert suggestion_accept(suggestion=suggestion, actor=hr).added_by == hr2
    assert AllowedPhrase.objects.filter(screening_rule=suggestion.screening_rule).count() == 1


def test_rejecting_a_suggestion_closes_it_and_later_dismissals_still_count(hr, suggestion):
    suggestion_reject(suggestion=suggestion, actor=hr)
    suggestion.refresh_from_db()
    assert suggestion.status == AllowSuggestion.Status.REJECTED
    again = make_hit(content="又在赌气了", matched="赌", screening_rule=suggestion.screening_rule)
    hit_dismiss(hit=again, actor=hr, false_positive=True, comment="")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.dismissals) == (AllowSuggestion.Status.REJECTED, 2)
    assert not AllowedPhrase.objects.filter(screening_rule=suggestion.screening_rule).exists()


@pytest.mark.parametrize("who", ["outsider", "finance"])
def test_who_does_not_edit_the_rules_does_not_handle_suggestions(request, who, suggestion):
    actor = request.getfixturevalue(who)
    for service in (suggestion_accept, suggestion_reject):
        with pytest.raises(ReviewError, match=ERROR_NOT_RULE_EDITOR):
            service(suggestion=suggestion, actor=actor)
    suggestion.refresh_from_db()
    assert suggestion.status == AllowSuggestion.Status.OPEN


def test_a_rule_editor_without_decide_may_accept(suggestion):
    editor = StaffUserFactory(permissions=["screening.change_screeningrule"])
    assert suggestion_accept(suggestion=suggestion, actor=editor).phrase == "赌气"


# -- bulk keywords ---------------------------------------------------------------------------


def test_bulk_keywords_add_the_new_words_once(hr):
    rule = ScreeningRuleFactory(words=["赌博"])
    added = keywords_add(screening_rule=rule, text="赌博\n  六合彩 \n\n六合彩\n博彩", actor=hr)
    assert [k.word for k in added] == ["六合彩", "博彩"]
    assert set(Keyword.objects.filter(screening_rule=rule).values_list("word", flat=True)) == {
        "赌博",
        "六合彩",
        "博彩",
    }


def test_bulk_keywords_refuse_them_all_for_one_line_too_long(hr, outsider):
    rule = ScreeningRuleFactory()
    with pytest.raises(ReviewError) as refused:
        keywords_add(screening_rule=rule, text="赌博\n" + "长" * 65, actor=hr)
    assert str(refused.value) == ERROR_KEYWORD_TOO_LONG.format(line=2, limit=64)
    with pytest.raises(ReviewError, match=ERROR_NOT_RULE_EDITOR):
        keywords_add(screening_rule=rule, text="赌博", actor=outsider)
    assert not Keyword.objects.filter(screening_rule=rule).exists()


# -- the message in context --------------------------------------------------------------------


def test_context_is_five_before_and_five_after_in_the_same_group_only():
    group, other = ChatGroupFactory(), ChatGroupFactory()
    chat, elsewhere = ChatImportFactory(group=group), ChatImportFactory(group=other)
    mine = [
        MessageFactory(chat_import=chat, sent_at=T0 + dt.timedelta(minutes=n), content=f"第{n}条")
        for n in range(13)
    ]
    for n in range(13):  # interleaved in time, in another group
        MessageFactory(chat_import=elsewhere, sent_at=T0 + dt.timedelta(minutes=n, seconds=30))
    shown = selectors.message_context(mine[6])
    assert [m.content for m in shown] == [f"第{n}条" for n in range(1, 12)]


def test_context_orders_messages_of_the_same_second_by_their_order_of_import():
    chat = ChatImportFactory()
    same = [MessageFactory(chat_import=chat, sent_at=T0, content=str(n)) for n in range(5)]
    assert [m.content for m in selectors.message_context(same[2], before=1, after=1)] == [
        "1",
        "2",
        "3",
    ]


def test_context_near_the_start_of_the_chat_shows_what_there_is():
    chat = ChatImportFactory()
    first = MessageFactory(chat_import=chat, sent_at=T0, content="第一条")
    MessageFactory(chat_import=chat, sent_at=T0 + dt.timedelta(minutes=1), content="第二条")
    assert [m.content for m in selectors.message_context(first)] == ["第一条", "第二条"]


def test_context_takes_two_queries(django_assert_max_num_queries):
    chat = ChatImportFactory()
    messages = [
        MessageFactory(chat_import=chat, sent_at=T0 + dt.timedelta(minutes=n)) for n in range(20)
    ]
    with django_assert_max_num_queries(2):
        [m.employee for m in selectors.message_context(messages[10])]


# -- each rule's precision ---------------------------------------------------------------------


def _set_state(hit: Hit, state: str) -> None:
    fields = {"state": state}
    if state != Case.State.DISMISSED:
        fields.update(points=0, confirmed_at=timezone.now())
    Case.objects.filter(pk=hit.case_id).update(**fields)


def test_precision_is_confirmed_over_proposed_with_pending_apart():
    rule = ScreeningRuleFactory(words=["赌博"])
    for state in ("confirmed", "appealed", "overturned", "dismissed", "proposed", "proposed"):
        hit = make_hit(screening_rule=rule)
        if state != "proposed":
            _set_state(hit, state)
    make_hit(screening_rule=rule, unmatched=True)  # no case: not proposed
    quiet = ScreeningRuleFactory(words=["六合彩"])
    figures = {r.pk: r for r in selectors.rules_with_precision()}
    got = figures[rule.pk]
    assert (got.proposed, got.confirmed, got.dismissed, got.pending) == (6, 3, 1, 2)
    assert selectors.precision_text(got.confirmed, got.proposed) == "确认 3 / 提出 6（50%）"
    silent = figures[quiet.pk]
    assert selectors.precision_text(silent.confirmed, silent.proposed) == "—"


# -- the queue -----------------------------------------------------------------------------------


def test_queue_is_heaviest_first_then_oldest_and_only_what_waits(hr):
    light_old = make_hit(sent_at=T0)
    heavy_new = make_hit(sent_at=T0 + dt.timedelta(hours=3), weight="2")
    light_new = make_hit(sent_at=T0 + dt.timedelta(hours=1))
    decided = make_hit(sent_at=T0 - dt.timedelta(hours=1), weight="3")
    _set_state(decided, Case.State.DISMISSED)
    make_hit(unmatched=True, weight="5")
    assert list(selectors.review_queue(hr)) == [heavy_new, light_old, light_new]


def test_queue_leaves_out_what_the_clerk_reported_and_their_own_case(hr, hr2):
    reported = make_hit(reporter=hr)
    own = make_hit(employee=EmployeeFactory(user=hr))
    other = make_hit()
    assert list(selectors.review_queue(hr)) == [other]
    assert set(selectors.review_queue(hr2)) == {reported, own, other}


# -- where the keyword sits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "word", "span"),
    [
        ("今晚去赌博吗", "赌博", (3, 5)),
        ("今晚去 賭 博吗", "赌博", (4, 7)),
        ("加我ＤＢ群", "db", (2, 4)),
        ("没有", "赌博", None),
    ],
)
def test_the_keyword_is_found_as_the_engine_finds_it(content, word, span):
    assert selectors.locate(content, [word]) == span


def test_highlighting_escapes_the_message():
    html = selectors.highlighted('<script>alert("x")</script>去赌博', ["赌博"])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.endswith("去<mark>赌博</mark>")


def test_the_excerpt_cuts_around_the_match():
    html = selectors.highlighted("甲" * 50 + "赌博" + "乙" * 50, ["赌博"], around=3)
    assert html == "…甲甲甲<mark>赌博</mark>乙乙乙…"


def test_a_domains_hit_marks_its_whole_link():
    html = selectors.highlighted("稳赚 https://t.cn/A6xYz9 快来", ["t.cn"])
    assert html == "稳赚 <mark>https://t.cn/A6xYz9</mark> 快来"


def test_the_excerpt_does_not_cut_a_link_in_two():
    content = "周末去赌博，稳赚 https://example.com/abc 快来" + "乙" * 30
    html = selectors.highlighted(content, ["赌博"], around=12)
    assert html == "周末去<mark>赌博</mark>，稳赚 https://example.com/abc…"


# -- the chat-log job ----------------------------------------------------------------------------


def _upload() -> str:
    return default_storage.save("jobs/uploads/chat.csv", ContentFile(b"x"))


def test_job_refuses_who_may_no_longer_import_and_deletes_the_upload(outsider, office):
    upload = _upload()
    with pytest.raises(PermissionDenied):
        chatlog_import_job(
            params={"upload": upload, "file_name": "chat.csv", "group": office.pk},
            actor=outsider,
            progress=lambda percent: None,
        )
    assert not default_storage.exists(upload)


def test_job_for_a_group_gone_refuses_and_deletes_the_upload(hr):
    upload = _upload()
    with pytest.raises(PermissionDenied):
        chatlog_import_job(
            params={"upload": upload, "file_name": "chat.csv", "group": 999_999},
            actor=hr,
            progress=lambda percent: None,
        )
    assert not default_storage.exists(upload)


TEMPLATE = "时间,群昵称,微信号,类型,内容\n2026-11-30 09:01:00,生产部-张伟,zhangwei_88,文字,晚上一起去網 賭吧\n"


def test_job_imports_the_upload_as_its_owner_and_deletes_it(hr, office):
    zhang = EmployeeFactory(name="张伟", wechat_id="zhangwei_88")
    upload = default_storage.save("jobs/uploads/chat.csv", ContentFile(TEMPLATE.encode()))
    seen: list[int] = []
    outcome = chatlog_import_job(
        params={"upload": upload, "file_name": "群聊.csv", "group": office.pk, "room": ""},
        actor=hr,
        progress=seen.append,
    )
    assert not default_storage.exists(upload)
    assert (outcome.result["messages_new"], outcome.result["hits"]) == (1, 1)
    assert "提出案件 1 个" in outcome.text
    hit = Hit.objects.get(message__group=office)
    assert hit.case.employee == zhang
    assert hit.message.chat_import.imported_by == hr
    assert seen
    assert seen[0] == 1


def test_job_refused_by_the_reader_deletes_the_upload_and_stores_nothing(hr, office):
    from screening.readers import ChatLogError

    upload = default_storage.save("jobs/uploads/chat.csv", ContentFile(b"\x00\x01binary"))
    with pytest.raises(ChatLogError):
        chatlog_import_job(
            params={"upload": upload, "file_name": "x.csv", "group": office.pk},
            actor=hr,
            progress=lambda percent: None,
        )
    assert not default_storage.exists(upload)
    assert not Hit.objects.exists()


def test_group_admins_import_for_their_groups_only(group_admin, office, hr):
    other = ChatGroupFactory()
    assert selectors.can_import_chatlog(group_admin, office)
    assert not selectors.can_import_chatlog(group_admin, other)
    assert selectors.can_import_chatlog(hr, other)
