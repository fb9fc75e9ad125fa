"""Chat-log screening in a browser (docs/screening.md): HR downloads the template, uploads a
group's chat through the real file input, follows the job to its result; another HR clerk
(four eyes: the uploader reported the cases) reviews the hits in context (驳回（误报） → the next hit; 确认 once the employee's explanation window is over),
accepts the allowed-phrase suggestion the 误报 made, and reads each rule's precision; a group
admin uploads for their own groups only and cannot screen again.

Every page of the walk is watched: no script error, no answer ≥ 500, no form inside another
(a browser drops the inner one: tests/e2e/test_reconcile_button.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, Response, expect

from groups.models import ChatGroup
from jobs.models import Job
from members.models import Employee
from notices.models import Notice
from notices.selectors import notices_unread_count
from screening import selectors
from screening.admin.imports import TEMPLATE_FILENAME
from screening.admin.rules import MESSAGE_KEYWORDS_ADDED
from screening.models import AllowedPhrase, AllowSuggestion, Hit, Keyword, ScreeningRule
from tests.e2e.conftest import PASSWORD, admin_login, shot
from violations.models import Case

GROUP = "work"  # 俊马工作群
HEADER = ["时间", "群昵称", "微信号", "类型", "内容"]  # the template's (screening.readers)
GAMBLING = "今晚一起去赌博吗，三缺一"  # 赌博 (§9.4): a real breach
FALSE_POSITIVE = "废物箱满了，请保洁阿姨倒一下"  # 废物 (辱骂 §9.3) in a harmless word
FILE_NAME = "工作群聊天记录.csv"
EXPLANATION = "是开玩笑说的打麻将，没有真的去，以后不在群里乱说。"


@dataclass
class Watch:
    """What went wrong on the pages a window opened: script errors, answers ≥ 500."""

    problems: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} {response.url}")

    def check(self, page: Page) -> None:
        """No problem so far, and no nested form on the page shown now."""
        assert self.problems == [], self.problems
        nested = page.evaluate("document.querySelectorAll('form form').length")
        assert nested == 0, f"{nested} nested form(s) on {page.url}"


def watched(page: Page) -> Watch:
    watch = Watch()
    page.on("pageerror", lambda error: watch.problems.append(f"script: {error}"))
    page.on(
        "console",
        lambda msg: (
            watch.problems.append(f"console: {msg.text}")
            if msg.type == "error" and "favicon" not in (msg.location.get("url") or "")
            else None
        ),
    )
    page.on("response", watch.on_response)
    return watch


def chatters(worker: Employee, count: int) -> list[Employee]:
    """Colleagues with a WeChat id (matched by it) and no login: no explanation window."""
    return list(
        Employee.objects.active()
        .exclude(wechat_id="")
        .exclude(pk=worker.pk)
        .filter(user__isnull=True)
        .select_related("department")
        .order_by("employee_no")[:count]
    )


def chat_csv(worker: Employee, others: list[Employee]) -> bytes:
    """Our template's columns, UTF-8 with a BOM (Excel's "CSV UTF-8"), yesterday 07:00 in
    Beijing: before the demo's chatter of the day, so the neighbours are these lines."""
    day = timezone.localdate() - dt.timedelta(days=1)
    a, b, c, d, e = others

    def row(minute: int, person: Employee, text: str) -> list[str]:
        at = dt.datetime.combine(day, dt.time(7, minute))
        nick = f"{person.department.name}-{person.name}"
        return [at.strftime("%Y-%m-%d %H:%M:%S"), nick, person.wechat_id, "文字", text]

    rows = [
        row(0, a, "早班的同事七点半到岗"),
        row(1, b, "收到"),
        row(2, c, FALSE_POSITIVE),
        row(3, d, "好的，我去说一声"),
        row(4, worker, GAMBLING),
        row(5, e, "别乱说，上班时间"),
    ]
    text = io.StringIO(newline="")
    csv.writer(text).writerows([HEADER, *rows])
    return text.getvalue().encode("utf-8-sig")


def hit_of(content: str) -> Hit:
    return Hit.objects.select_related("case", "screening_rule").get(message__content=content)


def columns_in_view(page: Page) -> list[str]:
    """The changelist's headings whose column ends inside the results box: the others are
    behind its horizontal scroll. Measured once the stylesheets have loaded (same_line)."""
    page.wait_for_load_state("load")
    return page.evaluate(
        """() => {
            const right = document.querySelector('#changelist .results')
                .getBoundingClientRect().right;
            return [...document.querySelectorAll('#result_list thead th')]
                .filter(th => th.getBoundingClientRect().right <= right + 1)
                .map(th => th.innerText.trim());
        }"""
    )


def same_line(page: Page, label: str) -> None:
    """In the hit's facts the label sits beside its value, not above it (forms.css).

    Measured once the page's stylesheets have loaded ("load", not the URL change a click
    waits for): on a busy machine the boxes were read before forms.css applied."""
    page.wait_for_load_state("load")
    row = page.locator("#hit-facts .form-row", has_text=label)
    label_box = row.locator("label").bounding_box()
    value_box = row.locator(".readonly").bounding_box()
    assert label_box
    assert value_box
    assert value_box["x"] > label_box["x"] + label_box["width"] - 1, (label_box, value_box)
    assert abs(value_box["y"] - label_box["y"]) < label_box["height"], (label_box, value_box)


def test_hr_imports_a_chat_and_reviews_its_hits(open_page, demo, settings, tmp_path):
    # The employee may explain for one working day after they are told (the production
    # default; the test settings have 0). The live server runs in this process: it reads it.
    settings.CASE_EXPLANATION_WORKING_DAYS = 1
    worker = demo.worker
    if not worker.wechat_id:
        worker.wechat_id = "wxid_e2e_worker"
        worker.save()
    group = ChatGroup.objects.get(code=GROUP)
    others = chatters(worker, 5)
    hr = get_user_model().objects.get(username=demo.hr)

    page = open_page()
    watch = watched(page)
    admin_login(page, demo.hr)

    # From the front page to 聊天记录导入, then the template.
    page.locator("#content-main .app-screening").get_by_role(
        "link", name="聊天记录导入", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/admin/screening/chatimport/$"))
    expect(page.locator("select[name=action]")).to_contain_text("按现在的筛查规则重新筛查")
    # Each import's figures fit a 1280-px window, navigation sidebar open: 命中 and 提出的案件
    # are not left behind the table's horizontal scroll.
    in_view = columns_in_view(page)
    assert "命中" in in_view, in_view
    assert "提出的案件" in in_view, in_view
    with page.expect_download() as download:
        page.locator(".object-tools").get_by_role("link", name="下载模板").click()
    assert download.value.suggested_filename == TEMPLATE_FILENAME
    saved = tmp_path / TEMPLATE_FILENAME
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert [cell.value for cell in sheet[1]] == HEADER
    watch.check(page)
    shot(page, "screening-01-imports")

    # The upload page: the group, the file through the real input.
    page.locator(".object-tools").get_by_role("link", name="上传聊天记录").click()
    expect(page).to_have_url(re.compile(r"/admin/screening/chatimport/add/$"))
    page.get_by_label("微信群").select_option(label=group.name)
    page.get_by_label("聊天记录文件").set_input_files(
        {"name": FILE_NAME, "mimeType": "text/csv", "buffer": chat_csv(worker, others)}
    )
    watch.check(page)
    shot(page, "screening-02-upload")
    page.get_by_role("button", name="上传并导入").click()

    # The job's page: done (no broker here: it ran in the request), with what it found.
    expect(page).to_have_url(re.compile(r"/admin/jobs/\d+/$"))
    job = Job.objects.get(owner=hr, kind=Job.Kind.CHATLOG_IMPORT)
    expect(page.locator("#job-status")).to_have_text(Job.Status.DONE.label)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    result = page.locator("#job-result")
    expect(result).to_contain_text("读取 6 行，新消息 6 条")
    expect(result).to_contain_text("命中 2 条，提出案件 2 个")
    expect(result).to_contain_text("未匹配到员工的发言人 0 个")
    # 🔔: the job's notice, unread; 我的任务 lists the job.
    notice = Notice.objects.get(recipient=hr, subject_key=f"job:{job.pk}")
    assert notice.read_at is None
    assert "导入完成" in notice.body
    expect(page.locator(".notice-badge")).to_have_text(str(notices_unread_count(hr)))
    page.locator("#user-tools").get_by_role("link", name="我的任务").click()
    row = page.locator("#jobs tbody tr", has_text=f"#{job.pk}")
    expect(row).to_contain_text(f"{group.name} · {FILE_NAME}")
    expect(row).to_contain_text(Job.Status.DONE.label)
    watch.check(page)
    shot(page, "screening-03-job")

    # Another HR clerk reviews: who uploaded the file reported its cases (four eyes), and
    # their own cases are not in their queue.
    assert hit_of(GAMBLING).case.reported_by == hr
    assert not selectors.review_queue(hr).filter(message__content=GAMBLING).exists()
    page = open_page()
    watch = watched(page)
    hr = get_user_model().objects.get(username=demo.hr2)
    admin_login(page, demo.hr2)

    # 筛查命中: the queue holds both; open the 误报.
    page.goto("/admin/")
    page.locator("#content-main .app-screening").get_by_role(
        "link", name="筛查命中", exact=True
    ).click()
    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text=GAMBLING[:6])).to_have_count(1)
    expect(rows.filter(has_text="废物箱")).to_have_count(1)
    watch.check(page)
    shot(page, "screening-04-queue")
    false_positive = hit_of(FALSE_POSITIVE)
    expected_next = selectors.next_in_queue(hr, after=false_positive)
    rows.filter(has_text="废物箱").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/screening/hit/{false_positive.pk}/change/"))

    # In context: the neighbours before and after it, the match highlighted.
    context = page.locator("#hit-context tbody tr")
    expect(context.filter(has_text="早班的同事七点半到岗")).to_have_count(1)
    expect(context.filter(has_text="好的，我去说一声")).to_have_count(1)
    expect(context.filter(has_text=GAMBLING)).to_have_count(1)
    expect(page.locator("#hit-message mark")).to_have_text("废物")
    expect(page.locator("#hit-facts")).to_contain_text(others[2].name)
    for label in ("微信群", "发言人", "筛查规则"):
        same_line(page, label)
    watch.check(page)
    shot(page, "screening-05-hit")

    page.get_by_role("button", name="驳回（误报）").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"已驳回（误报）案件 #{false_positive.case_id}"
    )
    assert expected_next is not None
    expect(page).to_have_url(re.compile(rf"/admin/screening/hit/{expected_next.pk}/change/$"))
    assert Case.objects.get(screening_hit=false_positive).state == Case.State.DISMISSED
    watch.check(page)

    # 允许词建议: the 误报's phrase waits; HR adds it to the rule's allowed phrases.
    suggestion = AllowSuggestion.objects.get(example=FALSE_POSITIVE)
    page.goto("/admin/")
    page.locator("#content-main .app-screening").get_by_role(
        "link", name="允许词建议", exact=True
    ).click()
    row = page.locator("#result_list tbody tr", has_text=FALSE_POSITIVE[:10])
    expect(row).to_contain_text(suggestion.phrase)
    expect(row).to_contain_text("待处理")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="加入允许词")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"已加入允许词：{suggestion.phrase}"
    )
    assert AllowedPhrase.objects.filter(
        screening_rule=suggestion.screening_rule, phrase=suggestion.phrase
    ).exists()
    watch.check(page)
    shot(page, "screening-06-suggestion")

    # The gambler's hit: 确认 waits while they may still explain (greyed, with the reason).
    gambling = hit_of(GAMBLING)
    page.goto(f"/admin/screening/hit/{gambling.pk}/change/")
    confirm = page.locator("#hit-confirm-form button")
    expect(confirm).to_be_disabled()
    expect(page.locator("#hit-confirm-form .help")).to_contain_text("说明")
    watch.check(page)
    shot(page, "screening-07-confirm-waits")

    # The employee explains on their own page (what ends the wait before the day is over).
    me = open_page()
    me_watch = watched(me)
    me.goto("/accounts/login/")
    me.get_by_label("用户名").fill(demo.employee)
    me.get_by_label("密码").fill(PASSWORD)
    me.get_by_role("button", name="登录").click()
    me.goto(f"/me/cases/{gambling.case_id}/")
    me.locator("#explanation textarea").fill(EXPLANATION)
    me.locator("#explanation").get_by_role("button", name="提交说明").click()
    expect(me.locator("#explanation")).to_contain_text("你已于")
    me_watch.check(me)

    page.reload()
    expect(page.locator("#hit-decide")).to_contain_text(EXPLANATION)
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.locator(".messagelist .success")).to_contain_text(f"已确认案件 #{gambling.case_id}")
    assert Case.objects.get(screening_hit=gambling).state == Case.State.CONFIRMED
    watch.check(page)

    # 筛查规则: each rule's precision, as the figures stand now.
    page.goto("/admin/")
    page.locator("#content-main .app-screening").get_by_role(
        "link", name="筛查规则", exact=True
    ).click()
    rules: list[Any] = list(selectors.rules_with_precision().filter(name__in=["赌博", "辱骂"]))
    for rule in rules:  # annotated with its figures (Any: the stubs do not see them)
        name = page.get_by_role("link", name=rule.name, exact=True)
        row = page.locator("#result_list tbody tr", has=name)
        expect(row).to_contain_text(selectors.precision_text(rule.confirmed, rule.proposed))
    assert next(r for r in rules if r.name == "赌博").confirmed >= 1  # the one just now
    # The 违规条款 filter offers the clauses some rule is tied to, not the whole catalog.
    offered = page.locator("#changelist-filter details", has_text="违规条款").locator("li a")
    tied = ScreeningRule.objects.values("rule").distinct().count()
    expect(offered).to_have_count(tied + 1)  # and 全部
    watch.check(page)
    shot(page, "screening-08-rules")


def test_hr_edits_rules_of_each_kind(open_page, demo):
    page = open_page()
    watch = watched(page)
    admin_login(page, demo.hr)

    # A keyword rule: words added in bulk, one a line; a word it has already is skipped.
    rule = ScreeningRule.objects.get(name="赌博")
    page.goto(f"/admin/screening/screeningrule/{rule.pk}/change/")
    page.get_by_label("批量添加关键词（每行一个）").fill("赌狗\n菠菜\n赌博\n")
    watch.check(page)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(MESSAGE_KEYWORDS_ADDED.format(count=2))
    words = set(rule.keywords.values_list("word", flat=True))
    assert {"赌狗", "菠菜", "赌博"} <= words
    assert Keyword.objects.filter(screening_rule=rule, word="赌博").count() == 1

    # A links rule and the flood rule save as they are; flood needs its daily limit.
    for kind in (ScreeningRule.Kind.LINKS, ScreeningRule.Kind.FLOOD):
        other = ScreeningRule.objects.get(kind=kind)
        page.goto(f"/admin/screening/screeningrule/{other.pk}/change/")
        watch.check(page)
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator(".messagelist .success")).to_be_visible()
    flood = ScreeningRule.objects.get(kind=ScreeningRule.Kind.FLOOD)
    page.goto(f"/admin/screening/screeningrule/{flood.pk}/change/")
    page.locator("#id_daily_limit").fill("")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("每人每群每天图片与表情上限")
    watch.check(page)
    shot(page, "screening-09-flood-limit")


@pytest.mark.parametrize("username", ["groupadmin", "creator"])
def test_group_admins_upload_for_their_groups_only(open_page, demo, username):
    """The demo's groupadmin runs every group (§5.2); creator runs some, not the
    confidential 管理群 (§6.1): each is offered exactly theirs."""
    person = get_user_model().objects.get(username=username)
    theirs = list(selectors.groups_user_can_import_for(person).values_list("name", flat=True))
    assert theirs
    if username == "creator":
        assert len(theirs) < ChatGroup.objects.count()
    page = open_page()
    watch = watched(page)
    admin_login(page, username)

    # Screening's other pages are HR's: not on their front page, refused if typed in.
    models = page.locator("#content-main .app-screening")
    expect(models.get_by_role("link", name="筛查命中", exact=True)).to_have_count(0)
    expect(models.get_by_role("link", name="筛查规则", exact=True)).to_have_count(0)
    models.get_by_role("link", name="聊天记录导入", exact=True).click()
    # all_inner_texts() below does not wait: be on the list first.
    expect(page).to_have_url(re.compile(r"/admin/screening/chatimport/$"))
    expect(page.locator("#result_list")).to_be_visible()

    # Their groups' imports, and no 重新筛查 (that follows a change of HR's rules).
    expect(page.locator("select[name=action]")).to_have_count(0)
    expect(page.get_by_text("按现在的筛查规则重新筛查")).to_have_count(0)
    listed = page.locator("#result_list tbody td.field-group").all_inner_texts()
    assert listed
    assert set(listed) <= set(theirs), listed
    watch.check(page)
    shot(page, f"screening-10-{username}-imports")

    page.locator(".object-tools").get_by_role("link", name="上传聊天记录").click()
    expect(page).to_have_url(re.compile(r"/admin/screening/chatimport/add/$"))
    expect(page.locator("#id_group")).to_be_visible()
    offered = page.locator("#id_group option").all_inner_texts()
    assert sorted(offered[1:]) == sorted(theirs), offered  # after "---------"
    watch.check(page)
    shot(page, f"screening-11-{username}-upload")

    response = page.goto("/admin/screening/hit/")
    assert response is not None
    assert response.status == 403
