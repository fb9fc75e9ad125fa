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
import contextlib
import csv
import functools
import io
import logging
import os
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from xml.etree.ElementTree import XMLPullParser  # noqa: S405 - DTDs refused below

import openpyxl
import tablib
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from import_export.formats.base_formats import TablibFormat
from import_export.forms import ImportForm
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

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
ERROR_TOO_MANY_ROWS_READ = (
    "表格的行太多（空行和只有空格的行也算在内）：最多读取 {limit} 行。"
    "请删除数据下方的空行，或分成几个文件导入。"
)
ERROR_TOO_MANY_CELLS = "表格的单元格太多（空白单元格也算在内）：最多 {limit} 个。请删除多余的行和列，或分成几个文件导入。"
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
# issue 9, point 2: each part has its own cap, checked on the zip directory and again on the
# bytes really inflated. The 50,000-row sheet above is 28 MB; its shared strings a few MB.
XLSX_MAX_SHEET_BYTES = 128 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
XLSX_MAX_PART_BYTES = 16 * 1024 * 1024  # workbook, styles, relationships
# Distinct texts in the shared-strings table: a 50,000-row employee sheet has ~200,000 (names,
# WeChat ids); the hostile file of the issue had 4 million.
XLSX_MAX_SHARED_STRINGS = 500_000
# issue 9, point 2: rows read beyond the data-row cap (header, blank rows, spaces-only rows):
# a whitespace sheet of 1,048,575 rows held a request 142 s because blank rows never counted.
BLANK_ROWS_ALLOWED = 1_000
# Cells parsed (every <c>, empty or not; every CSV field): at most CELLS_PER_ROW for each row
# the caps let through, and never more than MAX_CELLS. A 50,000-row employee sheet has
# ~600,000 and reads in ~8 s of CPU (docs/performance.md); a roster (2,000 rows) at most 90,000.
MAX_CELLS = 1_000_000
CELLS_PER_ROW = 30
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
# Characters a reader skips before a formula without showing them (issue 9, point 8): format
# characters (U+200B-U+200F, U+2060, BOM, soft hyphen, bidi controls), every kind of space
# (NBSP, U+3000), line and paragraph separators, other control characters.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})

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


def _runs_as_formula(value: str) -> bool:
    """Whether a spreadsheet may run ``value`` once it is normalised: leading invisible and
    format characters (zero-width space and joiners, BOM, NBSP, ideographic space, bidi
    marks...) removed, as normalize_text() and Excel's import do, and full-width ＝＋－＠
    read as their ASCII forms (NFKC)."""
    if value.startswith(FORMULA_TRIGGERS):
        return True
    for char in value:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", char).startswith(FORMULA_TRIGGERS)
    return False


def escape_formula(value: str) -> str:
    """Prefix ' to text a spreadsheet would run as a formula (OWASP; see PITFALLS.md).

    issue 9, point 8: the test is made on the normalised text, so that "\u200b=cmd" (which
    write_csv() and Excel turn into "=cmd") is escaped too; the text itself is kept as it is.
    """
    return "'" + value if _runs_as_formula(value) else value


def unescape_formula(value: str) -> str:
    """Undo escape_formula(), so that an exported sheet imports back unchanged."""
    return value[1:] if value.startswith("'") and _runs_as_formula(value[1:]) else value


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


def read_upload_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> bytes:
    """A file named on the command line, its size checked before a byte is read (issue 9,
    point 2: import_roster read a 200 MB file before refusing it). Raises OSError or
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

    The one reader of every upload door and command (issue 9, point 2). Blank rows are left
    out of the table and row numbers are the ones Excel shows; but every row read, blank or
    not, counts against ``max_rows`` + BLANK_ROWS_ALLOWED, every cell against ``max_cells``,
    and reading stops at the first cap. ``filename`` is only for the log: the kind of file is
    told from its content, since users rename files.
    """
    row_limit = settings.MAX_IMPORT_ROWS if max_rows is None else max_rows
    rows_read = row_limit + BLANK_ROWS_ALLOWED
    limits = {
        "max_rows_read": rows_read,
        "max_cells": min(MAX_CELLS, rows_read * CELLS_PER_ROW) if max_cells is None else max_cells,
    }
    try:
        check_size(len(data), max_bytes=max_bytes)
        if not data:
            raise SpreadsheetError(ERROR_EMPTY_FILE)
        if data.startswith(XLSX_MAGIC):
            raw_rows = _xlsx_rows(data, **limits)
        elif data.startswith(OLE2_MAGIC):
            raise SpreadsheetError(ERROR_OLD_EXCEL)
        elif data.startswith(PDF_MAGIC):
            raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)
        else:
            raw_rows = _csv_rows(data, **limits)
        return _build_table(raw_rows, max_rows=row_limit)
    except SpreadsheetError as error:
        logger.info("Refused uploaded table %r: %s", filename, error)
        raise


def _check_xlsx_archive(archive: zipfile.ZipFile) -> None:
    """Zip-bomb and "is it an xlsx at all" checks, on the zip directory only (fast)."""
    members = archive.infolist()
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)  # a .docx, an .apk, any other zip
    if len(members) > XLSX_MAX_MEMBERS:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    if sum(member.file_size for member in members) > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    for member in members:
        if member.file_size > _part_limit(member.filename):
            raise SpreadsheetError(ERROR_ZIP_BOMB)
        if (
            member.file_size > XLSX_RATIO_MIN_BYTES
            and member.file_size > member.compress_size * XLSX_MAX_COMPRESSION_RATIO
        ):
            raise SpreadsheetError(ERROR_ZIP_BOMB)


def _part_limit(name: str) -> int:
    """Uncompressed bytes allowed for one part of the workbook (issue 9, point 2)."""
    if name.startswith("xl/worksheets/"):
        return XLSX_MAX_SHEET_BYTES
    if name.endswith("sharedStrings.xml"):
        return XLSX_MAX_SHARED_STRINGS_BYTES
    return XLSX_MAX_PART_BYTES


class _CappedPart(io.RawIOBase):
    """One zip member, decompressed as it is read, refused past its limit.

    The zip directory's sizes can be forged; this counts the bytes really inflated.
    """

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self._stream = archive.open(name)
        self._limit = _part_limit(name)
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(64 * 1024 if size is None or size < 0 else size)
        self._read += len(chunk)
        if self._read > self._limit:
            raise SpreadsheetError(ERROR_ZIP_BOMB)
        return chunk

    def close(self) -> None:
        self._stream.close()
        super().close()


# A document type declaration, in the encodings an XML part may use (issue 9, point 2).
_DOCTYPE = tuple("<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


def _iterparse(part: io.RawIOBase, events: tuple[str, ...] = ("end",)):
    """(event, element) pairs as the part streams in, from the C parser.

    defusedxml (PITFALLS.md, entity bombs) does its work in the pure-Python ElementTree, which
    took 55 s to read 1.5 million shared strings; here the C parser reads, and what defusedxml
    guarded against is refused first: a document type declaration (where entities are
    declared) before the root element. After it, expat itself rejects one as malformed.
    """
    parser = XMLPullParser(events=events)
    in_prolog = True  # until the first event, which comes after the root element starts
    tail = b""
    while chunk := part.read(64 * 1024):
        if in_prolog:
            window = tail + chunk
            if any(doctype in window for doctype in _DOCTYPE):
                raise SpreadsheetError(ERROR_BROKEN_XLSX)
            tail = window[-32:]
        parser.feed(chunk)
        for event in parser.read_events():
            in_prolog = False
            yield event
    parser.close()
    yield from parser.read_events()


@functools.cache  # called for every element: a few dozen distinct tags
def _local(tag: str) -> str:
    """'{namespace}row' -> 'row': Excel writes the transitional namespace, some tools strict."""
    return tag.rpartition("}")[2]


def _parse_part(archive: zipfile.ZipFile, name: str):
    """A small part (workbook, relationships, styles) as an element tree, size-capped."""
    root = None
    with _CappedPart(archive, name) as part:
        for _, element in _iterparse(part):
            root = element  # the last element to end is the root
    if root is None:
        raise SpreadsheetError(ERROR_BROKEN_XLSX)
    return root


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{Id: (type, absolute target)} of ``part``'s _rels file ({} when it has none)."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if rels_name not in archive.NameToInfo:
        return {}
    result = {}
    for rel in _parse_part(archive, rels_name):
        target = rel.get("Target", "")
        if target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        result[rel.get("Id", "")] = (rel.get("Type", ""), target)
    return result


def _part_of_type(rels: Mapping[str, tuple[str, str]], kind: str) -> str | None:
    return next((target for type_, target in rels.values() if type_.endswith("/" + kind)), None)


def _date_styles(archive: zipfile.ZipFile, name: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles that show a number as a date, and as a duration."""
    if not name or name not in archive.NameToInfo:
        return set(), set()
    root = _parse_part(archive, name)
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    dates: set[int] = set()
    durations: set[int] = set()
    for child in root:
        if _local(child.tag) == "numFmts":
            for number_format in child:
                with contextlib.suppress(ValueError):
                    formats[int(number_format.get("numFmtId", ""))] = number_format.get(
                        "formatCode", ""
                    )
    for child in root:
        if _local(child.tag) != "cellXfs":
            continue
        for index, style in enumerate(child):
            try:
                number_format = formats.get(int(style.get("numFmtId", "0")), "")
            except ValueError:
                continue
            if number_format and is_date_format(number_format):
                dates.add(index)
                if is_timedelta_format(number_format):
                    durations.add(index)
    return dates, durations


def _shared_strings(archive: zipfile.ZipFile, name: str | None, *, max_cells: int) -> list[str]:
    """The shared-strings table, streamed: more strings than cells allowed is refused at once
    (issue 9, point 2: 4 million tiny strings took a process from 371 to 913 MB)."""
    if not name or name not in archive.NameToInfo:
        return []
    max_strings = min(max_cells, XLSX_MAX_SHARED_STRINGS)
    _count_tags(archive, name, (b"<si>", b"<si "), max_strings, ERROR_TOO_MUCH_TEXT)
    strings: list[str] = []
    text_chars = 0
    with _CappedPart(archive, name) as part:
        context = _iterparse(part, events=("start", "end"))
        root = None
        for event, element in context:
            if root is None:
                root = element
            if event != "end" or _local(element.tag) != "si":
                continue
            text = _rich_text(element)
            text_chars += len(text)
            if len(strings) >= max_strings or text_chars > MAX_TEXT_CHARS:
                raise SpreadsheetError(ERROR_TOO_MUCH_TEXT)
            strings.append(text)
            root.clear()  # keep nothing but the list
    return strings


def _count_tags(
    archive: zipfile.ZipFile, name: str, tags: tuple[bytes, ...], limit: int, error: str
) -> None:
    """Refuse ``name`` as soon as its inflated bytes hold more than ``limit`` of ``tags``.

    A first pass over the bytes (zlib and bytes.count, ~10x faster than parsing) that refuses
    a hostile part in a fraction of a second; the parse counts again (a prefixed tag such as
    <x:row> is seen only there).
    """
    count = 0
    keep = max(len(tag) for tag in tags) - 1  # too short to hold a whole tag: none counted twice
    tail = b""
    with _CappedPart(archive, name) as part:
        while chunk := part.read(1024 * 1024):
            window = tail + chunk
            count += sum(window.count(tag) for tag in tags)
            if count > limit:
                raise SpreadsheetError(error)
            tail = window[-keep:]


def _rich_text(element) -> str:
    """The text of an <si> or <is>: plain <t>, or the <t> of each rich-text run <r>; phonetic
    guides (<rPh>, furigana) are not part of the value."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(grand.text or "" for grand in child if _local(grand.tag) == "t")
    return "".join(parts)


_COLUMN_LETTERS = re.compile(r"[A-Z]{1,3}")


def _xlsx_rows(
    data: bytes, *, max_rows_read: int, max_cells: int
) -> Iterator[tuple[int, Sequence[object]]]:
    """The first sheet's rows, parsed as the bytes stream in (issue 9, point 2).

    openpyxl reads the whole shared-strings table before the first row, and walks every row
    it is given; here each part is inflated under its own cap, every <row> element read and
    every <c> counts against the caps, and reading stops at the first cap reached. Gaps in
    the row numbers cost nothing (they are not materialised).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET) from error
    with archive:
        _check_xlsx_archive(archive)
        try:
            package = _relationships(archive, "")
            workbook_name = _part_of_type(package, "officeDocument") or "xl/workbook.xml"
            workbook = _parse_part(archive, workbook_name)
            rels = _relationships(archive, workbook_name)
            epoch = WINDOWS_EPOCH
            first_sheet = None
            for child in workbook:
                tag = _local(child.tag)
                if tag == "workbookPr" and child.get("date1904") in ("1", "true"):
                    epoch = MAC_EPOCH
                elif tag == "sheets" and len(child):
                    first_sheet = next(
                        (value for key, value in child[0].attrib.items() if _local(key) == "id"),
                        None,
                    )
            if first_sheet not in rels or rels[first_sheet][1] not in archive.NameToInfo:
                raise SpreadsheetError(ERROR_BROKEN_XLSX)
            sheet_name = rels[first_sheet][1]
            strings = _shared_strings(
                archive, _part_of_type(rels, "sharedStrings"), max_cells=max_cells
            )
            dates, durations = _date_styles(archive, _part_of_type(rels, "styles"))
            yield from _sheet_rows(
                archive,
                sheet_name,
                strings=strings,
                dates=dates,
                durations=durations,
                epoch=epoch,
                max_rows_read=max_rows_read,
                max_cells=max_cells,
            )
        except SpreadsheetError:
            raise
        except Exception as error:  # a damaged or forged file raises a zoo of types
            raise SpreadsheetError(ERROR_BROKEN_XLSX) from error


def _sheet_rows(
    archive: zipfile.ZipFile,
    name: str,
    *,
    strings: Sequence[str],
    dates: Collection[int],
    durations: Collection[int],
    epoch: datetime,
    max_rows_read: int,
    max_cells: int,
) -> Iterator[tuple[int, Sequence[object]]]:
    rows_read = 0
    cells = 0
    number = 0
    _count_tags(
        archive,
        name,
        (b"<row>", b"<row "),
        max_rows_read,
        ERROR_TOO_MANY_ROWS_READ.format(limit=max_rows_read),
    )
    _count_tags(
        archive, name, (b"<c>", b"<c "), max_cells, ERROR_TOO_MANY_CELLS.format(limit=max_cells)
    )
    with _CappedPart(archive, name) as part:
        for _, element in _iterparse(part):
            if _local(element.tag) != "row":
                continue
            # issue 9, point 2: every row read counts, blank or not, and is counted before
            # its cells are looked at.
            rows_read += 1
            if rows_read > max_rows_read:
                raise SpreadsheetError(ERROR_TOO_MANY_ROWS_READ.format(limit=max_rows_read))
            number = int(element.get("r") or number + 1)
            cells += len(element)
            if cells > max_cells:
                raise SpreadsheetError(ERROR_TOO_MANY_CELLS.format(limit=max_cells))
            values: list[object] = []
            column = 0
            for cell in element:
                reference = cell.get("r")
                match = _COLUMN_LETTERS.match(reference) if reference else None
                column = column_index_from_string(match.group()) if match else column + 1
                value = _cell_value(cell, strings, dates, durations, epoch)
                if value is None:
                    continue
                # One column past the cap is enough to notice a sheet that is too wide.
                index = min(column, MAX_COLUMNS + 1) - 1
                if index >= len(values):
                    values.extend([None] * (index + 1 - len(values)))
                values[index] = value
            element.clear()  # its cells are handled; the empty rows left are capped above
            yield number, values


def _cell_value(cell, strings, dates, durations, epoch) -> object:
    """A <c> element's value as openpyxl's read-only mode gives it (data_only)."""
    kind = cell.get("t", "n")
    raw = None
    for child in cell:
        tag = _local(child.tag)
        if tag == "v":
            raw = child.text
        elif tag == "is" and kind == "inlineStr":
            return _rich_text(child)
    if raw is None:
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return raw.strip() not in ("0", "false", "")
    if kind in ("str", "e", "inlineStr"):
        return raw
    if kind == "d":
        return from_ISO8601(raw)
    value: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    style = int(cell.get("s") or 0)
    if style in dates:
        try:
            return from_excel(value, epoch, timedelta=style in durations)
        except (OverflowError, ValueError):
            return "#VALUE!"
    return value


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
    # Line by line, not text.splitlines(): a 10 MB file of blank lines made a list of a
    # million strings (+80 MB peak, issue 9 point 2).
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
            # issue 9, point 2: every line read counts, blank or not (as for xlsx).
            if number > max_rows_read:
                raise SpreadsheetError(ERROR_TOO_MANY_ROWS_READ.format(limit=max_rows_read))
            cells += len(values)
            if cells > max_cells:
                raise SpreadsheetError(ERROR_TOO_MANY_CELLS.format(limit=max_cells))
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
        # touching cells one by one.
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
    """CSV in UTF-8 with a BOM: without it, Chinese Excel reads UTF-8 as GBK and garbles it.

    Text that would run as a formula is escaped here, for every CSV export, whatever the caller
    escaped already (escape_formula() leaves escaped text as it is)."""
    output = io.StringIO(newline="")
    writer = csv.writer(output)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return output.getvalue().encode("utf-8-sig")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # issue 9, point 8: escaped after cell_text() normalises, which drops a zero-width
        # space or BOM and would otherwise uncover an "=" escaped before it.
        return escape_formula(cell_text(value))
    return cell_text(value)  # numbers stay numbers (-5 is not a formula to escape)


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
