"""Uploaded bytes (xlsx or CSV) into a ``Table`` of headers and rows, or a refusal.

HR, managers and group creators upload sheets that Excel, WPS or LibreOffice saved —
sometimes renamed, sometimes hostile. ``read_table()`` is the one reader of every upload door
and command: a size limit; the kind of file told from its content, never from its name; xlsx
read by ``xlsx.py`` and CSV here, both under the caps of ``limits.py``; blank rows left out
and row numbers kept as Excel shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, cast

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from openpyxl.utils import get_column_letter

from common.spreadsheets import limits
from common.spreadsheets.cells import Cell, cell_text, clean_cell
from common.spreadsheets.limits import (
    ERROR_BLANK_HEADER,
    ERROR_BROKEN_CSV,
    ERROR_EMPTY_FILE,
    ERROR_NO_DATA,
    ERROR_NO_HEADER,
    ERROR_NOT_A_SPREADSHEET,
    ERROR_OLD_EXCEL,
    ERROR_SHEET_TOO_LONG,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY_CELLS,
    ERROR_TOO_MANY_COLUMNS,
    ERROR_TOO_MANY_ROWS,
    ERROR_TOO_MANY_ROWS_READ,
    ERROR_TOO_MUCH_TEXT,
    ERROR_UNKNOWN_ENCODING,
    OLE2_MAGIC,
    PDF_MAGIC,
    XLSX_MAGIC,
    SpreadsheetError,
)
from common.spreadsheets.xlsx import xlsx_rows

logger = logging.getLogger(__name__)

# Bytes that never occur in text in UTF-8 or GB18030 (Ctrl-Z, which old tools append, is allowed).
# Public: a streaming reader of text files refuses binary files by the same test.
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")
BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")
CSV_DELIMITERS = (",", "\t", ";")  # the Chinese comma "，" is text, never a delimiter
# What clean_cell() returns unchanged (bool, a subclass of int, goes through it).
_PLAIN_NUMBERS = (int, float)


class Row(NamedTuple):
    number: int  # the row number Excel shows
    values: list[Cell]


@dataclass
class Table:
    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    header_row: int = 1


def check_size(size: int, *, max_bytes: int | None = None) -> None:
    """Refuse an upload over the limit (Django's upload settings do not)."""
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if size > limit:
        raise SpreadsheetError(
            ERROR_TOO_LARGE.format(size=filesizeformat(size), limit=filesizeformat(limit))
        )


def read_upload_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> bytes:
    """A file named on the command line, its size checked before a byte is read
    (docs/security.md, 2: import_roster read a 200 MB file before refusing it). Raises OSError or
    SpreadsheetError."""
    with open(path, "rb") as file:
        check_size(os.fstat(file.fileno()).st_size, max_bytes=max_bytes)
        limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
        data = file.read(limit + 1)  # a file that grew since fstat is still capped
    check_size(len(data), max_bytes=max_bytes)
    return data


def read_table(
    data: bytes,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_rows: int | None = None,
    max_cells: int | None = None,
) -> Table:
    """Read the first sheet of an xlsx, or a CSV, into a Table; refuse anything else.

    The one reader of every upload door and command (docs/security.md, 2). Blank rows are left
    out of the table and row numbers are the ones Excel shows; but every row read, blank or
    not, counts against ``max_rows`` + ``limits.BLANK_ROWS_ALLOWED``, every cell against ``max_cells``,
    and reading stops at the first cap. ``filename`` is only for the log: the kind of file is
    told from its content, since users rename files.
    """
    row_limit = settings.MAX_IMPORT_ROWS if max_rows is None else max_rows
    rows_read = row_limit + limits.BLANK_ROWS_ALLOWED
    if max_cells is None:
        max_cells = min(limits.MAX_CELLS, rows_read * limits.CELLS_PER_ROW)
    caps = {"max_rows_read": rows_read, "max_cells": max_cells}
    try:
        check_size(len(data), max_bytes=max_bytes)
        if not data:
            raise SpreadsheetError(ERROR_EMPTY_FILE)
        if data.startswith(XLSX_MAGIC):
            raw_rows = xlsx_rows(data, **caps)
        elif data.startswith(OLE2_MAGIC):
            raise SpreadsheetError(ERROR_OLD_EXCEL)
        elif data.startswith(PDF_MAGIC):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        else:
            raw_rows = _csv_rows(data, **caps)
        return _build_table(raw_rows, max_rows=row_limit)
    except SpreadsheetError as error:
        logger.info("Refused uploaded table %r: %s", filename, error)
        raise


def _decode_csv(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text"
    elif data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        if BINARY_BYTES.search(data):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        # Chinese Excel saves "CSV (逗号分隔)" in GBK; GB18030 is its superset.
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if BINARY_CHARS.search(text):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        return text
    raise SpreadsheetError(ERROR_UNKNOWN_ENCODING)


def _sniff_delimiter(text: str) -> str:
    """The delimiter used most in the header line; a comma when there is none."""
    # Line by line, not text.splitlines(): a 10 MB file of blank lines made a list of a
    # million strings (+80 MB peak).
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(
    data: bytes, *, max_rows_read: int, max_cells: int
) -> Iterator[tuple[int, Sequence[object]]]:
    text = _decode_csv(data)
    delimiter = _sniff_delimiter(text)  # first, so that its buffer is freed before the next
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells = 0
    try:
        for number, values in enumerate(reader, start=1):
            # Every line read counts, blank or not (as for xlsx).
            if number > max_rows_read:
                raise SpreadsheetError(ERROR_TOO_MANY_ROWS_READ.format(limit=max_rows_read))
            cells += len(values)
            if cells > max_cells:
                raise SpreadsheetError(ERROR_TOO_MANY_CELLS.format(limit=max_cells))
            yield number, [value or None for value in values[: limits.MAX_COLUMNS + 1]]
    except csv.Error as error:
        raise SpreadsheetError(ERROR_BROKEN_CSV) from error


def _content_width(values: Sequence[object]) -> int:
    for index in range(len(values) - 1, -1, -1):
        if values[index] is not None:
            return index + 1
    return 0


def _build_table(raw_rows: Iterable[tuple[int, Sequence[object]]], *, max_rows: int) -> Table:
    table: Table | None = None
    width = 0
    text_chars = 0
    for number, raw in raw_rows:
        if number > limits.EXCEL_MAX_ROWS:
            raise SpreadsheetError(ERROR_SHEET_TOO_LONG)
        # Fast path for the common cases (blank rows, nothing right of the table) before
        # touching cells one by one.
        if raw.count(None) == len(raw):
            continue
        if len(raw) > width and raw[width:].count(None) != len(raw) - width:
            width = _content_width(raw)
            if width > limits.MAX_COLUMNS:
                raise SpreadsheetError(ERROR_TOO_MANY_COLUMNS.format(limit=limits.MAX_COLUMNS))
        # Numbers and blanks as they are, without a call per cell (a third of the time).
        values = cast(
            "list[Cell]",  # None, int and float are Cells
            [
                value if value is None or type(value) in _PLAIN_NUMBERS else clean_cell(value)
                for value in raw[:width]
            ],
        )
        if values.count(None) == len(values):
            continue  # only spaces
        text_chars += sum([len(value) for value in values if isinstance(value, str)])
        if text_chars > limits.MAX_TEXT_CHARS:
            raise SpreadsheetError(ERROR_TOO_MUCH_TEXT)
        if table is None:
            table = Table(headers=[cell_text(value) for value in values], header_row=number)
            continue
        if len(table.rows) >= max_rows:
            raise SpreadsheetError(ERROR_TOO_MANY_ROWS.format(limit=max_rows))
        table.rows.append(Row(number, values))
    if table is None:
        raise SpreadsheetError(ERROR_NO_HEADER)
    if not table.rows:
        raise SpreadsheetError(ERROR_NO_DATA)
    _square(table, width)
    return table


def _square(table: Table, width: int) -> None:
    """Every row as wide as the widest one; then the columns empty from header to bottom
    dropped, and data under a blank header refused."""
    table.headers += [""] * (width - len(table.headers))
    for row in table.rows:
        row.values.extend([None] * (width - len(row.values)))
    while (
        width
        and not table.headers[width - 1]
        and all(r.values[width - 1] is None for r in table.rows)
    ):
        width -= 1
        table.headers.pop()
        for row in table.rows:
            row.values.pop()
    for index, header in enumerate(table.headers):
        if not header and any(row.values[index] is not None for row in table.rows):
            raise SpreadsheetError(ERROR_BLANK_HEADER.format(letter=get_column_letter(index + 1)))
