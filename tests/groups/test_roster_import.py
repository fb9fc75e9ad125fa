"""Capturing a WeChat member list: file formats, normalisation, refusals, immutability."""

from __future__ import annotations

import io
import json
import re
from io import StringIO

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from common.actors import ERROR_NO_ACTOR
from common.spreadsheets.limits import ERROR_TOO_MANY_ROWS
from groups.models import Finding, ReconciliationRun, RosterMember, RosterSnapshot
from groups.models.roster import ERROR_SNAPSHOT_IMMUTABLE
from groups.services import reconcile_start
from groups.services.roster import (
    ERROR_NO_MEMBERS,
    RosterImportError,
    parse_roster,
    roster_snapshot_import,
)
from tests.groups.conftest import SYSTEM, capture, compliant_rows

pytestmark = pytest.mark.django_db


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_blank_lines_full_width_and_emoji():
    data = xlsx(
        [
            ["群昵称", "微信号", "备注"],
            ["  销售部-李娜 ", "ｌｉｎａ８８", None],
            [None, None, None],
            ["快递小哥🚚", None, "外卖"],
        ]
    )
    rows = parse_roster(data, filename="群成员.xlsx")
    assert [(r.row_number, r.display_name, r.wechat_id, r.remark) for r in rows] == [
        (2, "销售部-李娜", "lina88", ""),
        (4, "快递小哥🚚", "", "外卖"),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_chinese_excel_saves(encoding):
    text = "群昵称,微信号,备注\n人力资源部-赵敏,zm01,\n一车间－张伟,,车间\n"
    rows = parse_roster(text.encode(encoding))
    assert [r.display_name for r in rows] == ["人力资源部-赵敏", "一车间-张伟"]
    assert rows[0].wechat_id == "zm01"


def test_english_headers_are_accepted():
    rows = parse_roster(b"Display Name,WeChat ID\nTom,tom1\n")
    assert rows[0].display_name == "Tom"
    assert rows[0].wechat_id == "tom1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01\x02binary\xff\xfe", "无法识别"),
        (b"%PDF-1.4 not a sheet", "无法识别"),
        (b"", "空"),
        ("微信号,备注\nabc,\n".encode(), "群昵称"),
        ("群昵称,微信号\n,abc\n".encode(), ERROR_NO_MEMBERS),
    ],
    ids=["binary", "pdf", "empty", "no-display-name-column", "no-members"],
)
def test_bad_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(RosterImportError, match=re.escape(message)) as exc:
        parse_roster(data)
    assert message in str(exc.value)


def test_too_many_rows_is_refused(settings):
    settings.MAX_ROSTER_ROWS = 3
    data = ("群昵称\n" + "".join(f"成员{i}\n" for i in range(4))).encode()
    with pytest.raises(RosterImportError, match=ERROR_TOO_MANY_ROWS.format(limit=3)):
        parse_roster(data)


def test_oversized_file_is_refused_and_nothing_stored(company, settings):
    settings.MAX_UPLOAD_BYTES = 100
    data = ("群昵称\n" + "".join(f"成员{i}\n" for i in range(50))).encode()
    with pytest.raises(RosterImportError, match="上限"):
        roster_snapshot_import(group=company.office, data=data, filename="big.csv", actor=SYSTEM)
    assert not RosterSnapshot.objects.exists()


def test_too_long_display_name_names_row_and_column(company):
    data = ("群昵称\n好\n" + "长" * 200 + "\n").encode()
    too_long = "第3行「群昵称」超过 128 个字符。"
    with pytest.raises(RosterImportError, match=re.escape(too_long)) as exc:
        roster_snapshot_import(group=company.office, data=data, actor=SYSTEM)
    assert exc.value.errors == [too_long]
    assert not RosterMember.objects.exists()


def test_snapshot_is_immutable_once_stored(company):
    snapshot = roster_snapshot_import(
        group=company.office, data="群昵称\n赵敏\n".encode(), actor=SYSTEM
    )
    assert snapshot.source_file.read() == "群昵称\n赵敏\n".encode()
    with pytest.raises(ValidationError, match=ERROR_SNAPSHOT_IMMUTABLE):
        snapshot.save()
    member = snapshot.members.get()
    member.display_name = "改过"
    with pytest.raises(ValidationError, match=ERROR_SNAPSHOT_IMMUTABLE):
        member.save()


def _write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_import_roster_command_stores_and_reconciles(company, tmp_path):
    text = "群昵称,微信号\n" + "\n".join(compliant_rows()) + "\n快递小哥,\n"
    out = StringIO()
    call_command(
        "import_roster",
        "--group",
        "office",
        _write(tmp_path, "office.csv", text.encode("gbk")),
        "--taken-at",
        "2026-11-20T09:30",
        stdout=out,
    )
    snapshot = RosterSnapshot.objects.get()
    assert snapshot.member_count == 6
    assert snapshot.taken_at.isoformat() == "2026-11-20T01:30:00+00:00"  # Asia/Shanghai
    assert Finding.objects.get(status="open").kind == Finding.Kind.STRANGER
    assert "核对完成" in out.getvalue()


def test_import_roster_command_records_its_run_like_the_admin_upload(company, tmp_path):
    text = "群昵称\n" + "\n".join(compliant_rows()) + "\n快递小哥\n"
    call_command(
        "import_roster",
        "--group",
        "office",
        _write(tmp_path, "o.csv", text.encode()),
        stdout=StringIO(),
    )

    run = ReconciliationRun.objects.get()
    assert run.snapshot == RosterSnapshot.objects.get()
    assert run.status == ReconciliationRun.Status.DONE
    assert run.started_by is None  # the system (SystemActor), shown as 系统
    assert run.summary["opened"] == 1


def test_import_roster_command_refuses_bad_file_and_stores_nothing(company, tmp_path):
    with pytest.raises(CommandError, match="群昵称"):
        call_command("import_roster", "--group", "office", _write(tmp_path, "x.csv", b"name2\nx\n"))
    with pytest.raises(CommandError, match="没有代码为 nope"):
        call_command("import_roster", "--group", "nope", _write(tmp_path, "y.csv", b"x"))
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command(
            "import_roster",
            "--group",
            "office",
            _write(tmp_path, "z.csv", "群昵称\n赵敏\n".encode()),
            "--taken-at",
            "yesterday",
        )
    assert not RosterSnapshot.objects.exists()


def test_reconcile_command_json(company, tmp_path):
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"] + ["快递小哥", "陈静"]
    roster_snapshot_import(
        group=company.office, data=("群昵称\n" + "\n".join(rows)).encode(), actor=SYSTEM
    )
    out = StringIO()
    call_command("reconcile", "--group", "office", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert [r["group"] for r in report["runs"]] == ["office"]
    assert report["runs"][0]["snapshot"] == RosterSnapshot.objects.get().pk
    findings = sorted(
        (f["kind"], f["clause"], f["action"], f["display_name"], f["employee_no"])
        for f in report["runs"][0]["findings"]
    )
    assert findings == [
        ("departed", "5.3.c", "remove", "陈静", "JM006"),
        ("missing", "5.1", "add", "", "JM005"),
        ("stranger", "5.3.c", "remove", "快递小哥", None),
    ]


def test_reconcile_command_text_and_unknown_group(company):
    roster_snapshot_import(group=company.office, data="群昵称\n快递小哥\n".encode(), actor=SYSTEM)
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "办公群" in out.getvalue()
    with pytest.raises(CommandError, match="没有代码为"):
        call_command("reconcile", "--group", "nope")


def test_a_run_without_an_actor_is_refused_never_recorded_as_nobody(company):
    snapshot = capture(company.office, *compliant_rows())

    with pytest.raises(TypeError, match=re.escape(ERROR_NO_ACTOR)):
        reconcile_start(snapshot=snapshot, actor=None)
    assert not ReconciliationRun.objects.exists()
