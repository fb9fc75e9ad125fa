"""Importing an exported chat: messages stored once, senders matched, hits proposed as cases,
§6.1 only outside the management group, §9.7 counted per Beijing day (docs/screening.md)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from common.actors import SystemActor
from groups.models import ChatGroup
from screening.models import ChatImport, Hit, Keyword, Message, ScreeningRule
from screening.readers import ChatLogError
from screening.services import chatlog_import
from tests.factories import ChatGroupFactory, EmployeeFactory, RuleFactory, csv_bytes
from tests.screening.test_readers import HEADER as WECHAT_HEADER
from violations.models import Case
from violations.services import CaseError, case_confirm

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEMPLATE_HEADER = ["时间", "群昵称", "微信号", "类型", "内容"]
ACTOR = SystemActor("test")


def template(rows: list[list], *, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(csv_bytes([TEMPLATE_HEADER, *rows], encoding=encoding))


def run(group, data: io.BytesIO, *, actor=ACTOR) -> ChatImport:
    return chatlog_import(group=group, file=data, filename="群聊.csv", actor=actor)


@pytest.fixture
def work(seeded) -> ChatGroup:
    return ChatGroup.objects.get(code="work")


@pytest.fixture
def management(seeded) -> ChatGroup:
    group = ChatGroup.objects.get(code="management")
    assert group.is_confidential
    return group


@pytest.fixture
def zhang(seeded):
    return EmployeeFactory(name="张伟", wechat_id="zhangwei_88")


@pytest.fixture
def gambling(seeded) -> ScreeningRule:
    return ScreeningRule.objects.get(name="赌博")


def test_a_hit_by_a_matched_sender_is_a_proposed_case_with_the_message(work, zhang, gambling):
    result = run(
        work,
        template(
            [
                ["2026-11-30 09:00:00", "生产部-张伟", "zhangwei_88", "文字", "今天排产计划已发"],
                ["2026-11-30 09:01:00", "生产部-张伟", "zhangwei_88", "文字", "晚上一起去網 賭吧"],
            ]
        ),
    )
    assert (result.rows_read, result.messages_new, result.hits, result.cases_proposed) == (
        2,
        2,
        1,
        1,
    )
    assert result.source_format == ChatImport.Format.TEMPLATE
    hit = Hit.objects.get()
    assert hit.screening_rule == gambling
    assert hit.message.employee == zhang
    assert hit.message.sent_at == dt.datetime(2026, 11, 30, 9, 1, tzinfo=SHANGHAI)
    case = hit.case
    assert case.state == Case.State.PROPOSED
    assert case.source == Case.Source.SCREENING
    assert case.source_key == f"message:{hit.message.pk}:rule:{gambling.pk}"
    assert case.rule.code == "9.4"
    assert case.employee == zhang
    assert case.group == work
    assert case.reported_by is None  # the system proposes; HR decides
    assert "晚上一起去網 賭吧" in case.description
    assert "工作群" in case.description or work.name in case.description


def test_who_supplied_the_file_reports_its_cases_and_may_not_confirm_them(work, zhang, hr, hr2):
    # The file is the uploader's evidence (its template takes any text): four eyes.
    run(
        work,
        template([["2026-11-30 09:01:00", "张伟", "zhangwei_88", "文字", "来博彩网站"]]),
        actor=hr,
    )
    case = Hit.objects.get().case
    assert case.reported_by == hr
    with pytest.raises(CaseError):
        case_confirm(case=case, actor=hr)
    assert case_confirm(case=case, actor=hr2).state == Case.State.CONFIRMED


def test_the_same_file_twice_stores_and_proposes_nothing_twice(work, zhang):
    rows = [
        ["2026-11-30 09:00:00", "张伟", "zhangwei_88", "文字", "收到"],
        # Two identical messages in one second are two messages, both times.
        ["2026-11-30 09:00:00", "张伟", "zhangwei_88", "文字", "收到"],
        ["2026-11-30 09:02:00", "张伟", "zhangwei_88", "文字", "六合彩开奖了"],
    ]
    first = run(work, template(rows))
    second = run(work, template(rows))
    assert (first.messages_new, first.messages_duplicate, first.hits) == (3, 0, 1)
    assert (second.messages_new, second.messages_duplicate, second.hits) == (0, 3, 0)
    assert second.cases_proposed == 0
    assert Message.objects.filter(group=work).count() == 3
    assert Hit.objects.count() == 1
    assert Case.objects.filter(source=Case.Source.SCREENING).count() == 1


def test_wecom_message_ids_decide_identity_across_files(work, zhang):
    def line(msgid: str, content: str) -> str:
        return json.dumps(
            {
                "msgid": msgid,
                "action": "send",
                "from": "zhangwei_88",
                "tolist": ["lisi"],
                "roomid": "wrRoom",
                "msgtime": 1764464400000,
                "msgtype": "text",
                "text": {"content": content},
            },
            ensure_ascii=False,
        )

    first = run(work, io.BytesIO((line("m1", "好的") + "\n").encode()))
    # The same msgid again (another exporter, other file): stored once.
    second = run(work, io.BytesIO((line("m1", "好的") + "\n" + line("m2", "好的") + "\n").encode()))
    assert first.source_format == ChatImport.Format.WECOM
    assert (second.messages_new, second.messages_duplicate) == (1, 1)
    assert set(Message.objects.values_list("identity", flat=True)) == {"id:m1", "id:m2"}


def test_the_same_message_in_another_group_is_another_message(work, zhang, seeded):
    other = ChatGroup.objects.get(code="leisure")
    rows = [["2026-11-30 09:00:00", "张伟", "zhangwei_88", "文字", "收到"]]
    run(work, template(rows))
    assert run(other, template(rows)).messages_new == 1


def test_confidential_names_are_a_breach_only_outside_the_management_group(work, management, zhang):
    rule = ScreeningRule.objects.get(name="涉密名称")
    Keyword.objects.create(screening_rule=rule, word="天鹰项目")
    rows = [["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "天鹰项目报价明天定"]]
    assert run(management, template(rows)).hits == 0  # §6.1: the place for it
    assert run(work, template(rows)).hits == 1
    hit = Hit.objects.get()
    assert (hit.message.group, hit.screening_rule, hit.case.rule.code) == (work, rule, "6.1")


def test_a_sender_matched_to_nobody_is_a_hit_without_a_case(work, seeded):
    result = run(
        work, template([["2026-11-30 10:00:00", "神秘人", "wxid_unknown", "文字", "网赌带你飞"]])
    )
    assert (result.hits, result.cases_proposed, result.senders_unmatched) == (1, 0, 1)
    hit = Hit.objects.get()
    assert hit.case is None
    assert hit.message.employee is None
    assert not Case.objects.filter(source=Case.Source.SCREENING).exists()


def test_senders_are_matched_by_wechat_id_then_name_never_between_namesakes(work, seeded):
    by_id = EmployeeFactory(name="王强", wechat_id="wq_1")
    by_name = EmployeeFactory(name="陈静")
    EmployeeFactory(name="刘洋")
    EmployeeFactory(name="刘洋")  # namesakes: no guess
    run(
        work,
        template(
            [
                ["2026-11-30 10:00:00", "随便叫", "wq_1", "文字", "a"],
                ["2026-11-30 10:00:01", "质检部-陈静", "", "文字", "b"],
                ["2026-11-30 10:00:02", "刘洋", "", "文字", "c"],
            ]
        ),
    )
    employees = dict(Message.objects.values_list("content", "employee"))
    assert employees == {"a": by_id.pk, "b": by_name.pk, "c": None}


def test_ordinary_factory_chatter_makes_no_hit(work, zhang):
    chatter = [
        "明天早班提前半小时到岗，排产计划已发群里",
        "A线今天品质异常两起，请质检部下午三点开会",
        "出货单已经打印，司机十点到厂",
        "这周六加班，需要加班的同事找班长登记",
        "来料检验发现一批螺丝尺寸不对，已通知供应商",
        "返工的那批货今晚要赶出来，辛苦大家",
        "设备保养安排在周日，各车间注意",
        "客户验厂下周二，5S 再整理一遍",
        "废物料统一放到东边仓库，不要乱丢",
        "交期很紧，大家注意安全，别疲劳作业",
        "报销单请在月底前交财务",
        "食堂今天中午有红烧肉",
        "请各班组长把考勤表发我 https://www.junma.com/kaoqin",
    ]
    rows = [
        [f"2026-11-30 {8 + i:02d}:00:00", "张伟", "zhangwei_88", "文字", text]
        for i, text in enumerate(chatter)
    ]
    assert run(work, template(rows)).hits == 0


def test_a_bad_row_stores_nothing(work, zhang):
    rows = [
        ["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "网赌"],
        ["不是时间", "张伟", "zhangwei_88", "文字", "好"],
    ]
    with pytest.raises(ChatLogError) as error:
        run(work, template(rows))
    assert "第3行" in error.value.message
    assert not ChatImport.objects.exists()
    assert not Message.objects.exists()
    assert not Case.objects.filter(source=Case.Source.SCREENING).exists()


@pytest.fixture
def flood(seeded) -> ScreeningRule:
    rule = ScreeningRule.objects.get(kind=ScreeningRule.Kind.FLOOD)
    rule.daily_limit = 10
    rule.save()
    return rule


def images(day: dt.date, start: dt.time, count: int, *, kind: str = "图片") -> list[list]:
    first = dt.datetime.combine(day, start)
    return [
        [
            (first + dt.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S"),
            "张伟",
            "zhangwei_88",
            kind,
            "",
        ]
        for i in range(count)
    ]


def test_flood_is_counted_per_beijing_day_not_across_midnight(work, zhang, flood):
    # 16 images between 23:50 and 00:05: one UTC day (15:50–16:05 UTC), two Beijing days.
    rows = images(dt.date(2026, 11, 29), dt.time(23, 50), 8) + images(
        dt.date(2026, 11, 30), dt.time(0, 0), 8
    )
    assert run(work, template(rows)).hits == 0


def test_flood_over_the_limit_is_one_hit_at_the_message_past_it(work, zhang, flood):
    rows = images(dt.date(2026, 11, 30), dt.time(9, 0), 7) + images(
        dt.date(2026, 11, 30), dt.time(10, 0), 7, kind="表情"
    )
    result = run(work, template(rows))
    assert (result.hits, result.cases_proposed) == (1, 1)
    hit = Hit.objects.get()
    assert hit.screening_rule == flood
    assert hit.message.sent_at == dt.datetime(2026, 11, 30, 10, 3, tzinfo=SHANGHAI)  # the 11th
    case = hit.case
    assert case.rule.code == "9.7"
    assert case.source_key == f"flood:{flood.pk}:{work.pk}:{zhang.pk}:2026-11-30"
    assert "14 条" in case.description


def test_flood_counts_a_day_split_across_two_files_once(work, zhang, flood):
    day = dt.date(2026, 11, 30)
    assert run(work, template(images(day, dt.time(9, 0), 6))).hits == 0
    assert run(work, template(images(day, dt.time(11, 0), 6))).hits == 1
    assert run(work, template(images(day, dt.time(14, 0), 6))).hits == 0  # flagged already
    assert Hit.objects.count() == 1


def test_odd_hours_weigh_a_hit_up(work, zhang, gambling):
    run(
        work,
        template(
            [
                ["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "网赌"],
                ["2026-11-30 23:30:00", "张伟", "zhangwei_88", "文字", "网赌"],
            ]
        ),
    )
    weights = {
        hit.message.sent_at.astimezone(SHANGHAI).hour: hit.weight
        for hit in Hit.objects.select_related("message")
    }
    assert weights == {10: Decimal(1), 23: gambling.odd_hours_weight}
    assert gambling.odd_hours_weight > 1


def test_inactive_rules_do_not_screen(work, zhang, gambling):
    gambling.is_active = False
    gambling.save()
    assert (
        run(work, template([["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "网赌"]])).hits
        == 0
    )


def test_a_rule_of_ones_own_is_screened(work, zhang):
    rule = ScreeningRule.objects.create(name="竞争对手", kind="keywords", rule=RuleFactory())
    Keyword.objects.create(screening_rule=rule, word="飞鹰厂", whole_word=False)
    Keyword.objects.create(screening_rule=rule, word="跳槽", initials="tc")
    result = run(
        work,
        template(
            [
                ["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "飛鷹廠那边工资高"],
                ["2026-11-30 10:01:00", "张伟", "zhangwei_88", "文字", "想 tc 了"],
            ]
        ),
    )
    assert result.hits == 2
    assert set(Hit.objects.values_list("screening_rule", flat=True)) == {rule.pk}


def test_import_queries_stay_flat_as_the_file_grows(work, zhang, django_assert_max_num_queries):
    def rows(n: int) -> list[list]:
        start = dt.datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
        return [
            [
                (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S"),
                "张伟",
                "zhangwei_88",
                "文字",
                f"第{i}条：排产正常",
            ]
            for i in range(n)
        ]

    # One batch or three: a few queries per batch, none per message.
    with django_assert_max_num_queries(25):
        run(work, template(rows(100)))
    with django_assert_max_num_queries(35):
        run(ChatGroup.objects.get(code="leisure"), template(rows(5_000)))


def test_the_command_imports_and_reports(work, zhang, tmp_path):
    path = tmp_path / "chat.csv"
    path.write_bytes(
        csv_bytes(
            [TEMPLATE_HEADER, ["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "百家乐"]],
            encoding="gbk",
        )
    )
    out = io.StringIO()
    call_command("import_chatlog", "--group", "work", str(path), stdout=out)
    assert "新消息 1 条" in out.getvalue()
    assert "提出待审核案件 1 件" in out.getvalue()


def test_the_command_refuses_clearly(work, tmp_path):
    with pytest.raises(CommandError, match="没有代码为 nope 的微信群"):
        call_command("import_chatlog", "--group", "nope", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_chatlog", "--group", "work", str(tmp_path / "x.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b,c\n1,2,3\n")
    with pytest.raises(CommandError, match="聊天记录未导入"):
        call_command("import_chatlog", "--group", "work", str(bad))
    assert not ChatImport.objects.exists()


def test_a_group_of_its_own_is_screened_like_the_others(seeded):
    group = ChatGroupFactory(is_confidential=False)
    EmployeeFactory(name="赵六", wechat_id="z6")
    assert run(group, template([["2026-11-30 10:00:00", "赵六", "z6", "文字", "赌场"]])).hits == 1


def test_rescreening_finds_what_a_new_word_catches_and_nothing_twice(work, zhang, hr):
    from screening.services import chatlog_rescreen

    chat_import = run(
        work,
        template(
            [
                ["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "去飞鹰厂面试了"],
                ["2026-11-30 10:01:00", "张伟", "zhangwei_88", "文字", "网赌"],
            ]
        ),
    )
    assert Hit.objects.count() == 1
    rule = ScreeningRule.objects.create(name="竞争对手", kind="keywords", rule=RuleFactory())
    Keyword.objects.create(screening_rule=rule, word="飞鹰厂")
    assert chatlog_rescreen(chat_import=chat_import, actor=hr) == 1
    assert chatlog_rescreen(chat_import=chat_import, actor=hr) == 0
    assert Hit.objects.count() == 2
    assert Hit.objects.get(screening_rule=rule).case.reported_by is None
    chat_import.refresh_from_db()
    assert (chat_import.hits, chat_import.cases_proposed) == (2, 2)


def wecom_line(msgid: str, room: str, content: str, *, sender: str = "zhangwei_88") -> str:
    return json.dumps(
        {
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": ["lisi"],
            "roomid": room,
            "msgtime": 1764464400000,
            "msgtype": "text",
            "text": {"content": content},
        },
        ensure_ascii=False,
    )


def wecom(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def test_private_chats_in_an_archive_are_never_stored(work, zhang):
    result = run(work, wecom(wecom_line("p1", "", "私聊：网赌"), wecom_line("g1", "wrA", "收到")))
    assert (result.messages_new, result.messages_skipped, result.hits) == (1, 1, 0)
    assert result.room_id == "wrA"
    assert list(Message.objects.values_list("content", flat=True)) == ["收到"]


def test_a_file_of_two_group_chats_is_refused_unless_the_room_is_named(work, zhang):
    lines = (wecom_line("a1", "wrA", "收到"), wecom_line("b1", "wrB", "网赌"))
    with pytest.raises(ChatLogError, match="不止一个群聊"):
        run(work, wecom(*lines))
    assert not Message.objects.exists()
    result = chatlog_import(
        group=work, file=wecom(*lines), filename="archive.jsonl", actor=ACTOR, room="wrB"
    )
    assert (result.messages_new, result.messages_skipped, result.hits) == (1, 1, 1)
    assert Message.objects.get().content == "网赌"


def wechat_export(rows: list[list]) -> io.BytesIO:
    return io.BytesIO(csv_bytes([WECHAT_HEADER, *rows], encoding="utf-8-sig"))


def wechat_row(local_id, talker, content, *, nick="张伟", sender="zhangwei_88", mine=0, remark=""):
    when = 1764464460  # 2025-11-30 09:01 Beijing time
    return [local_id, talker, 1, 0, mine, when, 2, content, "", remark, nick, sender]


def test_two_admins_exports_of_one_chat_store_each_message_once(work, zhang):
    # Each PC writes the sender as it knows them: a nickname, a private remark, or — for the
    # exporter's own messages — no Sender at all. The message is the same.
    first = run(work, wechat_export([wechat_row(1, "123@chatroom", "今晚网赌吗", nick="老张")]))
    second = run(
        work,
        wechat_export(
            [wechat_row(77, "123@chatroom", "今晚网赌吗", nick="张伟", remark="生产张工")]
        ),
    )
    third = run(
        work,
        wechat_export([wechat_row(5, "123@chatroom", "今晚网赌吗", sender="", mine=1)]),
    )
    assert first.source_format == ChatImport.Format.WECHAT_PC
    assert (first.messages_new, second.messages_new, third.messages_new) == (1, 0, 0)
    assert Case.objects.filter(source=Case.Source.SCREENING).count() == 1


def test_private_chats_in_a_wechat_export_are_never_stored(work, zhang):
    rows = [
        wechat_row(1, "zhangwei_88", "私聊：网赌吗"),  # a custom WeChat id: a person
        wechat_row(2, "gh_3dfda90e39d6", "公众号推送"),
        wechat_row(3, "filehelper", "文件传输助手"),
        wechat_row(4, "123@chatroom", "收到"),
    ]
    result = run(work, wechat_export(rows))
    assert (result.messages_new, result.messages_skipped, result.hits) == (1, 3, 0)
    assert list(Message.objects.values_list("content", flat=True)) == ["收到"]


def test_a_confidential_groups_words_stay_out_of_the_case(management, zhang):
    run(
        management,
        template(
            [
                [
                    "2026-11-30 10:00:00",
                    "张伟",
                    "zhangwei_88",
                    "文字",
                    "天鹰项目底价380万，谁报高了就是废物",
                ]
            ]
        ),
    )
    hit = Hit.objects.get()
    assert hit.screening_rule.name == "辱骂"
    assert "天鹰" not in hit.case.description
    assert f"筛查命中 #{hit.pk}" in hit.case.description
    assert "天鹰" in hit.message.content


def test_a_repeated_second_out_of_order_is_still_two_messages(work, zhang):
    rows = [
        ["2026-11-30 09:00:00", "张伟", "zhangwei_88", "文字", "收到"],
        ["2026-11-30 09:00:01", "张伟", "zhangwei_88", "文字", "好"],
        ["2026-11-30 09:00:00", "李四", "lisi", "文字", "收到"],
    ]
    assert run(work, template(rows)).messages_new == 3
    assert run(work, template(rows)).messages_new == 0


def test_flood_counts_the_employee_however_each_file_wrote_them(work, zhang, flood):
    day = dt.date(2026, 11, 30)
    by_id = images(day, dt.time(9, 0), 6)
    by_name = [
        [when, "生产部-张伟", "", kind, c] for when, _, _, kind, c in images(day, dt.time(11, 0), 6)
    ]
    run(work, template(by_id))
    result = run(work, template(by_name))
    assert (result.hits, result.cases_proposed) == (1, 1)


def test_each_hit_costs_a_bounded_number_of_queries(work, zhang):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(group, hits: int) -> int:
        rows = [
            [f"2026-11-30 10:{i:02d}:00", "张伟", "zhangwei_88", "文字", f"第{i}次：网赌"]
            for i in range(hits)
        ] + [
            [f"2026-11-30 11:{i:02d}:00", "张伟", "zhangwei_88", "文字", "收到"] for i in range(40)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert run(group, template(rows)).hits == hits
        return len(captured)

    few = queries(work, 2)
    many = queries(ChatGroup.objects.get(code="leisure"), 12)
    # One insert for the hits; the rest is case_propose's own (the case, its first
    # transition, the employee's notice) — about a dozen a case, never a query per message.
    assert (many - few) / 10 <= 15


def test_a_file_spread_over_days_is_still_stored_once(work, zhang):
    # One batch spanning more than screening.services.importing.WINDOW: looked up by identity.
    rows = [
        ["2026-11-01 09:00:00", "张伟", "zhangwei_88", "文字", "收到"],
        ["2026-11-30 09:00:00", "张伟", "zhangwei_88", "文字", "收到"],
    ]
    assert run(work, template(rows)).messages_new == 2
    again = run(work, template(rows))
    assert (again.messages_new, again.messages_duplicate) == (0, 2)


def test_each_flood_costs_a_bounded_number_of_queries(work, flood, seeded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(group, senders: int) -> int:
        rows = []
        for n in range(senders):
            person = EmployeeFactory(wechat_id=f"flood_{group.code}_{n}")
            for day in (dt.date(2026, 11, 29), dt.date(2026, 11, 30)):
                for i in range(11):
                    at = f"{day} 1{n}:{i:02d}:00"
                    rows.append([at, person.name, person.wechat_id, "图片", ""])
        with CaptureQueriesContext(connection) as captured:
            assert run(group, template(rows)).hits == 2 * senders
        return len(captured)

    few = queries(work, 1)
    many = queries(ChatGroup.objects.get(code="leisure"), 4)
    # Counting and finding the crossing images take the same few queries for 1 sender or 4;
    # each flooded day adds its hit and case_propose's own queries, nothing per image.
    assert (many - few) / 6 <= 16


def test_a_message_stored_without_its_sender_is_charged_when_another_export_names_them(
    work, zhang, hr, hr2
):
    # The exporting admin's own message has no Sender in their export: no one to charge yet.
    own = run(
        work,
        wechat_export([wechat_row(1, "123@chatroom", "今晚网赌吗", nick="", sender="", mine=1)]),
        actor=hr,
    )
    assert (own.hits, own.cases_proposed) == (1, 0)
    # A colleague's export names them: the message is theirs, and its hit proposes the case.
    other = run(work, wechat_export([wechat_row(9, "123@chatroom", "今晚网赌吗")]), actor=hr2)
    assert (other.messages_new, other.messages_duplicate, other.cases_proposed) == (0, 1, 1)
    message = Message.objects.get()
    assert (message.employee, message.sender_wechat_id) == (zhang, "zhangwei_88")
    case = Hit.objects.get().case
    assert (case.employee, case.reported_by) == (zhang, hr2)


def test_a_wecom_message_given_another_time_by_another_export_is_still_one(work, zhang):
    first = wecom_line("m-1", "wrA", "收到")
    later = json.loads(first)
    later["msgtime"] += 9 * 3600 * 1000  # nine hours off: outside the batch's time window
    run(work, wecom(first))
    again = run(work, wecom(json.dumps(later, ensure_ascii=False)))
    assert (again.messages_new, again.messages_duplicate) == (0, 1)


def test_rescreening_applies_a_lowered_flood_limit(work, zhang, flood, hr):
    chat_import = run(work, template(images(dt.date(2026, 11, 30), dt.time(9, 0), 8)))
    assert chat_import.hits == 0
    flood.daily_limit = 5
    flood.save()
    from screening.services import chatlog_rescreen

    assert chatlog_rescreen(chat_import=chat_import, actor=hr) == 1
    hit = Hit.objects.get()
    assert hit.message.sent_at == dt.datetime(2026, 11, 30, 9, 5, tzinfo=SHANGHAI)  # the 6th


def test_rescreening_proposes_as_whoever_supplied_the_file(work, zhang, hr, hr2):
    from screening.services import chatlog_rescreen

    chat_import = run(
        work,
        template([["2026-11-30 10:00:00", "张伟", "zhangwei_88", "文字", "去飞鹰厂面试了"]]),
        actor=hr,
    )
    rule = ScreeningRule.objects.create(name="竞争对手", kind="keywords", rule=RuleFactory())
    Keyword.objects.create(screening_rule=rule, word="飞鹰厂")
    assert chatlog_rescreen(chat_import=chat_import, actor=hr2) == 1
    assert Hit.objects.get().case.reported_by == hr  # the file is hr's evidence: hr2 decides


def test_the_command_imports_one_room_of_an_archive(work, zhang, tmp_path):
    path = tmp_path / "archive.jsonl"
    path.write_bytes(
        wecom(wecom_line("a1", "wrA", "收到"), wecom_line("b1", "wrB", "网赌")).getvalue()
    )
    with pytest.raises(CommandError, match="不止一个群聊"):
        call_command("import_chatlog", "--group", "work", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_chatlog", "--group", "work", "--room", "wrB", str(path), stdout=out)
    assert "新消息 1 条" in out.getvalue()
    assert Message.objects.get().content == "网赌"


def test_a_confidential_groups_link_hit_names_no_site_in_the_case(management, zhang):
    rule = ScreeningRule.objects.get(kind=ScreeningRule.Kind.LINKS)
    rule.domains.create(domain="tianying-bid.com", listing="block")
    run(
        management,
        template(
            [
                [
                    "2026-11-30 10:00:00",
                    "张伟",
                    "zhangwei_88",
                    "文字",
                    "标书 https://tianying-bid.com/x",
                ]
            ]
        ),
    )
    description = Hit.objects.get(screening_rule=rule).case.description
    assert "tianying" not in description
