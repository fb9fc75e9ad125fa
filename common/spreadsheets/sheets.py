"""Sheets of a workbook written for download, row by row: bounded memory, never a formula.

``write_sheet`` appends one sheet to an openpyxl write-only workbook from any iterable of
rows, so that a caller streams its rows from a chunked query and the workbook goes to a
temporary file that ``common.downloads.file_response`` serves in chunks: a list of 100,000
rows costs what one of 1,000 does. What each cell becomes:

- text: escaped (``escape_formula``: a leading ``'`` for ``= + - @``, tab, CR, NUL, also
  behind invisible characters; docs/security.md, 8), control characters openpyxl refuses
  replaced, an error code such as ``#N/A`` kept as text — never a formula, never an error;
- numbers (``Decimal`` included) stay numbers, in the column's number format;
- dates and times as Excel dates, shown as people read them here (2026年11月24日); an
  aware time in the company's zone (openpyxl refuses time zones);
- ``True``/``False`` as 是/否, ``None`` and "" as an empty cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.cell.rich_text import CellRichText
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from common.spreadsheets.cells import escape_formula

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
POINTS_FORMAT = "0.00"
PERCENT_FORMAT = "0.0%"
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, width (Excel's character widths: a Chinese
    character takes two) and the number format of its numbers or dates (None: text or a
    plain count)."""

    header: str
    width: int = 14
    number_format: str | None = None


def xlsx_text(value: str) -> str | CellRichText | None:
    """Text as a cell: never a formula, never an error value, never refused by openpyxl."""
    if not value:
        return None
    value = escape_formula(value)
    if ILLEGAL_CHARACTERS_RE.search(value):  # control characters openpyxl raises on
        value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    if value in ERROR_CODES:  # openpyxl writes a plain "#N/A" as an error value, not as text
        return CellRichText(value)
    return value


def xlsx_value(value: object) -> object:
    """Any value a column gives, as openpyxl writes it (see the module docstring)."""
    if isinstance(value, bool):
        return YES if value else NO
    if value is None or isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        return xlsx_text(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    return xlsx_text(str(value))


def write_sheet(
    workbook: openpyxl.Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    *,
    ready: bool = False,
) -> int:
    """Append a sheet to a write-only ``workbook``: a bold, frozen, filterable header, then
    ``rows`` as they come (each written at once, never held); return the rows written.

    ``ready``: the rows' values are cells already (text through ``xlsx_text``, numbers,
    dates, None) and are written as they are — the appraisal workbook's 100,000 lines, where a
    conversion per value would cost time the export was tuned for (docs/performance.md).

    A formatted column has one styled cell that every row reuses (openpyxl writes an
    appended row at once): a styled cell made per value cost the appraisal export 30 %
    (docs/performance.md)."""
    sheet = workbook.create_sheet(title[:31])
    # Views and column widths are written before the first row: set them first.
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, xlsx_text(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formatted = []
    for index, column in enumerate(columns):
        if column.number_format:
            cell = WriteOnlyCell(sheet)
            cell.number_format = column.number_format
            formatted.append((index, cell))
    count = 0
    for row in rows:
        values = list(row) if ready else [xlsx_value(value) for value in row]
        for index, cell in formatted:
            if values[index] is not None and not isinstance(values[index], str):
                cell.value = values[index]
                values[index] = cell
        sheet.append(values)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{count + 1}"
    return count
