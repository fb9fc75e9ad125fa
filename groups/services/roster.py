"""Storing what HR captured from WeChat: a roster snapshot (§5.1, §5.3).

A snapshot is the group's member list at one moment. It is written once, in one
transaction, and never changed (RosterSnapshot.save refuses updates of the
captured data); reconciliation only fills in the matches.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_user
from common.exceptions import ServiceError
from common.spreadsheets.cells import Cell, cell_text
from common.spreadsheets.headers import header_key, map_headers
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import read_table
from groups.models import BULK_BATCH, ChatGroup, JoinMethod, RosterMember, RosterSnapshot
from groups.naming import normalize_display_name

ROSTER_COLUMNS = {
    # canonical: (Chinese header first, then aliases); only the display name is required.
    "display_name": [
        "群昵称",
        "昵称",
        "群名片",
        "display_name",
        "display name",
        "nickname",
        "name",
    ],
    "wechat_id": ["微信号", "wechat_id", "wechat id", "wechat", "wxid"],
    "remark": ["备注", "remark", "note", "notes"],
    # Provenance, optional (§5.3.a: do not invite unrelated people): who invited the member,
    # when and how, as WeCom's member export records them.
    "inviter": ["邀请人", "邀请者", "邀请人昵称", "inviter", "invited by", "invited_by"],
    "joined_at": ["入群时间", "加入时间", "进群时间", "joined_at", "joined at", "join time"],
    "join_method": ["入群方式", "加入方式", "进群方式", "join_method", "join method", "joined by"],
}
REQUIRED_COLUMNS = ["display_name"]
# The columns read as plain text; 入群时间 and 入群方式 are parsed (parse_joined_at, ...).
TEXT_COLUMNS = ("display_name", "wechat_id", "remark", "inviter")

# 入群方式 as people write it (header_key: case, spaces, _ and - ignored).
JOIN_METHODS = {
    header_key(text): method
    for method, texts in {
        JoinMethod.INVITE: [
            "邀请",
            "直接邀请",
            "邀请入群",
            "成员邀请",
            "invite",
            "invited",
            "invitation",
        ],
        JoinMethod.LINK: [
            "链接",
            "邀请链接",
            "链接入群",
            "通过链接",
            "分享链接",
            "link",
            "invite link",
        ],
        JoinMethod.QR_CODE: [
            "二维码",
            "扫码",
            "扫描二维码",
            "扫码入群",
            "扫描二维码入群",
            "群二维码",
            "qr",
            "qr code",
            "qrcode",
            "qr_code",
            "scan",
        ],
    }.items()
    for text in texts
}
# Naive times in the file are the company's (WeCom exports local time): §5.3.a evidence.
ROSTER_TIME_ZONE = ZoneInfo("Asia/Shanghai")
_JOINED_AT_PATTERNS = (
    re.compile(
        r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
    ),
    re.compile(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日?(?: *(\d{1,2})[:：时](\d{2})分?(?:[:：](\d{2})秒?)?)?"
    ),
)

ERROR_NO_MEMBERS = "文件中没有任何成员（群昵称列全为空）。"
ERROR_TOO_MANY_MEMBERS = "文件有 {rows} 行成员，超过上限 {limit} 行；请确认是一个群的成员名单。"
ERROR_TAKEN_IN_FUTURE = "采集时间不能晚于现在。"
ERROR_VALUE_TOO_LONG = "第{row}行「{column}」超过 {limit} 个字符。"
ERROR_BAD_JOINED_AT = (
    "第{row}行「入群时间」无法识别“{value}”：请填写如 2024-03-01 08:00、2024/3/1 8:00、"
    "2024-03-01 或 2024年3月1日。"
)
ERROR_JOINED_IN_FUTURE = "第{row}行「入群时间」“{value}”晚于现在。"
ERROR_BAD_JOIN_METHOD = (
    "第{row}行「入群方式」无法识别“{value}”：请填写 邀请、链接 或 二维码（扫码）。"
)


class RosterImportError(ServiceError, ValueError):
    """The file is refused; ``errors`` are the messages, row and column named. (Also a
    ValueError, as it always was, for callers that catch one.)"""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class RosterRow:
    row_number: int
    display_name: str
    wechat_id: str = ""
    remark: str = ""
    inviter: str = ""
    joined_at: dt.datetime | None = None
    join_method: str = ""  # JoinMethod, or ""


def parse_joined_at(value: Cell) -> dt.datetime | None:
    """入群时间: an Excel date or datetime, or text such as 2024-03-01 08:00, 2024/3/1 8:00,
    2024-03-01, 2024年3月1日; a time without a zone is the company's (Asia/Shanghai).
    Blank gives None; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0))
    else:
        text = cell_text(value)
        for pattern in _JOINED_AT_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                year, month, day, hour, minute, second = (
                    int(part) if part else 0 for part in match.groups()
                )
                # Naive here, made aware below.
                moment = dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
                break
        else:
            raise ValueError(text)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ROSTER_TIME_ZONE)
    return moment


def parse_join_method(value: Cell) -> str:
    """入群方式: 邀请 / 链接 / 二维码 (扫码, 扫描二维码) or their English names; blank gives "".
    ValueError for anything else."""
    text = cell_text(value)
    if not text:
        return ""
    try:
        return JOIN_METHODS[header_key(text)]
    except KeyError:
        raise ValueError(text) from None


def parse_roster(data: bytes, *, filename: str = "") -> list[RosterRow]:
    """Read a WeChat member list (xlsx or csv, UTF-8/BOM/GBK) into rows.

    Blank lines are skipped; whitespace and full-width letters are normalised,
    emoji kept. The provenance columns (邀请人, 入群时间, 入群方式) are optional; a time or
    method that cannot be read is refused with its row and column. Raises RosterImportError
    with every problem found.
    """
    try:
        table = read_table(data, filename=filename, max_rows=settings.MAX_ROSTER_ROWS)
        columns = map_headers(table.headers, ROSTER_COLUMNS, required=REQUIRED_COLUMNS)
    except SpreadsheetError as exc:
        raise RosterImportError([str(exc)]) from exc
    limits = {  # CharFields: max_length is set
        "display_name": (
            cast(int, RosterMember._meta.get_field("display_name").max_length),
            "群昵称",
        ),
        "wechat_id": (cast(int, RosterMember._meta.get_field("wechat_id").max_length), "微信号"),
        "remark": (cast(int, RosterMember._meta.get_field("remark").max_length), "备注"),
        "inviter": (cast(int, RosterMember._meta.get_field("inviter").max_length), "邀请人"),
    }
    latest = timezone.now() + dt.timedelta(minutes=5)
    rows, errors = [], []
    for row_number, cells in table.rows:
        values: dict = {}
        raw = {key: cells[index] if index < len(cells) else None for key, index in columns.items()}
        for key in TEXT_COLUMNS:
            if key in raw:
                # Full-width forms (－, （, ｌｉｎａ) folded, runs of spaces collapsed, emoji kept.
                values[key] = normalize_display_name(cell_text(raw[key]))
        if not values.get("display_name"):
            continue  # a blank line, or a line with only a remark
        for key, value in values.items():
            limit, header = limits[key]
            if len(value) > limit:
                errors.append(
                    ERROR_VALUE_TOO_LONG.format(row=row_number, column=header, limit=limit)
                )
        values |= _provenance(raw, row_number, errors, latest=latest)
        rows.append(RosterRow(row_number=row_number, **values))
    if errors:
        raise RosterImportError(errors)
    if not rows:
        raise RosterImportError([ERROR_NO_MEMBERS])
    return rows


def _provenance(
    raw: dict[str, Cell], row_number: int, errors: list[str], *, latest: dt.datetime
) -> dict:
    """入群时间 and 入群方式 of one row, when the file has the columns; problems go to
    ``errors`` with the row and column named."""
    values: dict = {}
    if "joined_at" in raw:
        text = cell_text(raw["joined_at"])
        try:
            values["joined_at"] = joined_at = parse_joined_at(raw["joined_at"])
        except ValueError:
            errors.append(ERROR_BAD_JOINED_AT.format(row=row_number, value=text))
        else:
            if joined_at and joined_at > latest:
                errors.append(ERROR_JOINED_IN_FUTURE.format(row=row_number, value=text))
    if "join_method" in raw:
        try:
            values["join_method"] = parse_join_method(raw["join_method"])
        except ValueError:
            errors.append(
                ERROR_BAD_JOIN_METHOD.format(row=row_number, value=cell_text(raw["join_method"]))
            )
    return values


@transaction.atomic
def roster_snapshot_create(
    *,
    group: ChatGroup,
    rows: list[RosterRow],
    taken_at: dt.datetime | None = None,
    actor: Actor,
    file_name: str = "",
    file_data: bytes | None = None,
) -> RosterSnapshot:
    """Store a snapshot and its members in one transaction; returns the snapshot."""
    taken_at = taken_at or timezone.now()
    if taken_at > timezone.now() + dt.timedelta(minutes=5):
        raise RosterImportError([ERROR_TAKEN_IN_FUTURE])
    if len(rows) > settings.MAX_ROSTER_ROWS:
        raise RosterImportError(
            [ERROR_TOO_MANY_MEMBERS.format(rows=len(rows), limit=settings.MAX_ROSTER_ROWS)]
        )
    if not rows:
        raise RosterImportError([ERROR_NO_MEMBERS])
    snapshot = RosterSnapshot(
        group=group,
        taken_at=taken_at,
        uploaded_by=actor_user(actor),  # the system (a command, the demo): no one
        file_name=file_name[:255],
        member_count=len(rows),
    )
    snapshot.full_clean(exclude=["source_file"])
    if file_data is not None:
        # Kept as evidence of what was uploaded, under the private MEDIA_ROOT.
        snapshot.source_file.save(file_name or "roster", ContentFile(file_data), save=False)
    snapshot.save()
    RosterMember.objects.bulk_create(
        [
            RosterMember(
                snapshot=snapshot,
                row_number=row.row_number,
                display_name=row.display_name,
                wechat_id=row.wechat_id,
                remark=row.remark,
                inviter=row.inviter,
                joined_at=row.joined_at,
                join_method=row.join_method,
            )
            for row in rows
        ],
        batch_size=BULK_BATCH,
    )
    return snapshot


def roster_snapshot_import(
    *,
    group: ChatGroup,
    data: bytes,
    filename: str = "",
    taken_at: dt.datetime | None = None,
    actor: Actor,
) -> RosterSnapshot:
    """Parse an uploaded member list and store it as a snapshot (nothing stored on error)."""
    rows = parse_roster(data, filename=filename)
    return roster_snapshot_create(
        group=group, rows=rows, taken_at=taken_at, actor=actor, file_name=filename, file_data=data
    )
