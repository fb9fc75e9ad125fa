"""The first sheet of an xlsx, streamed under caps (docs/security.md, 2).

openpyxl reads the whole shared-strings table before the first row and walks every row it is
given, and defusedxml does its work in pure Python; so the workbook is read here instead: the
zip directory checked for bombs before anything is inflated, each part inflated under its own
cap, the XML parsed by the C parser (expat) with document type declarations refused, and
every row and cell counted against the caps of ``limits.py``. The sheet and its shared strings
go through expat's callbacks, without building an element per cell (docs/performance.md,
"Finance import": 1.0 s of a 20,000-row sheet was ElementTree making and yielding elements).
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import NoReturn
from xml.etree.ElementTree import XMLPullParser  # DTDs refused below (_iterparse)
from xml.parsers import expat  # DTDs refused below (_expat_parser)

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from common.spreadsheets import limits
from common.spreadsheets.limits import (
    ERROR_BROKEN_XLSX,
    ERROR_NOT_A_SPREADSHEET,
    ERROR_TOO_MANY_CELLS,
    ERROR_TOO_MANY_ROWS_READ,
    ERROR_TOO_MUCH_TEXT,
    ERROR_ZIP_BOMB,
    SpreadsheetError,
)


def _check_xlsx_archive(archive: zipfile.ZipFile) -> None:
    """Zip-bomb and "is it an xlsx at all" checks, on the zip directory only (fast)."""
    members = archive.infolist()
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise SpreadsheetError(ERROR_NOT_A_SPREADSHEET)  # a .docx, an .apk, any other zip
    if len(members) > limits.XLSX_MAX_MEMBERS:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    if sum(member.file_size for member in members) > limits.XLSX_MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(ERROR_ZIP_BOMB)
    for member in members:
        if member.file_size > _part_limit(member.filename):
            raise SpreadsheetError(ERROR_ZIP_BOMB)
        if (
            member.file_size > limits.XLSX_RATIO_MIN_BYTES
            and member.file_size > member.compress_size * limits.XLSX_MAX_COMPRESSION_RATIO
        ):
            raise SpreadsheetError(ERROR_ZIP_BOMB)


def _part_limit(name: str) -> int:
    """Uncompressed bytes allowed for one part of the workbook."""
    if name.startswith("xl/worksheets/"):
        return limits.XLSX_MAX_SHEET_BYTES
    if name.endswith("sharedStrings.xml"):
        return limits.XLSX_MAX_SHARED_STRINGS_BYTES
    return limits.XLSX_MAX_PART_BYTES


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


# A document type declaration, in the encodings an XML part may use.
_DOCTYPE = tuple("<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


def _iterparse(part: io.RawIOBase, events: tuple[str, ...] = ("end",)):
    """(event, element) pairs as the part streams in, from the C parser.

    defusedxml (entity bombs) does its work in the pure-Python ElementTree, which
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


class _LocalNames(dict[str, str]):
    """'{namespace}row' -> 'row' (Excel writes the transitional namespace, some tools strict),
    looked up at dict speed for every element. A real workbook has a few dozen distinct tags;
    a forged one could have millions, so past a bound they are no longer kept."""

    def __missing__(self, tag: str) -> str:
        local = tag.rpartition("}")[2]
        if len(self) < 1000:
            self[tag] = local
        return local


_LOCAL_NAMES = _LocalNames()


def _local(tag: str) -> str:
    return _LOCAL_NAMES[tag]


def _refuse_dtd(*args) -> NoReturn:
    raise SpreadsheetError(ERROR_BROKEN_XLSX)


def _expat_parser():
    """Expat, with what defusedxml refuses refused: any document type declaration (where
    entities are declared), hence any entity declaration or external reference. Names come
    as 'namespace}local' (``_LOCAL_NAMES`` strips the namespace)."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True  # one CharacterDataHandler call per text, not per line
    parser.buffer_size = 64 * 1024
    return parser


def _expat_chunks(part: io.RawIOBase, parser) -> Iterator[None]:
    """Feed ``part`` to ``parser`` chunk by chunk, yielding after each (the handlers' results
    are taken between chunks, so that memory stays bounded)."""
    while chunk := part.read(64 * 1024):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield


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
    (4 million tiny strings took a process from 371 to 913 MB)."""
    if not name or name not in archive.NameToInfo:
        return []
    max_strings = min(max_cells, limits.XLSX_MAX_SHARED_STRINGS)
    _count_tags(archive, name, (b"<si>", b"<si "), max_strings, ERROR_TOO_MUCH_TEXT)
    table = _SharedStrings(max_strings)
    with _CappedPart(archive, name) as part:
        parser = _expat_parser()
        parser.StartElementHandler = table.start
        parser.EndElementHandler = table.end
        parser.CharacterDataHandler = table.characters
        for _ in _expat_chunks(part, parser):
            pass
    return table.strings


class _RichText:
    """The text of an <si> or <is>, collected from expat's callbacks: plain <t>, or the <t>
    of each rich-text run <r>; phonetic guides (<rPh>, furigana) are not part of the value.
    A <t>'s text is what comes before its first child, as ElementTree's ``.text``."""

    def __init__(self) -> None:
        self.path: list[str] = []  # local names of the open elements below the <si>/<is>
        self.parts: list[str] = []
        self.collecting = False

    def start(self, local: str) -> None:
        self.collecting = False  # text after a child is a tail, not the <t>'s text
        self.path.append(local)
        if local == "t" and (len(self.path) == 1 or self.path == ["r", "t"]):
            self.collecting = True

    def end(self) -> None:
        self.collecting = False
        self.path.pop()

    def text(self) -> str:
        return "".join(self.parts)


class _SharedStrings:
    """expat handlers filling the shared-strings list, refusing past the caps."""

    def __init__(self, max_strings: int) -> None:
        self.strings: list[str] = []
        self.max_strings = max_strings
        self.text_chars = 0
        self.item: _RichText | None = None  # the <si> being read

    def start(self, tag: str, attrs) -> None:
        local = _LOCAL_NAMES[tag]
        if self.item is not None:
            self.item.start(local)
        elif local == "si":
            self.item = _RichText()

    def end(self, tag: str) -> None:
        item = self.item
        if item is None:
            return
        if item.path:
            item.end()
            return
        text = item.text()
        self.item = None
        self.text_chars += len(text)
        if len(self.strings) >= self.max_strings or self.text_chars > limits.MAX_TEXT_CHARS:
            raise SpreadsheetError(ERROR_TOO_MUCH_TEXT)
        self.strings.append(text)

    def characters(self, data: str) -> None:
        if self.item is not None and self.item.collecting:
            self.item.parts.append(data)


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


_COLUMN_LETTERS = re.compile(r"[A-Z]{1,3}")
_DIGITS = "0123456789"


class _ColumnIndexes(dict[str, int | None]):
    """A reference's letters ('AB' of 'AB12') -> its column number, None when it has none
    (the cell is then the one after the previous): looked up at dict speed for every cell,
    and — like the local names — not kept past a bound for a forged sheet."""

    def __missing__(self, letters: str) -> int | None:
        match = _COLUMN_LETTERS.match(letters)
        index = column_index_from_string(match.group()) if match else None
        if len(self) < 1000:
            self[letters] = index
        return index


def xlsx_rows(
    data: bytes, *, max_rows_read: int, max_cells: int
) -> Iterator[tuple[int, Sequence[object]]]:
    """The first sheet's rows, parsed as the bytes stream in (docs/security.md, 2).

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
    rows: list[tuple[int, list[object]]] = []  # rows ended since the last chunk
    start, end, characters = _sheet_handlers(
        rows,
        strings=strings,
        dates=dates,
        durations=durations,
        epoch=epoch,
        max_rows_read=max_rows_read,
        max_cells=max_cells,
    )
    with _CappedPart(archive, name) as part:
        parser = _expat_parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        for _ in _expat_chunks(part, parser):
            yield from rows
            rows.clear()


def _sheet_handlers(  # noqa: C901 — one state machine, kept together for speed
    rows: list[tuple[int, list[object]]],
    *,
    strings: Sequence[str],
    dates: Collection[int],
    durations: Collection[int],
    epoch: datetime,
    max_rows_read: int,
    max_cells: int,
):
    """expat's handlers for a sheet, appending each row to ``rows`` as it ends.

    Every <row> (at any depth) counts as read, blank or not, and every child of a row is a
    cell and counts against the cell cap, as they start. A cell's value is what openpyxl's
    read-only mode gives (data_only): its last <v>, or the text of its first <is> when it is
    an inline string. Closures, not an object: these run for every element, and reading a
    closure's variable is cheaper than an attribute (0.2 s of a 20,000-row sheet).
    """
    names = _LOCAL_NAMES
    columns = _ColumnIndexes()
    column_cap = limits.MAX_COLUMNS + 1
    rows_read = cells = number = column = 0
    values: list[object] | None = None  # the open row's values; None outside a row
    depth = 0  # elements open below the row: 1 a cell, 2 a cell's child (<v>, <is>), ...
    kind, style = "n", ""  # the open cell's t and s
    last_value: list[str] | None = None  # the text of its last <v>, as it comes
    inline: list[str] | None = None  # the text of its first <is>
    in_inline = in_run = False  # inside that <is>; inside one of its runs <r>
    parts: list[str] = []  # where the text being read goes
    collecting = False  # text is read until the element ends or a child starts (a tail)

    def start(tag: str, attrs: dict[str, str]) -> None:  # noqa: C901 — one state machine
        nonlocal rows_read, cells, number, column, values, depth, kind, style
        nonlocal last_value, inline, in_inline, in_run, parts, collecting
        collecting = False
        local = names[tag]
        if values is None:
            if local == "row":
                rows_read += 1
                if rows_read > max_rows_read:
                    raise SpreadsheetError(ERROR_TOO_MANY_ROWS_READ.format(limit=max_rows_read))
                number = int(attrs.get("r") or number + 1)
                values, column, depth = [], 0, 0
            return
        depth += 1
        if depth == 1:  # a cell
            cells += 1
            if cells > max_cells:
                raise SpreadsheetError(ERROR_TOO_MANY_CELLS.format(limit=max_cells))
            reference = attrs.get("r")
            index = columns[reference.rstrip(_DIGITS)] if reference else None
            column = column + 1 if index is None else index
            kind, style = attrs.get("t", "n"), attrs.get("s", "")
            last_value = inline = None
        elif depth == 2:
            if local == "v":
                last_value = parts = []
                collecting = True
            elif local == "is" and kind == "inlineStr" and inline is None:
                inline = parts = []
                in_inline = True
        elif in_inline:
            # Plain <t>, or the <t> of a run <r>; a phonetic guide's (<rPh>) is no part of it.
            if depth == 3:
                if local == "t":
                    collecting = True
                elif local == "r":
                    in_run = True
            elif depth == 4 and in_run and local == "t":
                collecting = True

    def end(tag: str) -> None:
        nonlocal values, depth, in_inline, in_run, collecting
        collecting = False
        if values is None:
            return
        if depth == 0:  # the row
            rows.append((number, values))
            values = None
            return
        if depth == 1:  # a cell
            if inline is not None:  # only read for an inlineStr
                value: object = "".join(inline)
            elif last_value:
                value = _cell_value(kind, style, last_value, strings, dates, durations, epoch)
            else:
                value = None
            if value is not None:
                # One column past the cap is enough to notice a sheet that is too wide.
                index = min(column, column_cap) - 1
                if index < len(values):
                    values[index] = value
                else:
                    values.extend([None] * (index - len(values)))
                    values.append(value)
        elif depth == 2:
            in_inline = False
        elif depth == 3:
            in_run = False
        depth -= 1

    def characters(data: str) -> None:
        if collecting:
            parts.append(data)

    return start, end, characters


def _cell_value(
    kind: str,
    style: str,
    last_value: list[str],
    strings: Sequence[str],
    dates: Collection[int],
    durations: Collection[int],
    epoch: datetime,
) -> object:
    """A cell's value from the text of its last <v>, as openpyxl's read-only mode gives it
    (data_only)."""
    raw = "".join(last_value)
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return raw.strip() not in ("0", "false", "")
    if kind in ("str", "e", "inlineStr"):
        return raw
    if kind == "d":
        return from_ISO8601(raw)
    value: int | float = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
    number_style = int(style or 0)
    if number_style in dates:
        try:
            return from_excel(value, epoch, timedelta=number_style in durations)
        except (OverflowError, ValueError):
            return "#VALUE!"
    return value
