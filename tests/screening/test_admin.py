"""The screening admin as HR meets it: 筛查待审 (the queue, a hit's page with its context and
three one-click forms), the rules with their precision, the suggestions, the chat-log upload
and the messages — escaped, bounded in queries, closed to who is not HR."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Job
from jobs.services import job_url
from screening.admin.hits import MESSAGE_QUEUE_EMPTY, NO_CASE_REASON, NOT_HR, NOT_PROPOSED
from screening.models import AllowedPhrase, AllowSuggestion, ChatImport, Keyword, ScreeningRule
from tests.factories import (
    ChatGroupFactory,
    ChatImportFactory,
    EmployeeFactory,
    MessageFactory,
    ScreeningRuleFactory,
)
from tests.html import Page
from tests.screening.test_review import T0, TEMPLATE, hr_screens, make_hit  # noqa: F401 — the fixture
from violations.models import Case
from violations.services.cases import ERROR_OWN_REPORT

pytestmark = pytest.mark.django_db
HITS = "admin:screening_hit_changelist"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>去赌博'


def hit_url(hit) -> str:
    return reverse("admin:screening_hit_change", args=[hit.pk])


def decide_url(hit) -> str:
    return reverse("admin:screening_hit_decide", args=[hit.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def hr_client(client, hr):
    client.force_login(hr)
    return client


# -- the queue -------------------------------------------------------------------------------


def test_the_queue_opens_on_what_waits_for_hr(hr_client):
    waiting = make_hit(content="今晚去赌博吗")
    decided = make_hit(content="明天去赌博吗")
    Case.objects.filter(pk=decided.case_id).update(state=Case.State.DISMISSED)
    unmatched = make_hit(content="后天去赌博吗", unmatched=True)
    response = hr_client.get(reverse(HITS))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [waiting]
    shown = hr_client.get(reverse(HITS) + "?review=all")
    assert set(shown.context["cl"].result_list) == {waiting, decided, unmatched}
    no_case = hr_client.get(reverse(HITS) + "?review=no_case")
    assert list(no_case.context["cl"].result_list) == [unmatched]


def test_the_queue_filters_by_rule_group_and_matched_sender(hr_client):
    group = ChatGroupFactory()
    mine = make_hit(group=group)
    make_hit()
    unmatched = make_hit(group=group, unmatched=True)
    by_group = hr_client.get(reverse(HITS) + f"?message__group__id__exact={group.pk}")
    assert list(by_group.context["cl"].result_list) == [mine]
    by_rule = hr_client.get(reverse(HITS) + f"?screening_rule__id__exact={mine.screening_rule_id}")
    assert list(by_rule.context["cl"].result_list) == [mine]
    none_matched = hr_client.get(reverse(HITS) + "?review=all&sender=unmatched")
    assert list(none_matched.context["cl"].result_list) == [unmatched]


def test_the_queue_shows_the_sender_and_the_match_escaped(hr_client):
    make_hit(content="<script>x</script>去赌博", employee=EmployeeFactory(name="李娜"))
    make_hit(content="赌博", unmatched=True)
    html = hr_client.get(reverse(HITS) + "?review=all").content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;去<mark>赌博</mark>" in html
    assert "李娜" in html
    assert "未匹配员工" in html


def test_the_queue_takes_as_many_queries_for_many_hits(hr_client, django_assert_max_num_queries):
    for _ in range(3):
        make_hit()
    with django_assert_max_num_queries(20) as few:
        hr_client.get(reverse(HITS))
    for _ in range(12):
        make_hit(unmatched=True)
        make_hit()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = hr_client.get(reverse(HITS) + "?review=all")
    assert len(response.context["cl"].result_list) == 27


@pytest.mark.parametrize("who", ["outsider", "group_admin", "finance", "leader"])
def test_the_queue_and_a_hits_page_are_hrs(request, client, who):
    hit = make_hit()
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(HITS)).status_code == 403
    assert client.get(hit_url(hit)).status_code == 403
    assert client.post(decide_url(hit), {"decision": "confirm"}).status_code == 403
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED


# -- a hit's page ---------------------------------------------------------------------------


def _chat(group, contents, *, start=T0):
    chat = ChatImportFactory(group=group)
    return [
        MessageFactory(chat_import=chat, sent_at=start + dt.timedelta(minutes=n), content=text)
        for n, text in enumerate(contents)
    ]


def test_a_hits_page_shows_the_message_in_its_context(hr_client):
    group, other = ChatGroupFactory(name="一车间群"), ChatGroupFactory(name="别的群")
    before = _chat(group, [f"之前{n}" for n in range(7)], start=T0 - dt.timedelta(hours=1))
    after = _chat(group, [f"之后{n}" for n in range(7)], start=T0 + dt.timedelta(minutes=1))
    _chat(other, ["别的群的消息"], start=T0)
    hit = make_hit(content="今晚去赌博吗", group=group, employee=EmployeeFactory(name="李娜"))
    response = hr_client.get(hit_url(hit))
    assert response.status_code == 200
    html = response.content.decode()
    shown = [row["message"] for row in response.context["rows"]]
    assert shown == [*before[2:], hit.message, *after[:5]]
    assert "之前1" not in html
    assert "之后5" not in html
    assert "别的群的消息" not in html
    assert "今晚去<mark>赌博</mark>吗" in html
    assert "李娜" in html
    assert "一车间群" in html
    assert str(hit.screening_rule.rule) in html  # the catalog clause


def test_a_hits_page_offers_three_separate_forms_posting_to_decide(hr_client):
    hit = make_hit()
    page = Page(hr_client.get(hit_url(hit)).content.decode())
    assert page.nested == []
    decide = [f for f in page.forms if f["action"] == decide_url(hit)]
    assert [f["buttons"] for f in decide] == [
        ["确认"],
        ["驳回（误报）"],
        ["驳回（其他，需填写理由）"],
    ]
    assert all(f["method"] == "post" for f in decide)
    assert all(("csrfmiddlewaretoken" in dict(f["fields"])) for f in decide)


def test_a_hits_message_is_escaped_on_its_page(hr_client):
    group = ChatGroupFactory()
    _chat(group, ["<b onmouseover=alert(2)>上一条</b>"], start=T0 - dt.timedelta(minutes=1))
    hit = make_hit(content=XSS, group=group)
    html = hr_client.get(hit_url(hit)).content.decode()
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "<b onmouseover" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b onmouseover=alert(2)&gt;" in html


def test_an_unmatched_senders_hit_says_why_and_offers_no_buttons(hr_client):
    hit = make_hit(unmatched=True)
    response = hr_client.get(hit_url(hit))
    assert response.status_code == 200
    assert NO_CASE_REASON in response.content.decode()
    page = Page(response.content.decode())
    assert not [f for f in page.forms if f["action"] == decide_url(hit)]


def test_the_reporter_is_told_four_eyes_and_offered_no_buttons(hr_client, hr):
    hit = make_hit(reporter=hr)
    html = hr_client.get(hit_url(hit)).content.decode()
    assert ERROR_OWN_REPORT in html
    assert not [f for f in Page(html).forms if f["action"] == decide_url(hit)]


def test_a_decided_hit_offers_no_buttons(hr_client):
    hit = make_hit()
    Case.objects.filter(pk=hit.case_id).update(state=Case.State.DISMISSED)
    html = hr_client.get(hit_url(hit)).content.decode()
    assert NOT_PROPOSED.format(state="已驳回") in html
    assert not [f for f in Page(html).forms if f["action"] == decide_url(hit)]


def test_a_viewer_without_decide_sees_the_page_without_buttons(client):
    from tests.factories import StaffUserFactory

    viewer = StaffUserFactory(permissions=["screening.view_hit"])
    client.force_login(viewer)
    hit = make_hit()
    html = client.get(hit_url(hit)).content.decode()
    assert NOT_HR in html
    assert not [f for f in Page(html).forms if f["action"] == decide_url(hit)]
    assert client.post(decide_url(hit), {"decision": "confirm"}).status_code == 403


def test_a_hits_page_takes_a_bounded_number_of_queries(hr_client, django_assert_max_num_queries):
    group = ChatGroupFactory()
    _chat(group, [f"之前{n}" for n in range(10)], start=T0 - dt.timedelta(hours=1))
    hit = make_hit(group=group)
    with django_assert_max_num_queries(25):
        assert hr_client.get(hit_url(hit)).status_code == 200


# -- deciding ---------------------------------------------------------------------------------


def test_confirm_then_on_to_the_next_hit_waiting(hr_client, hr):
    first = make_hit(weight="2")
    second = make_hit()
    response = hr_client.post(decide_url(first), {"decision": "confirm"})
    assert response.status_code == 302
    assert response["Location"] == hit_url(second)
    first.case.refresh_from_db()
    assert (first.case.state, first.case.confirmed_by) == (Case.State.CONFIRMED, hr)


def test_false_positive_with_one_click_feeds_a_suggestion(hr_client):
    hit = make_hit(content="他又在赌气了", matched="赌")
    response = hr_client.post(decide_url(hit), {"decision": "false_positive"}, follow=True)
    assert MESSAGE_QUEUE_EMPTY in messages_of(response)
    assert response.redirect_chain[-1][0] == reverse(HITS)
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.DISMISSED
    assert set(AllowSuggestion.objects.values_list("phrase", flat=True)) == {"赌气", "在赌"}


def test_other_dismissal_without_a_reason_is_refused_and_stays_on_the_hit(hr_client):
    hit = make_hit()
    response = hr_client.post(decide_url(hit), {"decision": "dismiss", "comment": " "})
    assert response["Location"] == hit_url(hit)
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED
    followed = hr_client.post(
        decide_url(hit), {"decision": "dismiss", "comment": "工作群里的玩笑"}, follow=True
    )
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.DISMISSED
    assert any("已驳回案件" in m for m in messages_of(followed))


def test_an_unknown_decision_a_get_or_a_post_to_the_page_changes_nothing(hr_client):
    hit = make_hit()
    hr_client.post(decide_url(hit), {"decision": "delete"})
    assert hr_client.get(decide_url(hit)).status_code == 405
    assert hr_client.post(hit_url(hit), {"decision": "confirm"}).status_code == 403
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED


def test_the_reporter_posting_anyway_is_refused_with_the_reason(hr_client, hr):
    hit = make_hit(reporter=hr)
    response = hr_client.post(decide_url(hit), {"decision": "confirm"}, follow=True)
    assert any(ERROR_OWN_REPORT in m for m in messages_of(response))
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED


# -- rules, suggestions ------------------------------------------------------------------------


def test_the_rule_list_shows_precision_in_a_flat_number_of_queries(
    hr_client, django_assert_max_num_queries
):
    rule = ScreeningRuleFactory(words=["赌博"])
    for state in ("confirmed", "dismissed", "proposed"):
        hit = make_hit(screening_rule=rule)
        if state == "confirmed":
            Case.objects.filter(pk=hit.case_id).update(
                state=state, points=0, confirmed_at=hit.message.sent_at
            )
        elif state == "dismissed":
            Case.objects.filter(pk=hit.case_id).update(state=state)
    url = reverse("admin:screening_screeningrule_changelist")
    with django_assert_max_num_queries(20) as few:
        response = hr_client.get(url)
    assert "确认 1 / 提出 3（33%）" in response.content.decode()
    for n in range(10):
        make_hit(screening_rule=ScreeningRuleFactory(words=[f"词{n}"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        hr_client.get(url)


@pytest.mark.parametrize(
    ("kind", "inlines", "shown", "hidden"),
    [
        ("keywords", {"keywords", "allowed_phrases"}, "bulk_keywords", "daily_limit"),
        ("confidential", {"keywords", "allowed_phrases"}, "bulk_keywords", "flag_short_links"),
        ("links", {"domains"}, "flag_short_links", "bulk_keywords"),
        ("flood", set(), "daily_limit", "bulk_keywords"),
    ],
)
def test_a_rules_page_shows_the_fields_of_its_kind(hr_client, kind, inlines, shown, hidden):
    rule = ScreeningRuleFactory(kind=kind, daily_limit=20 if kind == "flood" else None)
    response = hr_client.get(reverse("admin:screening_screeningrule_change", args=[rule.pk]))
    assert response.status_code == 200
    prefixes = {f.formset.prefix for f in response.context["inline_admin_formsets"]}
    assert prefixes == inlines
    html = response.content.decode()
    assert f'name="{shown}"' in html
    assert f'name="{hidden}"' not in html


def _rule_post(rule, **changes) -> dict:
    data = {
        "name": rule.name,
        "kind": rule.kind,
        "rule": rule.rule_id,
        "is_active": "on",
        "notes": "",
        "odd_hours_weight": "1",
        "keywords-TOTAL_FORMS": "0",
        "keywords-INITIAL_FORMS": "0",
        "allowed_phrases-TOTAL_FORMS": "0",
        "allowed_phrases-INITIAL_FORMS": "0",
        "bulk_keywords": "",
    }
    data.update(changes)
    return data


def _row_version(client, rule) -> str:
    page = client.get(reverse("admin:screening_screeningrule_change", args=[rule.pk]))
    return page.context["row_version"]


def test_bulk_keywords_on_the_rules_page(hr_client):
    rule = ScreeningRuleFactory(words=["赌博"])
    url = reverse("admin:screening_screeningrule_change", args=[rule.pk])
    data = _rule_post(
        rule, bulk_keywords="赌博\n六合彩\n博彩", _row_version=_row_version(hr_client, rule)
    )
    response = hr_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    words = set(Keyword.objects.filter(screening_rule=rule).values_list("word", flat=True))
    assert words == {"赌博", "六合彩", "博彩"}


def test_a_bulk_line_too_long_is_a_form_error_and_nothing_is_saved(hr_client):
    rule = ScreeningRuleFactory(words=["赌博"])
    url = reverse("admin:screening_screeningrule_change", args=[rule.pk])
    data = _rule_post(
        rule,
        name="改了名",
        bulk_keywords="六合彩\n" + "长" * 65,
        _row_version=_row_version(hr_client, rule),
    )
    response = hr_client.post(url, data)
    assert response.status_code == 200
    assert "第 2 行" in str(response.context["adminform"].form.errors)
    rule.refresh_from_db()
    assert rule.name != "改了名"
    assert not Keyword.objects.filter(screening_rule=rule, word="六合彩").exists()


def test_an_allowed_phrase_added_on_the_page_records_who(hr_client, hr):
    rule = ScreeningRuleFactory(words=["赌"])
    url = reverse("admin:screening_screeningrule_change", args=[rule.pk])
    data = _rule_post(
        rule,
        **{
            "allowed_phrases-TOTAL_FORMS": "1",
            "allowed_phrases-0-phrase": "赌气",
            "keywords-TOTAL_FORMS": "1",
            "keywords-INITIAL_FORMS": "1",
            "keywords-0-id": str(rule.keywords.get().pk),
            "keywords-0-screening_rule": str(rule.pk),
            "keywords-0-word": "赌",
        },
        _row_version=_row_version(hr_client, rule),
    )
    response = hr_client.post(url, data)
    assert response.status_code == 302
    assert AllowedPhrase.objects.get(screening_rule=rule).added_by == hr


def test_suggestions_are_accepted_from_their_list(hr_client, hr2):
    from screening.services.review import hit_dismiss

    hit = make_hit(content="他又在赌气了", matched="赌")
    hit_dismiss(hit=hit, actor=hr2, false_positive=True, comment="")
    suggestion = AllowSuggestion.objects.get(phrase="赌气")
    url = reverse("admin:screening_allowsuggestion_changelist")
    assert hr_client.get(url).status_code == 200
    response = hr_client.post(
        url, {"action": "accept_suggestions", "_selected_action": [suggestion.pk]}, follow=True
    )
    assert any("已加入允许词：赌气" in m for m in messages_of(response))
    assert AllowedPhrase.objects.get(screening_rule=hit.screening_rule).phrase == "赌气"


# -- chat imports and messages -------------------------------------------------------------------


def test_upload_runs_the_import_job_and_keeps_no_file(hr_client, hr, office):
    EmployeeFactory(name="张伟", wechat_id="zhangwei_88")
    upload = SimpleUploadedFile("聊天.csv", TEMPLATE.encode())
    url = reverse("admin:screening_chatimport_add")
    assert hr_client.get(url).status_code == 200
    response = hr_client.post(url, {"group": office.pk, "file": upload})
    job = Job.objects.get(kind=Job.Kind.CHATLOG_IMPORT)
    assert response["Location"] == job_url(job)
    assert (job.owner, job.params["group"], job.params["file_name"]) == (hr, office.pk, "聊天.csv")
    # Eager in the tests: the job ran here, and its upload is gone.
    assert job.status == Job.Status.DONE, job.error
    assert not default_storage.exists(job.params["upload"])
    chat = ChatImport.objects.get(group=office)
    assert (chat.messages_new, chat.hits, chat.cases_proposed) == (1, 1, 1)
    page = hr_client.get(response["Location"])
    assert "提出案件 1 个" in page.content.decode()


def test_a_refused_file_fails_its_job_with_the_readers_reason(hr_client, office):
    upload = SimpleUploadedFile("聊天.csv", b"")
    response = hr_client.post(
        reverse("admin:screening_chatimport_add"), {"group": office.pk, "file": upload}
    )
    # An empty file is refused by the form itself (Django: 提交的文件为空).
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    bad = SimpleUploadedFile("聊天.csv", "时间,群昵称\n".encode())
    hr_client.post(reverse("admin:screening_chatimport_add"), {"group": office.pk, "file": bad})
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.error  # the reader's Chinese reason, not a traceback
    assert "任务执行出错" not in job.error
    assert not default_storage.exists(job.params["upload"])
    assert not ChatImport.objects.exists()


def test_an_upload_over_the_limit_is_refused_before_it_is_stored(hr_client, office, settings):
    settings.SCREENING_MAX_UPLOAD_BYTES = 10
    upload = SimpleUploadedFile("聊天.csv", TEMPLATE.encode())
    response = hr_client.post(
        reverse("admin:screening_chatimport_add"), {"group": office.pk, "file": upload}
    )
    assert response.status_code == 200
    assert "文件太大" in str(response.context["form"].errors["file"])
    assert not Job.objects.exists()


def test_a_group_admin_uploads_for_their_group_only(client, group_admin, office):
    other = ChatGroupFactory(name="别的群")
    client.force_login(group_admin)
    url = reverse("admin:screening_chatimport_add")
    page = client.get(url)
    assert list(page.context["form"].fields["group"].queryset) == [office]
    upload = SimpleUploadedFile("聊天.csv", b"x")
    response = client.post(url, {"group": other.pk, "file": upload})
    assert response.status_code == 200
    assert "group" in response.context["form"].errors
    assert not Job.objects.exists()


def test_who_runs_no_group_may_not_upload(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("admin:screening_chatimport_add")).status_code == 403
    assert client.get(reverse("admin:screening_chatimport_changelist")).status_code == 403


def test_the_import_list_is_read_only(hr_client):
    chat = ChatImportFactory(rows_read=12, messages_new=10)
    response = hr_client.get(reverse("admin:screening_chatimport_changelist"))
    assert response.status_code == 200
    assert "下载模板" in response.content.decode()
    page = hr_client.get(reverse("admin:screening_chatimport_change", args=[chat.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    delete = reverse("admin:screening_chatimport_delete", args=[chat.pk])
    assert hr_client.post(delete, {"post": "yes"}).status_code == 403
    assert ChatImport.objects.filter(pk=chat.pk).exists()


def test_the_template_downloads_under_a_chinese_name(hr_client):
    response = hr_client.get(reverse("admin:screening_chatimport_template"))
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]


def test_messages_are_listed_searched_and_never_edited(hr_client):
    group = ChatGroupFactory()
    _chat(group, ["明早七点排产会", "<i>品质</i>例会改期"])
    url = reverse("admin:screening_message_changelist")
    response = hr_client.get(url + "?q=排产")
    assert response.status_code == 200
    assert [m.content for m in response.context["cl"].result_list] == ["明早七点排产会"]
    html = hr_client.get(url).content.decode()
    assert "<i>品质</i>" not in html
    assert "&lt;i&gt;品质&lt;/i&gt;" in html
    assert hr_client.get(reverse("admin:screening_message_add")).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "admin:screening_hit_changelist",
        "admin:screening_screeningrule_changelist",
        "admin:screening_screeningrule_add",
        "admin:screening_allowsuggestion_changelist",
        "admin:screening_chatimport_changelist",
        "admin:screening_chatimport_add",
        "admin:screening_message_changelist",
        "admin:app_list",
    ],
)
def test_hrs_pages_open(hr_client, name):
    make_hit()
    kwargs = {"app_label": "screening"} if name == "admin:app_list" else {}
    assert hr_client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_rule_model_is_registered_with_its_verbose_names():
    assert ScreeningRule._meta.verbose_name == "筛查规则"


def test_the_queue_counts_its_filters_choices(hr_client):
    make_hit()
    make_hit(unmatched=True)
    response = hr_client.get(reverse(HITS) + "?_facets=True")
    assert response.status_code == 200
    html = response.content.decode()
    assert "待审核 (1)" in html
    assert "无案件（未匹配员工） (1)" in html


def test_a_message_opens_read_only(hr_client):
    message = MessageFactory(content="<b>收到</b>")
    response = hr_client.get(reverse("admin:screening_message_change", args=[message.pk]))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "<b>收到</b>" not in response.content.decode()


def test_suggestions_are_closed_never_deleted(hr_client, hr2):
    from screening.services.review import hit_dismiss

    hit_dismiss(
        hit=make_hit(content="他又在赌气了", matched="赌"),
        actor=hr2,
        false_positive=True,
        comment="",
    )
    suggestion = AllowSuggestion.objects.get(phrase="赌气")
    delete = reverse("admin:screening_allowsuggestion_delete", args=[suggestion.pk])
    assert hr_client.post(delete, {"post": "yes"}).status_code == 403
    assert AllowSuggestion.objects.filter(pk=suggestion.pk).exists()


def test_confirm_waits_while_the_employee_may_still_explain(hr_client, settings):
    from tests.factories import UserFactory

    settings.CASE_EXPLANATION_WORKING_DAYS = 1
    lina = EmployeeFactory(name="李娜", user=UserFactory(username="lina", is_staff=False))
    hit = make_hit(employee=lina)
    page = Page(hr_client.get(hit_url(hit)).content.decode())
    confirm = next(f for f in page.forms if f["id"] == "hit-confirm-form")
    assert confirm["buttons"] == ["确认"]
    assert "员工尚未说明" in " ".join(page.text)
    response = hr_client.post(decide_url(hit), {"decision": "confirm"}, follow=True)
    assert any("员工尚未说明" in m for m in messages_of(response))
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.PROPOSED
    # Dismissing never waits (violations.services.cases).
    hr_client.post(decide_url(hit), {"decision": "false_positive"})
    hit.case.refresh_from_db()
    assert hit.case.state == Case.State.DISMISSED


def test_hr_screens_an_import_again_after_adding_a_word(hr_client, hr, office):
    EmployeeFactory(name="张伟", wechat_id="zhangwei_88")
    upload = SimpleUploadedFile("聊天.csv", TEMPLATE.encode())
    hr_client.post(reverse("admin:screening_chatimport_add"), {"group": office.pk, "file": upload})
    chat = ChatImport.objects.get(group=office)
    before = chat.hits
    rule = ScreeningRule.objects.get(name="谣言与负面信息")
    content = chat.messages.first().content
    Keyword.objects.create(screening_rule=rule, word=content[:4])
    url = reverse("admin:screening_chatimport_changelist")
    response = hr_client.post(
        url, {"action": "rescreen", "_selected_action": [chat.pk]}, follow=True
    )
    job = Job.objects.get(kind=Job.Kind.CHATLOG_RESCREEN)
    assert job.status == Job.Status.DONE, job.error
    assert any("新命中 1 条" in m for m in messages_of(response))
    chat.refresh_from_db()
    assert chat.hits == before + 1


def test_who_may_not_edit_the_rules_is_not_offered_to_screen_again(client, group_admin, office):
    ChatImportFactory(group=office)
    client.force_login(group_admin)
    page = client.get(reverse("admin:screening_chatimport_changelist"))
    assert page.status_code == 200
    assert "rescreen" not in page.content.decode()


def test_the_import_and_message_lists_take_as_many_queries_for_many_rows(
    hr_client, hr, django_assert_max_num_queries
):
    lists = [
        reverse("admin:screening_chatimport_changelist"),
        reverse("admin:screening_message_changelist"),
    ]

    def add(n: int) -> None:
        for _ in range(n):
            chat = ChatImportFactory(imported_by=hr)
            MessageFactory(chat_import=chat, employee=EmployeeFactory())
            MessageFactory(chat_import=chat)

    add(2)
    counts = []
    for url in lists:
        with django_assert_max_num_queries(20) as few:
            assert hr_client.get(url).status_code == 200
        counts.append(len(few.captured_queries))
    add(15)
    for url, count in zip(lists, counts, strict=True):
        with django_assert_max_num_queries(count):
            assert hr_client.get(url).status_code == 200


def test_a_screening_cases_page_links_to_the_message_in_context(hr_client, client, finance):
    hit = make_hit()
    case_url = reverse("admin:violations_case_change", args=[hit.case_id])
    html = hr_client.get(case_url).content.decode()
    assert f'href="{hit_url(hit)}"' in html
    assert "查看消息上下文" in html
    # Finance reads the case, never the chat: the source in words, no link.
    client.force_login(finance)
    response = client.get(case_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "内容筛查：群消息" in html
    assert hit_url(hit) not in html


def test_an_image_hit_shows_its_kind_in_the_lists(hr_client):
    hit = make_hit()
    Message = hit.message.__class__
    Message.objects.filter(pk=hit.message_id).update(kind="image", content="")
    assert "[图片]" in hr_client.get(reverse(HITS)).content.decode()
    assert "[图片]" in hr_client.get(reverse("admin:screening_message_changelist")).content.decode()


def test_a_listed_domain_is_stored_as_the_engine_compares_it():
    from screening.admin.rules import DomainForm

    rule = ScreeningRule.objects.get(kind=ScreeningRule.Kind.LINKS)
    form = DomainForm(
        {"domain": " https://WWW.Bad-Casino.COM/path?x=1 ", "listing": "block"},
        instance=rule.domains.model(screening_rule=rule),
    )
    assert form.is_valid(), form.errors
    assert form.save().domain == "bad-casino.com"
