"""screening.readers: the three chat-log formats, their encodings, and hostile files (issue 15).

Every file is written here (tests/factories.py's csv_bytes/xlsx_bytes, tests/hostile.py's raw
xlsx), never committed. No database: reading a file stores nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tracemalloc
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.defaultfilters import filesizeformat

from screening.readers import (
    CHUNK_BYTES,
    ERROR_BROKEN_CSV,
    ERROR_EMPTY,
    ERROR_ENCODING,
    ERROR_NOT_TEXT,
    ERROR_OLD_EXCEL,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY_ROWS,
    MAX_LINE_CHARS,
    RECALLED,
    ChatLogError,
    ParsedMessage,
    chatlog_template,
    read_chatlog,
)
from tests.factories import csv_bytes, xlsx_bytes
from tests.hostile import write_hostile_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = [
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
]
ROOM = "20261130@chatroom"
# An Excel date-time cell has no time zone: it is what the clock on the wall said.
EXCEL_CELL = datetime(2026, 11, 30, 8, 15)  # noqa: DTZ001
# 2026-11-30 08:15:00 in Beijing is 00:15 UTC.
MORNING = int(datetime(2026, 11, 30, 8, 15, tzinfo=SHANGHAI).timestamp())


def wechat_row(
    content: str = "今天加班到九点",
    *,
    type_: object = 1,
    subtype: object = 0,
    is_sender: object = 0,
    created: object = MORNING,
    str_time: str = "2026-11-30 08:15:00",
    nickname: str = "张三",
    sender: str = "zhangsan_wx",
    talker: str = ROOM,
    remark: str = "",
) -> list[object]:
    return [
        1,
        talker,
        type_,
        subtype,
        is_sender,
        created,
        2,
        content,
        str_time,
        remark,
        nickname,
        sender,
    ]


def read(data: bytes, **kwargs) -> tuple[str, list[ParsedMessage]]:
    source_format, messages = read_chatlog(io.BytesIO(data), **kwargs)
    return source_format, list(messages)


def refused(data: bytes) -> str:
    """The refusal of a file, whether it comes when the file is opened or mid-stream."""
    with pytest.raises(ChatLogError) as caught:
        read(data)
    message = str(caught.value)
    assert re.search(r"[\u4e00-\u9fff]", message)  # Chinese, for the clerk who reads it
    return message


def one(data: bytes) -> ParsedMessage:
    _, messages = read(data)
    assert len(messages) == 1
    return messages[0]


def jsonl(*records: object, encoding: str = "utf-8") -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode(
        encoding
    )


def wecom(msgtype: str = "text", **fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "msgid": "CAQQluDa4QUY0On2rYSAgAMgzPrShAE=",
        "action": "send",
        "from": "zhangsan",
        "tolist": ["lisi"],
        "roomid": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        "msgtime": MORNING * 1000 + 123,
        "msgtype": msgtype,
    }
    record.update(fields)
    return record


# --- WeChat PC export tools ---------------------------------------------------------------------
EXPECTED = ParsedMessage(
    row=2,
    source_id="",
    sent_at=datetime(2026, 11, 30, 0, 15, tzinfo=UTC),
    sender_wechat_id="zhangsan_wx",
    sender_name="张三",
    kind="text",
    content="今天加班到九点",
    room_id=ROOM,
)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda rows: csv_bytes(rows), id="utf-8"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="utf-8-sig"), id="utf-8 with BOM"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="gbk"), id="gbk"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="utf-16", delimiter="\t"), id="utf-16"),
        pytest.param(lambda rows: csv_bytes(rows, delimiter="\t"), id="tabs"),
        pytest.param(xlsx_bytes, id="xlsx"),
    ],
)
def test_a_wechat_pc_export_is_read_in_each_encoding_and_container(make):
    source_format, messages = read(make([HEADER, wechat_row()]), filename="聊天记录.txt")

    assert source_format == "wechat_pc"
    assert messages == [EXPECTED]


def test_the_columns_may_come_in_any_order_with_extra_ones_and_any_case():
    header = ["Extra", "strcontent", " CREATETIME ", "Type", "Sender", "NickName", "BytesExtra"]
    row = ["?", "今天加班到九点", MORNING, 1, "zhangsan_wx", "张三", "0x00"]

    message = one(csv_bytes([header, row]))

    assert (message.content, message.sender_wechat_id, message.sender_name) == (
        "今天加班到九点",
        "zhangsan_wx",
        "张三",
    )
    assert message.room_id == ""


@pytest.mark.parametrize(
    ("type_", "subtype", "kind"),
    [
        (1, 0, "text"),
        (3, 0, "image"),
        (34, 0, "voice"),
        (43, 0, "video"),
        (47, 0, "sticker"),
        (49, 5, "link"),
        (49, 6, "file"),
        (49, 33, "mini_program"),
        (49, 36, "mini_program"),
        (49, 57, "text"),
        (49, 19, "other"),  # a forwarded chat record
        (49, 2000, "other"),  # a transfer
        (10000, 0, "system"),
        (42, 0, "other"),  # a contact card
        (48, 0, "other"),  # a location
    ],
)
def test_every_wechat_type_maps_to_its_kind(type_, subtype, kind):
    assert one(csv_bytes([HEADER, wechat_row(type_=type_, subtype=subtype)])).kind == kind


def test_media_messages_keep_no_xml_as_content():
    image_xml = '<?xml version="1.0"?><msg><img aeskey="abc" md5="def" length="1234"/></msg>'

    message = one(csv_bytes([HEADER, wechat_row(image_xml, type_=3)]))

    assert (message.kind, message.content) == ("image", "")


LINK_XML = (
    '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>年终奖内部消息</title>'
    "<des>点开看</des><type>5</type><url>https://t.cn/A6abcd</url></appmsg>"
    "<fromusername>wxid_abc123</fromusername></msg>"
)


@pytest.mark.parametrize(
    ("subtype", "xml", "kind", "content"),
    [
        ("5", LINK_XML, "link", "年终奖内部消息 https://t.cn/A6abcd"),
        ("", LINK_XML, "link", "年终奖内部消息 https://t.cn/A6abcd"),  # the XML's <type>
        (
            "33",
            "<msg><appmsg><title>砍一刀</title><type>33</type><url>https://mp.weixin.qq.com/x</url>"
            "<sourcedisplayname>拼单小程序</sourcedisplayname></appmsg></msg>",
            "mini_program",
            "砍一刀 https://mp.weixin.qq.com/x 拼单小程序",
        ),
        (
            "6",
            "<msg><appmsg><title>客户报价单.xlsx</title><type>6</type></appmsg></msg>",
            "file",
            "客户报价单.xlsx",
        ),
        (
            "57",
            "<msg><appmsg><title>收到，马上改</title><type>57</type><refermsg><content>旧消息"
            "</content></refermsg></appmsg></msg>",
            "text",
            "收到，马上改",
        ),
        ("5", "[链接] 年终奖内部消息", "link", "[链接] 年终奖内部消息"),  # tools that write text
        ("5", "<msg><appmsg><title>broken", "link", "<msg><appmsg><title>broken"),
    ],
)
def test_an_app_message_puts_its_title_and_url_in_the_content(subtype, xml, kind, content):
    message = one(csv_bytes([HEADER, wechat_row(xml, type_=49, subtype=subtype)]))

    assert (message.kind, message.content) == (kind, content)


def test_an_app_message_with_entities_is_never_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE msg [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<msg><appmsg><title>&b;</title><url>https://x.cn</url></appmsg></msg>"
    )

    message = one(csv_bytes([HEADER, wechat_row(bomb, type_=49, subtype=5)]))

    assert message.content == bomb  # kept as the text it is: the entities never expanded


def test_an_oversized_app_message_is_kept_as_text_not_parsed():
    xml = f"<msg><appmsg><title>t</title><des>{'x' * 70_000}</des></appmsg></msg>"

    message = one(csv_bytes([HEADER, wechat_row(xml, type_=49, subtype=5)]))

    assert message.content == xml


@pytest.mark.parametrize(
    ("content", "sender", "is_sender", "talker", "expected"),
    [
        # A group export without a Sender column value: the prefix names the sender.
        ("wxid_abc123def456:\n大家好", "", 0, ROOM, ("wxid_abc123def456", "大家好")),
        ("wxid_abc123def456:\r\n大家好", "", 0, ROOM, ("wxid_abc123def456", "大家好")),
        # The prefix repeats the Sender column: dropped.
        ("zhangsan_wx:\n大家好", "zhangsan_wx", 0, ROOM, ("zhangsan_wx", "大家好")),
        # Someone typed "Hello:" on a line of its own: not a prefix.
        ("Hello_all:\n大家好", "zhangsan_wx", 0, ROOM, ("zhangsan_wx", "Hello_all:\n大家好")),
        # What the exporter sent has no prefix.
        ("wxid_abc123def456:\n大家好", "", 1, ROOM, ("", "wxid_abc123def456:\n大家好")),
        # A private chat (no @chatroom) has none either.
        ("Notice_me:\n大家好", "", 0, "wxid_friend", ("", "Notice_me:\n大家好")),
    ],
)
def test_a_sender_prefix_in_group_messages_is_stripped(
    content, sender, is_sender, talker, expected
):
    row = wechat_row(content, sender=sender, is_sender=is_sender, talker=talker)

    message = one(csv_bytes([HEADER, row]))

    assert (message.sender_wechat_id, message.content) == expected


def test_the_nickname_falls_back_to_the_remark():
    message = one(csv_bytes([HEADER, wechat_row(nickname="", remark="三哥（车间）")]))

    assert message.sender_name == "三哥（车间）"


# --- time zones ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("created", "str_time"),
    [
        (MORNING, "1999-01-01 00:00:00"),  # CreateTime wins over StrTime
        (str(MORNING * 1000), ""),  # some tools write milliseconds
        ("", "2026-11-30 08:15:00"),  # StrTime is Beijing time
        ("0", "2026/11/30 8:15"),
    ],
)
def test_wechat_times_are_aware_and_beijing_time_is_read_as_such(created, str_time):
    message = one(csv_bytes([HEADER, wechat_row(created=created, str_time=str_time)]))

    assert message.sent_at == datetime(2026, 11, 30, 0, 15, tzinfo=UTC)
    assert message.sent_at.utcoffset() is not None


def test_an_excel_date_time_str_time_is_beijing_time():
    row = wechat_row(created=None, str_time=EXCEL_CELL)  # type: ignore[arg-type]

    message = one(xlsx_bytes([HEADER, row]))

    assert message.sent_at == datetime(2026, 11, 30, 8, 15, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("created", "str_time", "column"),
    [
        ("yesterday", "2026-11-30 08:15:00", "CreateTime"),
        ("12", "", "CreateTime"),  # 1970: a wrong column, not a chat message
        ("", "", "CreateTime"),
        ("", "30/11/2026", "StrTime"),
        ("", "2026-02-30 08:00", "StrTime"),
    ],
)
def test_a_bad_time_names_its_row_and_column(created, str_time, column):
    rows = [HEADER, wechat_row(), wechat_row(), wechat_row(created=created, str_time=str_time)]

    assert refused(csv_bytes(rows)) == f"第4行“{column}”列：不是有效的时间"


def test_a_bad_type_names_its_row_and_column():
    rows = [HEADER, *[wechat_row()] * 10, wechat_row(type_="文本")]

    assert refused(csv_bytes(rows)) == "第12行“Type”列：不是有效的消息类型“文本”"


def test_rows_are_numbered_as_excel_shows_them_with_blank_and_multi_line_rows():
    rows = [HEADER, wechat_row("第一行\n第二行"), [], [""] * 12, wechat_row("后来")]

    _, messages = read(csv_bytes(rows))

    assert [(m.row, m.content) for m in messages] == [(2, "第一行\n第二行"), (5, "后来")]


def test_a_bad_row_raises_mid_stream_after_the_good_ones():
    # The caller imports in one transaction: what came before the bad row is rolled back.
    _, messages = read_chatlog(io.BytesIO(csv_bytes([HEADER, wechat_row(), wechat_row(type_="x")])))

    assert next(messages).row == 2
    with pytest.raises(ChatLogError, match="第3行"):
        next(messages)


# --- WeCom chat archive -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "kind", "content"),
    [
        (wecom("text", text={"content": "今晚加班"}), "text", "今晚加班"),
        (wecom("markdown", info={"content": "**通知**"}), "text", "**通知**"),
        (wecom("image", image={"md5sum": "x", "filesize": 1}), "image", ""),
        (wecom("voice", voice={"play_length": 3}), "voice", ""),
        (wecom("video", video={"play_length": 3}), "video", ""),
        (wecom("emotion", emotion={"type": 1}), "sticker", ""),
        (
            wecom("link", link={"title": "内部价目表", "link_url": "https://bit.ly/x1"}),
            "link",
            "内部价目表 https://bit.ly/x1",
        ),
        (
            wecom("weapp", weapp={"title": "拼单", "displayname": "拼拼小程序", "username": "u"}),
            "mini_program",
            "拼单 拼拼小程序",
        ),
        (wecom("file", file={"filename": "客户名单.xlsx"}), "file", "客户名单.xlsx"),
        (
            wecom(
                "mixed",
                mixed={
                    "item": [
                        {"type": "text", "content": json.dumps({"content": "看图"})},
                        {"type": "image", "content": "{}"},
                    ]
                },
            ),
            "text",
            "看图",
        ),
        (wecom("location", location={"title": "工厂"}), "other", ""),
        (wecom("text", text={"content": ["not", "text"]}), "text", ""),
        (wecom("text", action="recall", revoke={"pre_msgid": "x"}), "system", RECALLED),
    ],
)
def test_a_wecom_archive_line_becomes_a_message(record, kind, content):
    source_format, messages = read(jsonl(record))

    assert source_format == "wecom"
    assert messages == [
        ParsedMessage(
            row=1,
            source_id="CAQQluDa4QUY0On2rYSAgAMgzPrShAE=",
            sent_at=datetime.fromtimestamp(MORNING + 0.123, tz=UTC),
            sender_wechat_id="zhangsan",
            sender_name="",
            kind=kind,
            content=content,
            room_id="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        )
    ]


def test_wecom_switch_lines_and_blank_lines_are_skipped_and_rows_keep_their_numbers():
    data = (
        b"\n"
        + jsonl({"msgid": "s1", "action": "switch", "time": 1554119421840, "user": "zhangsan"})
        + b"\r\n"
        + jsonl(wecom(text={"content": "早"}), encoding="utf-8")
    )

    _, messages = read(codecs.BOM_UTF8 + data)

    assert [(m.row, m.content) for m in messages] == [(4, "早")]


@pytest.mark.parametrize(
    ("record", "field", "problem"),
    [
        (wecom(msgtime="yesterday"), "msgtime", "不是有效的时间"),
        (wecom(msgtime=True), "msgtime", "不是有效的时间"),
        (wecom(msgtime=12), "msgtime", "不是有效的时间"),
        ({**wecom(), "msgtime": None}, "msgtime", "不是有效的时间"),
        (wecom(msgid=""), "msgid", "不能为空，且不超过 96 个字符"),
        (wecom(msgid="x" * 97), "msgid", "不能为空，且不超过 96 个字符"),
    ],
)
def test_a_bad_wecom_field_names_its_line(record, field, problem):
    data = jsonl(wecom(text={"content": "早"}), record)

    assert refused(data) == f"第2行“{field}”字段：{problem}"


@pytest.mark.parametrize(
    "line",
    [
        b'{"msgid": "a", "msgtime": ',  # cut short
        b"[1, 2, 3]",  # not an object
        b"{}" + b"]" * 3,
        b'{"msgid": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # nested past the stack
        b'{"msgid": "a", "n": ' + b"9" * 10_000 + b"}",  # an integer too long to convert
    ],
)
def test_a_broken_json_line_is_refused_with_its_number(line):
    data = jsonl(wecom(text={"content": "早"})) + line + b"\n"

    assert refused(data) == "第2行：不是有效的 JSON 对象（企业微信会话存档每行应是一条消息）。"


def test_a_wecom_line_over_the_line_cap_is_refused():
    long_text = "好" * (MAX_LINE_CHARS + 10)
    data = jsonl(wecom(text={"content": "早"}), wecom(text={"content": long_text}))

    assert refused(data) == f"第2行太长（超过 {MAX_LINE_CHARS} 个字符）：这不像聊天记录导出文件。"


# --- the template -------------------------------------------------------------------------------
def test_the_template_reads_back_as_its_example():
    source_format, messages = read(chatlog_template())

    assert source_format == "template"
    assert messages == [
        ParsedMessage(
            row=2,
            source_id="",
            sent_at=datetime(2026, 11, 30, 8, 15, tzinfo=SHANGHAI),
            sender_wechat_id="zhangsan_1990",
            sender_name="张三",
            kind="text",
            content="今天的排产计划已发群文件，请查收。",
        )
    ]


TEMPLATE = ["时间", "群昵称", "微信号", "类型", "内容"]


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("文字", "text"),
        ("", "text"),
        ("图片", "image"),
        ("语音", "voice"),
        ("视频", "video"),
        ("表情", "sticker"),
        ("链接", "link"),
        ("文件", "file"),
        ("小程序", "mini_program"),
        ("系统消息", "system"),
        ("其他", "other"),
        ("mini_program", "mini_program"),
    ],
)
def test_every_template_type_maps_to_its_kind(label, kind):
    message = one(csv_bytes([TEMPLATE, ["2026-11-30 08:15", "张三", "zs", label, "x"]]))

    assert message.kind == kind


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-30 08:15",
        "2026-11-30 08:15:00",
        "2026/11/30 8:15",
        "2026年11月30日 08:15",
        EXCEL_CELL,
    ],
)
def test_template_times_are_beijing_time(when):
    message = one(xlsx_bytes([TEMPLATE, [when, "张三", "zs", "文字", "早"]]))

    assert message.sent_at == datetime(2026, 11, 30, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ["", "张三", "zs", "文字", "早"],
            "第3行“时间”列：不能为空：请填写发送时间，如 2026-11-30 08:15",
        ),
        (["明天", "张三", "zs", "文字", "早"], "第3行“时间”列：不是有效的时间"),
        (["2026-11-30", "张三", "zs", "文字", "早"], "第3行“时间”列：不是有效的时间"),
        (["2026-11-30 08:15", "张三", "zs", "红包", "早"], "第3行“类型”列：无法识别的类型“红包”"),
    ],
)
def test_a_bad_template_cell_names_its_row_and_column(row, expected):
    data = csv_bytes([TEMPLATE, ["2026-11-30 08:15", "张三", "zs", "", "早"], row])

    assert refused(data).startswith(expected)


def test_template_columns_may_be_reordered_and_the_sender_id_alone_is_enough():
    message = one(csv_bytes([["内容", "微信号", "时间"], ["早", "zs", "2026-11-30 08:15"]]))

    assert (message.content, message.sender_wechat_id, message.sender_name) == ("早", "zs", "")


# --- formulas are text --------------------------------------------------------------------------
def test_formula_looking_cells_are_kept_as_text_never_evaluated():
    payload = "=cmd|' /C calc'!A0"
    data = csv_bytes([TEMPLATE, ["2026-11-30 08:15", "@SUM(1+1)", "+zs", "文字", payload]])

    message = one(data)

    assert (message.content, message.sender_name, message.sender_wechat_id) == (
        payload,
        "@SUM(1+1)",
        "+zs",
    )


def test_an_xlsx_formula_is_never_evaluated():
    # openpyxl writes "=1+1" as a formula with no cached value: nothing computes it here.
    message = one(xlsx_bytes([TEMPLATE, ["2026-11-30 08:15", "张三", "zs", "文字", "=1+1"]]))

    assert message.content == ""


# --- encodings ----------------------------------------------------------------------------------
def test_a_non_ascii_character_first_met_at_the_chunk_edge_decides_the_encoding():
    # A WeChat export can begin with a page of ASCII (ids, times); the first Chinese character
    # is cut by the chunk edge: its first byte alone is no proof of UTF-8 (张's GBK lead byte
    # 0xD5 starts a UTF-8 pair too), so the decision waits for the next chunk.
    header = ",".join(HEADER).encode() + b"\r\n"
    filler_row = f"1,{ROOM},1,0,0,{MORNING},2,hello,2026-11-30 08:15:00,,a,zhangsan_wx\r\n".encode()
    body = header + filler_row * ((CHUNK_BYTES - 500) // len(filler_row))
    start = f"1,{ROOM},1,0,0,{MORNING},2,".encode()
    pad = b"x" * (CHUNK_BYTES - len(body) - len(start) - 1)
    for encoding in ("gbk", "utf-8"):
        data = (
            body
            + start
            + pad
            + "张三".encode(encoding)
            + b",2026-11-30 08:15:00,,a,zhangsan_wx\r\n"
        )
        assert data[CHUNK_BYTES - 1] >= 0x80
        assert data[: CHUNK_BYTES - 1].isascii()

        _, messages = read(data)

        assert messages[-1].content == "x" * len(pad) + "张三"


def test_text_that_is_neither_utf8_nor_gbk_mid_file_is_refused():
    head = csv_bytes([HEADER, wechat_row("你好")])  # UTF-8 chosen on the first chunk
    data = head + b"1,x,1,0,0,1764461700,2,\xff\xff\xff,,,a,b\r\n"

    assert refused(data) == ERROR_ENCODING


# --- hostile files ------------------------------------------------------------------------------
class NoReading(io.BytesIO):
    """A file that fails the test if anything is read from it."""

    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("read before the size was checked")


class Pipe(io.RawIOBase):
    """A stream that cannot tell its size: read as it comes, counted as it is read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.SCREENING_MAX_UPLOAD_BYTES = 1000
    file = NoReading(csv_bytes([HEADER, *[wechat_row()] * 20]))

    with pytest.raises(ChatLogError) as caught:
        read_chatlog(file)

    assert str(caught.value) == ERROR_TOO_LARGE.format(
        size=filesizeformat(len(file.getvalue())), limit=filesizeformat(1000)
    )


def test_a_stream_of_unknown_size_is_refused_once_it_passes_the_limit(settings):
    settings.SCREENING_MAX_UPLOAD_BYTES = CHUNK_BYTES * 2
    data = csv_bytes([HEADER, *[wechat_row()] * 3000])
    assert len(data) > CHUNK_BYTES * 2

    source_format, messages = read_chatlog(io.BufferedReader(Pipe(data)))

    assert source_format == "wechat_pc"
    with pytest.raises(ChatLogError, match="文件太大"):
        list(messages)


def test_a_stream_of_unknown_size_under_the_limit_is_read():
    _, messages = read_chatlog(io.BufferedReader(Pipe(csv_bytes([HEADER, wechat_row()]))))

    assert list(messages) == [EXPECTED]


def test_an_xlsx_is_capped_on_its_own_size(settings, monkeypatch):
    from screening import readers

    monkeypatch.setattr(readers, "MAX_XLSX_BYTES", 1000)

    assert refused(xlsx_bytes([HEADER, wechat_row()])).startswith("Excel 文件太大")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", ERROR_EMPTY),
        (b"\r\n\n  \n", ERROR_EMPTY),
        (b",,,\r\n,,\r\n", ERROR_EMPTY),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ERROR_OLD_EXCEL),
        (b"localId,Type\x00\x01\x02\x03,CreateTime\r\n", ERROR_NOT_TEXT),
        (bytes(range(256)) * 10, ERROR_NOT_TEXT),
    ],
    ids=["empty", "blank lines", "blank cells", "old excel", "nul bytes", "binary"],
)
def test_files_that_are_no_chat_log_are_refused(data, expected):
    assert refused(data) == expected


def test_control_characters_later_in_the_file_are_refused_too():
    rows = [HEADER, *[wechat_row()] * 2000]
    data = csv_bytes(rows) + b"1,x,1,0,0,1764461700,2,\x00\x00,,,a,b\r\n"
    assert len(data) > CHUNK_BYTES

    assert refused(data) == ERROR_NOT_TEXT


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "这是 PDF 文件"),
        (csv_bytes([["群昵称", "微信号"], ["张三", "zs"]]), "第1行的表头是“群昵称、微信号”"),
        (csv_bytes([[], ["localId", "Type", "StrContent"], ["1", "1", "x"]]), "第2行的表头"),
        (xlsx_bytes([["时间", "内容"], ["2026-11-30 08:15", "x"]]), "第1行的表头是“时间、内容”"),
        (b"[\n", "第1行的表头是“[”"),
    ],
    ids=["pdf", "roster", "wechat without time", "template without sender", "json array"],
)
def test_an_unknown_header_is_refused_naming_the_three_formats(data, found):
    message = refused(data)

    assert message.startswith(f"无法识别的聊天记录格式：{found}")
    for format_name in ("微信电脑版导出工具", "企业微信会话存档", "本系统的模板"):
        assert format_name in message


def test_a_zip_bomb_is_refused():
    output = io.BytesIO()
    head = b'<row r="1"><c t="inlineStr"><is><t>Type</t></is></c></row>'
    write_hostile_xlsx(output, [head, b'<row r="2">' + b" " * 5_000_000 + b"</row>"])

    assert refused(output.getvalue()).startswith("Excel 文件解压后过大，疑似恶意文件，已拒绝。")


def test_a_zip_that_is_no_workbook_is_refused():
    import zipfile

    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    assert refused(output.getvalue()).startswith("无法识别的文件")


def test_a_line_without_end_is_refused_before_it_is_held_whole():
    data = b"localId,Type,CreateTime,StrContent\r\n1,1,1764461700," + b"x" * (3 * MAX_LINE_CHARS)

    tracemalloc.start()
    try:
        message = refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert message == f"第2行太长（超过 {MAX_LINE_CHARS} 个字符）：这不像聊天记录导出文件。"
    assert peak < len(data) // 2 + 1024 * 1024  # the test's own bytes, and a line at most


def test_a_record_spanning_lines_is_capped_as_one_record():
    # Each quoted cell is under csv's own cap (128 KB) and each line is short; together they
    # pass the cap on one record.
    cell = '"' + "一行\n" * 40_000 + '"'
    data = csv_bytes([HEADER]) + ",".join([cell] * 12).encode() + b"\r\n"

    message = refused(data)

    assert re.fullmatch(
        rf"第\d+行太长（超过 {MAX_LINE_CHARS} 个字符）：这不像聊天记录导出文件。", message
    )


def test_an_overlong_csv_cell_names_its_row():
    data = csv_bytes([HEADER, wechat_row(), wechat_row("x" * 200_000)])

    assert refused(data) == ERROR_BROKEN_CSV.format(row=3, limit=csv.field_size_limit())


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda rows: csv_bytes([HEADER, *rows]), id="csv"),
        pytest.param(lambda rows: xlsx_bytes([HEADER, *rows]), id="xlsx"),
        pytest.param(
            lambda rows: jsonl(*[wecom(text={"content": "x"})] * len(rows)), id="json lines"
        ),
    ],
)
def test_too_many_rows_are_refused(settings, make):
    settings.SCREENING_MAX_ROWS = 5

    assert len(read(make([wechat_row()] * 5))[1]) == 5
    assert refused(make([wechat_row()] * 6)) == ERROR_TOO_MANY_ROWS.format(limit=5)


def test_blank_rows_count_against_the_row_cap_past_an_allowance(settings):
    from common.spreadsheets.limits import BLANK_ROWS_ALLOWED

    settings.SCREENING_MAX_ROWS = 5
    rows = [HEADER, wechat_row(), *[[""] * 12] * (BLANK_ROWS_ALLOWED + 10), wechat_row()]

    assert refused(csv_bytes(rows)) == ERROR_TOO_MANY_ROWS.format(limit=5)


# --- streaming ----------------------------------------------------------------------------------
def test_a_long_csv_is_streamed_with_flat_memory(tmp_path):
    path = tmp_path / "chat.csv"
    lines = 200_000
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        file.write(",".join(HEADER) + "\r\n")
        for number in range(lines):
            file.write(
                f'{number},{ROOM},1,0,0,{MORNING + number},2,"第{number}条：今天的排产、品质、出货",'
                f",,员工{number % 300},wxid_{number % 300:05d}\r\n"
            )
    size = path.stat().st_size

    with path.open("rb") as file:
        tracemalloc.start()
        try:
            source_format, messages = read_chatlog(file)
            opened_at = file.tell()
            count = 0
            for message in messages:
                count += 1
                last = message
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert source_format == "wechat_pc"
    assert opened_at <= CHUNK_BYTES  # the format was told from the first chunk alone
    assert count == lines
    assert last.content == f"第{lines - 1}条：今天的排产、品质、出货"
    assert size > 15 * 1024 * 1024
    assert peak < 2 * 1024 * 1024  # a few chunks, never the file


def test_a_gbk_template_csv_is_read():
    data = csv_bytes(
        [TEMPLATE, ["2026-11-30 08:15", "张三", "zs", "链接", "看看 https://t.cn/x"]],
        encoding="gbk",
    )

    message = one(data)

    assert (message.sender_name, message.kind, message.content) == (
        "张三",
        "link",
        "看看 https://t.cn/x",
    )


def test_an_uploaded_file_is_read_as_django_gives_it():
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("导出.csv", csv_bytes([HEADER, wechat_row()]))

    source_format, messages = read_chatlog(upload, filename=upload.name)

    assert (source_format, list(messages)) == ("wechat_pc", [EXPECTED])


def test_an_xlsx_wechat_export_reads_each_kind_and_number_cells():
    rows = [
        HEADER,
        wechat_row("早", type_=1),
        wechat_row("<msg><img/></msg>", type_=3),
        wechat_row(LINK_XML, type_=49, subtype=5),
        wechat_row('"张三"邀请"李四"加入了群聊', type_=10000, sender="", nickname=""),
    ]

    _, messages = read(xlsx_bytes(rows))

    assert [(m.row, m.kind, m.content) for m in messages] == [
        (2, "text", "早"),
        (3, "image", ""),
        (4, "link", "年终奖内部消息 https://t.cn/A6abcd"),
        (5, "system", '"张三"邀请"李四"加入了群聊'),
    ]
