"""A file's header row matched to the columns an importer knows, by name and alias."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from openpyxl.utils import get_column_letter

from common.spreadsheets.cells import normalize_text
from common.spreadsheets.limits import SpreadsheetError

ERROR_MISSING_COLUMNS = "缺少必填的列：{columns}。"
ERROR_UNKNOWN_COLUMNS = "无法识别的列：{columns}。可用的列：{known}。"
ERROR_DUPLICATE_COLUMN = "「{column}」列出现了不止一次（{letters} 列）。"


def header_key(text: str) -> str:
    """What makes two headers the same column: case, spaces, _ - * and full width ignored."""
    return re.sub(r"[\s_\-*:：]+", "", normalize_text(text)).casefold()


def map_headers(
    headers: Sequence[str],
    columns: Mapping[str, Sequence[str]],
    *,
    required: Collection[str] = (),
    ignore_unknown: bool = False,
) -> dict[str, int]:
    """Map a file's headers to canonical columns: ``{canonical: index in headers}``.

    ``columns`` maps each canonical name to its aliases, the Chinese header first: that one
    names the column in messages. The canonical name itself is accepted too. Every problem
    (missing required columns, unknown or repeated ones) is reported in one SpreadsheetError.
    """
    lookup: dict[str, str] = {}
    for canonical, aliases in columns.items():
        for alias in (*aliases, canonical):
            lookup.setdefault(header_key(alias), canonical)
    display = {canonical: (aliases or [canonical])[0] for canonical, aliases in columns.items()}
    found: dict[str, list[int]] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        if not header:
            continue  # an empty column (read_table refuses a nameless one with data)
        known = lookup.get(header_key(header))
        if known is None:
            unknown.append(header)
        else:
            found.setdefault(known, []).append(index)
    problems = []
    missing = [display[name] for name in columns if name in required and name not in found]
    if missing:
        problems.append(ERROR_MISSING_COLUMNS.format(columns="、".join(missing)))
    for canonical, indexes in found.items():
        if len(indexes) > 1:
            letters = "、".join(get_column_letter(index + 1) for index in indexes)
            problems.append(
                ERROR_DUPLICATE_COLUMN.format(column=display[canonical], letters=letters)
            )
    if unknown and not ignore_unknown:
        problems.append(
            ERROR_UNKNOWN_COLUMNS.format(
                columns="、".join(f"「{header}」" for header in unknown),
                known="、".join(display.values()),
            )
        )
    if problems:
        raise SpreadsheetError(" ".join(problems))
    return {canonical: indexes[0] for canonical, indexes in found.items()}
