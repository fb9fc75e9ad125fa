"""Uploaded tables (xlsx or CSV) read safely, and tables written back for download.

HR, managers and group creators upload sheets that Excel, WPS or LibreOffice saved — sometimes
renamed, sometimes hostile. ``read_table()`` turns the bytes into a ``Table`` of headers and rows
of plain values, or refuses with a ``SpreadsheetError`` whose message a clerk can act on. The
checks follow PITFALLS.md, "Hostile spreadsheets": a size limit; the kind of file told from its
content, never from its name; the zip directory checked for bombs before openpyxl parses
anything; and rows, columns and text capped while streaming, since declared sizes can be forged.
The last section adapts all this to django-import-export, so that the admin's import reads
through here too.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import openpyxl
import tablib
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from import_export.formats.base_formats import TablibFormat
from import_export.forms import ImportForm
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.xml import DEFUSEDXML

logger = logging.getLogger(__name__)

Cell = str | int | float | date | None  # datetime is a date; bool is an int

ERROR_TOO_LARGE = "文件太大（{size}）：上限为 {limit}。"
ERROR_EMPTY_FILE = "文件是空的。"
ERROR_NOT_A_SPREADSHEET = "无法识别的文件：请上传 Excel 工作簿（.xlsx）或 CSV 文件。"
ERROR_OLD_EXCEL = (
    "这是旧版 Excel（.xls）或设了密码的文件：请在 Excel 中“另存为”.xlsx（不设密码）后再上传。"
)
ERROR_BROKEN_XLSX = "Excel 文件已损坏，无法读取：请在 Excel 中打开，重新“另存为”.xlsx 后再上传。"
ERROR_ZIP_BOMB = "Excel 文件解压后过大，疑似恶意文件，已拒绝。"
ERROR_BROKEN_CSV = (
    "CSV 文件格式有误，无法读取：请在 Excel 中打开，重新另存为 .xlsx 或 CSV 后再上传。"
)
ERROR_UNKNOWN_ENCODING = "无法识别 CSV 文件的编码：请另存为“CSV UTF-8”或“CSV（逗号分隔）”后再上传。"
ERROR_TOO_MANY_ROWS = "数据行太多：一个文件最多 {limit} 行，请分成几个文件导入。"
ERROR_SHEET_TOO_LONG = "表格超过了 Excel 的最大行数，无法读取。"
ERROR_TOO_MANY_COLUMNS = "列太多：最多 {limit} 列。"
ERROR_TOO_MUCH_TEXT = "文件中的文字太多，超出了可读取的上限。"
ERROR_NO_HEADER = "文件中没有内容：第一行应是表头（列名）。"
ERROR_NO_DATA = "文件只有表头，没有数据行。"
ERROR_BLANK_HEADER = "{letter} 列有数据但没有列名：请补上列名，或删除这一列。"
ERROR_MISSING_COLUMNS = "缺少必填的列：{columns}。"
ERROR_UNKNOWN_COLUMNS = "无法识别的列：{columns}。可用的列：{known}。"
ERROR_DUPLICATE_COLUMN = "「{column}」列出现了不止一次（{letters} 列）。"
ERROR_BAD_DATE = "无法识别的日期“{value}”：请填写如 2024-03-01、2024/3/1 或 2024年3月1日。"
ERROR_BAD_YES_NO = "无法识别“{value}”：请填“是”或“否”（也可填 Y/N、1/0、true/false），或留空。"

XLSX_MAGIC = b"PK\x03\x04"
# Compound-document files: .xls (Excel 97-2003), .et (WPS), and any password-protected .xlsx.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_MAGIC = b"%PDF-"

# Excel's own limit: a longer sheet was not made by a person (gaps can be forged to be huge).
EXCEL_MAX_ROWS = 1_048_576
MAX_COLUMNS = 200  # far wider than any table we exchange; bounds the work per row
# Zip-bomb limits, checked on the zip directory before parsing. A 50,000-row employee sheet is
# ~28 MB of XML compressed ~10:1 (measured); a bomb compresses hundreds to thousands to one.
XLSX_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
XLSX_MAX_COMPRESSION_RATIO = 100
XLSX_RATIO_MIN_BYTES = 1024 * 1024  # small parts compress as they like
XLSX_MAX_MEMBERS = 10_000
# Text kept from one sheet: shared strings let a small file repeat one long text in every cell.
MAX_TEXT_CHARS = 32 * 1024 * 1024

# Bytes that never occur in text in UTF-8 or GB18030 (Ctrl-Z, which old tools append, is allowed).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")
CSV_DELIMITERS = (",", "\t", ";")  # the Chinese comma "，" is text, never a delimiter

# Full-width letters, digits and spaces as typed with a Chinese input method, to their ASCII
# forms (their NFKC forms); CJK text, Chinese punctuation and emoji (with their joiners and
# variation selectors) stay as they are.
_HALF_WIDTH = {
    code: unicodedata.normalize("NFKC", chr(code))
    for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_HALF_WIDTH |= {0x3000: " ", 0x00A0: " ", 0x200B: None, 0xFEFF: None}

# OWASP "CSV injection": a cell starting with one of these may run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")

_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
)
_YES = {"是", "y", "yes", "true", "1"}
_NO = {"否", "n", "no", "false", "0"}


class SpreadsheetError(ValueError):
    """The upload cannot be read as a table; the message says why, in words a clerk acts on."""


class Row(NamedTuple):
    number: int  # the row number Excel shows
    values: list[Cell]


@dataclass
class Table:
    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    header_row: int = 1


# ------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------
def normalize_text(value: str) -> str:
    """Trim, and turn full-width letters, digits and spaces into ASCII ('ＡＢ１２' -> 'AB12')."""
    return value.translate(_HALF_WIDTH).strip()


def cell_text(value: Cell) -> str:
    """A cell as text: 1001 and 1001.0 give '1001' (Excel stores 工号 and phones as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return normalize_text(str(value))


def escape_formula(value: str) -> str:
    """Prefix ' to text a spreadsheet would run as a formula (OWASP; see PITFALLS.md)."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def unescape_formula(value: str) -> str:
    """Undo escape_formula(), so that an exported sheet imports back unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS) else value


def parse_date_cell(value: Cell) -> date | None:
    """A real Excel date, or text such as 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:  # 2024-02-30
                break
    raise ValueError(ERROR_BAD_DATE.format(value=text))


def parse_yes_no(value: Cell) -> bool | None:
    """是/否, Y/N, yes/no, 1/0, true/false (any case), a real boolean; blank gives None."""
    text = cell_text(value).casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(ERROR_BAD_YES_NO.format(value=cell_text(value)))


def _clean_cell(value: object) -> Cell:
    if value is None or isinstance(value, int | float):
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        return normalize_text(value) or None
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()  # what Excel calls a date is a datetime at midnight to openpyxl
    if isinstance(value, date):
        return value
    if isinstance(value, time | timedelta):
        return str(value)
    return normalize_text(str(value)) or None


# ------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------
def check_size(size: int, *, max_bytes: int | None = None) -> None:
    """Refuse an upload over the limit (Django's upload settings do not: PITFALLS.md)."""
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if size > limit:
        raise SpreadsheetError(
            ERROR_TOO_LARGE.format(size=filesizeformat(size), limit=filesizeformat(limit))
        )


def read_table(
    data: bytes,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Table:
    """Read the first sheet of an xlsx, or a CSV, into a Table; refuse anything else.

    Blank rows are skipped (LibreOffice files can carry 2^20 of them) and row numbers are the
    ones Excel shows. ``filename`` is only for the log: the kind of file is told from its
    content, since users rename files.
    """
    row_limit = settings.MAX_IMPORT_ROWS if max_rows is None else max_rows
    try:
        check_size(len(data), max_bytes=max_bytes)
        if not data:
            raise SpreadsheetError(ERROR_EMPTY_FILE)
        if data.startswith(XLSX_MAGIC):
            raw_rows = _xlsx_rows(data)
        elif data.startswith(OLE2_MAGIC):
            raise SpreadsheetError(ERROR_OLD_EXCEL)
        elif data.startswith(PDF_MAGIC):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        else:
            raw_rows = _csv_rows(data)
        return _build_table(raw_rows, max_rows=row_limit)
    except SpreadsheetError as error:
        logger.info("Refused uploaded table %r: %s", filename, error)
        raise


def _check_xlsx_archive(data: bytes) -> None:
    """Zip-bomb and "is it an xlsx at all" checks, on the zip directory only (fast)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET) from error
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)  # a .docx, an .apk, any other zip
    if len(members) > XLSX_MAX_MEMBERS:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    if sum(member.file_size for member in members) > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    for member in members:
        if (
            member.file_size > XLSX_RATIO_MIN_BYTES
            and member.file_size > member.compress_size * XLSX_MAX_COMPRESSION_RATIO
        ):
            raise SpreadsheetError(ERROR_ZIP_BOMB)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    if not DEFUSEDXML:  # openpyxl parses XML entity bombs without it (PITFALLS.md)
        raise RuntimeError("defusedxml must be installed to read uploaded xlsx files")
    _check_xlsx_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like, from other tools
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
    except Exception as error:  # openpyxl raises a zoo of types on a damaged or forged file
        raise SpreadsheetError(ERROR_BROKEN_XLSX) from error
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(ERROR_BROKEN_XLSX)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # other tools write wrong dimensions; never trust them
        # One column past the cap, to notice a sheet that is too wide.
        rows = sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        yield from enumerate(rows, start=1)
    except SpreadsheetError:
        raise
    except Exception as error:
        raise SpreadsheetError(ERROR_BROKEN_XLSX) from error
    finally:
        workbook.close()


def _decode_csv(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text"
    elif data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        if _BINARY_BYTES.search(data):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        # Chinese Excel saves "CSV (逗号分隔)" in GBK; GB18030 is its superset.
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY_CHARS.search(text):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        return text
    raise SpreadsheetError(ERROR_UNKNOWN_ENCODING)


def _sniff_delimiter(text: str) -> str:
    """The delimiter used most in the header line; a comma when there is none."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    text = _decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        for number, values in enumerate(reader, start=1):
            yield number, [value or None for value in values[: MAX_COLUMNS + 1]]
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
        if number > EXCEL_MAX_ROWS:
            raise SpreadsheetError(ERROR_SHEET_TOO_LONG)
        # Fast path for the common cases (blank rows, nothing right of the table) before
        # touching cells one by one: rows come padded to MAX_COLUMNS + 1 from openpyxl.
        if raw.count(None) == len(raw):
            continue
        if len(raw) > width and raw[width:].count(None) != len(raw) - width:
            width = _content_width(raw)
            if width > MAX_COLUMNS:
                raise SpreadsheetError(ERROR_TOO_MANY_COLUMNS.format(limit=MAX_COLUMNS))
        values = [_clean_cell(value) for value in raw[:width]]
        if all(value is None for value in values):
            continue  # only spaces
        text_chars += sum(len(value) for value in values if isinstance(value, str))
        if text_chars > MAX_TEXT_CHARS:
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
    # Every row as wide as the widest one; then drop columns empty from header to bottom.
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
    return table


# ------------------------------------------------------------------------------
# Headers
# ------------------------------------------------------------------------------
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
        canonical = lookup.get(header_key(header))
        if canonical is None:
            unknown.append(header)
        else:
            found.setdefault(canonical, []).append(index)
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


# ------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------
def _xlsx_cell(sheet, value: object) -> object:
    if isinstance(value, str):
        if not value:
            return None
        cell = WriteOnlyCell(
            sheet, value=ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
        )
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    return value


def _sheet_title(name: str) -> str:
    """Excel refuses \\ / ? * [ ] : in a sheet's name, and more than 31 characters."""
    return re.sub(r"[\\/?*\[\]:]", "-", name)[:31] or "Sheet1"


def write_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str = "Sheet1",
    text_columns: Collection[int] = (),
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> bytes:
    """An xlsx in openpyxl's write-only mode: ~10x less memory than tablib's (PITFALLS.md).

    Strings are always written as text, never as formulas. ``text_columns`` (indexes) are
    formatted as text so that Excel keeps the leading zeros a user types into them.
    """
    workbook = openpyxl.Workbook(write_only=True)
    sheets = {
        title: (headers, rows),
        **{name: ((), body) for name, body in (extra_sheets or {}).items()},
    }
    for name, (head, body) in sheets.items():
        sheet = workbook.create_sheet(_sheet_title(name))
        for index in range(max(len(head), 1)):
            dimension = sheet.column_dimensions[get_column_letter(index + 1)]
            dimension.width = 16
            if name == title and index in text_columns:
                dimension.number_format = "@"
        if head:
            sheet.append([_xlsx_cell(sheet, header) for header in head])
        for row in body:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a BOM: without it, Chinese Excel reads UTF-8 as GBK and garbles it."""
    output = io.StringIO(newline="")
    writer = csv.writer(output)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else cell_text(value) for value in row])
    return output.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------------------
# django-import-export
# ------------------------------------------------------------------------------
class TableDataset(tablib.Dataset):
    """A tablib Dataset made from a Table, remembering each row's spreadsheet row number."""

    def __init__(self, table: Table) -> None:
        super().__init__(headers=list(table.headers))
        for row in table.rows:
            self.append(row.values)
        self.row_numbers = [row.number for row in table.rows]


class SpreadsheetFormat(TablibFormat):
    """An import format that reads through read_table(), whichever format the user picked.

    The library's own CSV format decodes with one encoding and its xlsx format has none of
    the checks above; these get the bytes (is_binary) and sniff them.
    """

    def create_dataset(self, in_stream: bytes | str, **kwargs) -> TableDataset:
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else bytes(in_stream)
        return TableDataset(read_table(data))

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"


class XLSXFormat(SpreadsheetFormat):
    TABLIB_MODULE = "tablib.formats._xlsx"
    CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return write_xlsx(dataset.headers or [], dataset)


class CSVFormat(SpreadsheetFormat):
    TABLIB_MODULE = "tablib.formats._csv"
    CONTENT_TYPE = "text/csv"

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return write_csv(dataset.headers or [], dataset)


SPREADSHEET_FORMATS = [XLSXFormat, CSVFormat]


def validate_upload_size(upload):
    """A form's clean_<file>: refuse an oversized upload before anything reads it
    (Django's upload settings do not cap file data: PITFALLS.md)."""
    try:
        check_size(upload.size)
    except SpreadsheetError as error:
        raise forms.ValidationError(str(error)) from error
    return upload


class SpreadsheetImportForm(ImportForm):
    """The admin's import form, refusing an oversized file before anything reads it."""

    def clean_import_file(self):
        return validate_upload_size(self.cleaned_data["import_file"])
