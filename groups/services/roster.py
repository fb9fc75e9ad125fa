"""Storing what HR captured from WeChat: a roster snapshot (§5.1, §5.3).

A snapshot is the group's member list at one moment. It is written once, in one
transaction, and never changed (RosterSnapshot.save refuses updates of the
captured data); reconciliation only fills in the matches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from common.actors import Actor, actor_user
from common.exceptions import ServiceError
from common.spreadsheets.cells import cell_text
from common.spreadsheets.headers import map_headers
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import read_table
from groups.models import BULK_BATCH, ChatGroup, RosterMember, RosterSnapshot
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
}
REQUIRED_COLUMNS = ["display_name"]

ERROR_NO_MEMBERS = "文件中没有任何成员（群昵称列全为空）。"
ERROR_TOO_MANY_MEMBERS = "文件有 {rows} 行成员，超过上限 {limit} 行；请确认是一个群的成员名单。"
ERROR_TAKEN_IN_FUTURE = "采集时间不能晚于现在。"
ERROR_VALUE_TOO_LONG = "第{row}行「{column}」超过 {limit} 个字符。"


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


def parse_roster(data: bytes, *, filename: str = "") -> list[RosterRow]:
    """Read a WeChat member list (xlsx or csv, UTF-8/BOM/GBK) into rows.

    Blank lines are skipped; whitespace and full-width letters are normalised,
    emoji kept. Raises RosterImportError with every problem found.
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
    }
    rows, errors = [], []
    for row_number, cells in table.rows:
        values = {}
        for key, index in columns.items():
            # Full-width forms (－, （, ｌｉｎａ) folded, runs of spaces collapsed, emoji kept.
            values[key] = normalize_display_name(
                cell_text(cells[index] if index < len(cells) else None)
            )
        if not values.get("display_name"):
            continue  # a blank line, or a line with only a remark
        for key, value in values.items():
            limit, header = limits[key]
            if len(value) > limit:
                errors.append(
                    ERROR_VALUE_TOO_LONG.format(row=row_number, column=header, limit=limit)
                )
        rows.append(RosterRow(row_number=row_number, **values))
    if errors:
        raise RosterImportError(errors)
    if not rows:
        raise RosterImportError([ERROR_NO_MEMBERS])
    return rows


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
