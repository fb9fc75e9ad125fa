"""Exported group chats read as messages, whatever tool wrote them (issue 15, docs/screening.md).

Three formats, told by the header and never by the file's name (users rename files):

- the CSV or xlsx that the common WeChat PC export tools write (``localId, TalkerId, Type,
  SubType, IsSender, CreateTime, Status, StrContent, StrTime, Remark, NickName, Sender``);
- WeCom's chat archive (会话内容存档) as decrypted JSON lines;
- this project's template (时间, 群昵称, 微信号, 类型, 内容), ``chatlog_template()``.

A chat log is big (a year of a busy group is a million lines), so CSV and JSON lines are
streamed: decoded chunk by chunk and parsed line by line, memory flat whatever the length. An xlsx
is read by ``common.spreadsheets.xlsx.xlsx_rows`` (hostile-file safe, streamed past its bytes).
Hostile files are refused as the other imports refuse them (docs/security.md, 2): size before a
byte is read, binary and old-Excel files, zip bombs, overlong lines, deep JSON, too many rows.
Cells are only ever text: a formula is never evaluated.
"""

from __future__ import annotations

import codecs
import collections
import csv
import itertools
import json
import logging
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeXML  # type: ignore[import-untyped]  # no stubs
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from common.exceptions import ServiceError
from common.spreadsheets import limits
from common.spreadsheets.cells import cell_text
from common.spreadsheets.headers import header_key
from common.spreadsheets.limits import OLE2_MAGIC, PDF_MAGIC, XLSX_MAGIC, SpreadsheetError
from common.spreadsheets.reading import BINARY_BYTES, BINARY_CHARS, CSV_DELIMITERS
from common.spreadsheets.writing import write_xlsx
from common.spreadsheets.xlsx import xlsx_rows
from screening.models import ChatImport, Message

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

logger = logging.getLogger(__name__)

Kind = Message.Kind
Format = ChatImport.Format


class ChatLogError(ServiceError):
    """The chat log cannot be read; the message says why, with the row and column to blame."""


ERROR_TOO_LARGE = "文件太大（{size}）：聊天记录文件的上限为 {limit}，请分成几个文件导入。"
ERROR_XLSX_TOO_LARGE = "Excel 文件太大（{size}）：超过 {limit} 的聊天记录请导出为 CSV 再导入（CSV 边读边处理，不受此限）。"
ERROR_EMPTY = "文件是空的。"
ERROR_OLD_EXCEL = limits.ERROR_OLD_EXCEL
ERROR_NOT_TEXT = "文件中有非文本的内容（二进制数据）：这不是聊天记录导出文件。"
ERROR_ENCODING = "无法识别文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV 后再导入。"
ERROR_UNKNOWN_FORMAT = (
    "无法识别的聊天记录格式：{found}。可导入三种格式："
    "① 微信电脑版导出工具的 CSV 或 Excel（表头含 Type、StrContent、CreateTime 或 StrTime，"
    "以及 Sender、NickName 等）；"
    "② 企业微信会话存档解密后的 JSON 行（每行一条消息，含 msgid、msgtime、msgtype）；"
    "③ 本系统的模板（表头为 时间、群昵称、微信号、类型、内容，可在导入页下载）。"
)
ERROR_LINE_TOO_LONG = "第{line}行太长（超过 {limit} 个字符）：这不像聊天记录导出文件。"
ERROR_BROKEN_CSV = "第{row}行：CSV 格式有误，或单元格超过 {limit} 个字符，无法读取：请在 Excel 中打开，重新另存为 CSV 后再导入。"
ERROR_TOO_MANY_ROWS = "聊天记录太多：一个文件最多 {limit} 行，请分成几个文件导入。"
ERROR_CELL = "第{row}行“{column}”列：{problem}"
ERROR_JSON_LINE = "第{row}行：不是有效的 JSON 对象（企业微信会话存档每行应是一条消息）。"
ERROR_JSON_FIELD = "第{row}行“{field}”字段：{problem}"
ERROR_XLSX_HINT = "聊天记录很长时，请导出为 CSV 再导入。"

PROBLEM_BAD_TIME = "不是有效的时间"
PROBLEM_NO_TIME = "不能为空：请填写发送时间，如 2026-11-30 08:15"
PROBLEM_BAD_TYPE = "不是有效的消息类型“{value}”"
PROBLEM_BAD_KIND = "无法识别的类型“{value}”：应为 {known}，或留空（文字）"
PROBLEM_NO_MSGID = "不能为空，且不超过 {limit} 个字符"

CHUNK_BYTES = 64 * 1024
# A JSON line, and a CSV record however many lines its quoted cells span. A WeChat text message
# is at most a few thousand characters and a link's XML a few kilobytes: a megabyte is ample,
# and it bounds what one row can cost (a file without newlines would otherwise be one "line").
MAX_LINE_CHARS = 1024 * 1024
# An xlsx is read whole (xlsx_rows takes bytes); past this a real export is too big for the
# xlsx caps anyway (its sheet inflates past limits.XLSX_MAX_SHEET_BYTES), and CSV streams.
MAX_XLSX_BYTES = 100 * 1024 * 1024
# The XML of a WeChat link, file or mini-program message (appmsg) parsed for its title and URL;
# a real one is a few kilobytes. A bigger one is kept as plain text, not parsed.
MAX_APPMSG_XML_CHARS = 64 * 1024
# Message.identity is "id:<msgid>" in 100 characters; WeCom msgids are about 40.
MAX_MSGID_CHARS = 96
# The policy's clock (docs/screening.md): local times in the exports are Beijing time.
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Unix times outside 2000–2100 are a wrong column or a broken file, not a chat message.
_EARLIEST, _LATEST = 946_684_800, 4_102_444_800


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    row: int  # the line (CSV, JSON) or row (xlsx) number people see in the file
    # WeCom's msgid; "" for the others (a WeChat PC localId is the exporting PC's row number,
    # not the message's: the same message exported from two PCs has two).
    source_id: str
    sent_at: datetime  # aware
    sender_wechat_id: str
    sender_name: str
    kind: str  # a Message.Kind value
    content: str
    # The chat the message belongs to, as the export names it (WeChat's TalkerId
    # "…@chatroom", WeCom's roomid; "" when the file does not say): an archive holds many chats.
    room_id: str = ""


def read_chatlog(file: BinaryIO, *, filename: str = "") -> tuple[str, Iterator[ParsedMessage]]:
    """(ChatImport.Format value, the messages in file order), the format told by the header.

    Size, kind of file, encoding and header are checked here, before this returns. The messages
    are then read as they are iterated (the file must stay open till then) and a bad row raises
    ``ChatLogError`` mid-stream, naming its row and column: the caller imports a whole file in
    one transaction, so what was read before is rolled back with it. Blank rows are skipped;
    ``filename`` is only for the log.
    """
    try:
        source_format, messages = _open(file)
    except ChatLogError as error:
        logger.info("Refused chat log %r: %s", filename, error)
        raise
    return source_format, _logged(messages, filename)


def chatlog_template() -> bytes:
    """The template to fill in by hand (xlsx): its header and one example row."""
    return write_xlsx(
        TEMPLATE_FIELDS,
        [
            [
                "2026-11-30 08:15",
                "张三",
                "zhangsan_1990",
                "文字",
                "今天的排产计划已发群文件，请查收。",
            ]
        ],
        title="聊天记录",
        text_columns=(0, 2),  # Excel keeps a typed time and a numeric WeChat id as they are
    )


def _logged(messages: Iterator[ParsedMessage], filename: str) -> Iterator[ParsedMessage]:
    try:
        yield from messages
    except ChatLogError as error:
        logger.info("Refused chat log %r: %s", filename, error)
        raise


# --- the file: size, kind, encoding -----------------------------------------------------------
def _open(file: BinaryIO) -> tuple[str, Iterator[ParsedMessage]]:
    limit = settings.SCREENING_MAX_UPLOAD_BYTES
    size = _size(file)
    if size is not None:
        _check_size(size, limit)  # before a byte is read (docs/security.md, 2)
    head = file.read(CHUNK_BYTES)
    if not head:
        raise ChatLogError(ERROR_EMPTY)
    if head.startswith(XLSX_MAGIC):
        return _open_xlsx(head, file)
    if head.startswith(OLE2_MAGIC):
        raise ChatLogError(ERROR_OLD_EXCEL)
    if head.startswith(PDF_MAGIC):
        raise ChatLogError(ERROR_UNKNOWN_FORMAT.format(found="这是 PDF 文件"))
    lines = _Lines(_chunks(head, file, limit), _Decoder(head))
    first, blank = _first_line(lines)
    if first.lstrip().startswith("{"):
        return Format.WECOM.value, _wecom_messages(lines, first, first_number=blank + 1)
    delimiter = _sniff_delimiter(first)
    records = _csv_records(lines, first, delimiter=delimiter, first_number=blank + 1)
    return _open_table(records)


def _size(file: BinaryIO) -> int | None:
    """The bytes left to read, when the file can tell without reading them."""
    size = getattr(file, "size", None)  # Django's UploadedFile
    if isinstance(size, int):
        return size
    try:
        here = file.tell()
        end = file.seek(0, 2)
        file.seek(here)
    except (AttributeError, OSError, ValueError):
        return None  # a pipe: counted as it is read (_chunks)
    return end - here


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise ChatLogError(
            ERROR_TOO_LARGE.format(size=filesizeformat(size), limit=filesizeformat(limit))
        )


def _chunks(head: bytes, file: BinaryIO, limit: int) -> Iterator[bytes]:
    """The file's bytes in chunks, refused past the limit (a pipe's size is not known ahead,
    and a file may grow after it was measured)."""
    total = len(head)
    _check_size(total, limit)
    yield head
    while chunk := file.read(CHUNK_BYTES):
        total += len(chunk)
        _check_size(total, limit)
        yield chunk


class _Decoder:
    """Bytes to text in UTF-16 or UTF-8 (by their BOM), else UTF-8 or GBK: the choice is made
    on the first bytes that are not ASCII, whichever chunk they come in (a WeChat export can
    start with pages of ASCII ids and times). Incremental, so that a character cut at a chunk's
    edge is decoded whole with the next chunk."""

    def __init__(self, head: bytes) -> None:
        self._decoder: codecs.IncrementalDecoder | None = None
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._decoder = codecs.getincrementaldecoder("utf-16")()  # Excel's "Unicode text"
        elif head.startswith(codecs.BOM_UTF8):
            self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._undecided = b""  # the start of a character, before the choice is made

    def decode(self, data: bytes, *, final: bool = False) -> str:
        try:
            if self._decoder is not None:
                return self._decoder.decode(data, final)
            return self._choose(self._undecided + data, final)
        except UnicodeDecodeError as error:
            # A binary file (NUL bytes and the like) is no text in any encoding: say so.
            message = ERROR_NOT_TEXT if BINARY_BYTES.search(data) else ERROR_ENCODING
            raise ChatLogError(message) from error

    def _choose(self, data: bytes, final: bool) -> str:
        self._undecided = b""
        if data.isascii():
            return data.decode("ascii")
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError:
            # Chinese Excel and Windows tools write GBK; GB18030 is its superset.
            self._decoder = codecs.getincrementaldecoder("gb18030")()
            return self._decoder.decode(data, final)
        if text.isascii():
            # Only the start of a character so far: a GBK pair cut at the edge looks like one.
            self._undecided = data[used:]
            return text
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        return text + self._decoder.decode(data[used:], final)


class _Lines:
    """The text's lines (with their newline), decoded chunk by chunk: a line, or a CSV record
    spanning lines (``record_chars``, reset by the reader after each), longer than
    MAX_LINE_CHARS is refused before it is held whole."""

    def __init__(self, chunks: Iterator[bytes], decoder: _Decoder) -> None:
        self._chunks = chunks
        self._decoder = decoder
        self._ready: collections.deque[str] = collections.deque()
        self._partial = ""  # the last line of the text decoded so far, not yet ended
        self._lines = 0  # lines split off so far
        self._done = False
        self.record_chars = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while not self._ready:
            if self._done:
                raise StopIteration
            self._fill()
        line = self._ready.popleft()
        self.record_chars += len(line)
        if self.record_chars > MAX_LINE_CHARS:
            raise ChatLogError(
                ERROR_LINE_TOO_LONG.format(
                    line=self._lines - len(self._ready), limit=MAX_LINE_CHARS
                )
            )
        return line

    def _fill(self) -> None:
        chunk = next(self._chunks, None)
        self._done = chunk is None
        text = self._decoder.decode(chunk or b"", final=self._done)
        if BINARY_CHARS.search(text):
            raise ChatLogError(ERROR_NOT_TEXT)
        parts = (self._partial + text).split("\n")
        self._partial = parts.pop()
        self._lines += len(parts)
        self._ready.extend([part + "\n" for part in parts])
        if self._done and self._partial:
            self._lines += 1
            self._ready.append(self._partial)  # the last line, without a newline
        elif len(self._partial) > MAX_LINE_CHARS:
            raise ChatLogError(
                ERROR_LINE_TOO_LONG.format(line=self._lines + 1, limit=MAX_LINE_CHARS)
            )


def _first_line(lines: _Lines) -> tuple[str, int]:
    """The first line that is not blank, and how many blank ones came before it."""
    for blank, line in enumerate(lines):
        if line.strip():
            lines.record_chars = 0
            return line, blank
        if blank > limits.BLANK_ROWS_ALLOWED:
            break
    raise ChatLogError(ERROR_EMPTY)


def _sniff_delimiter(header: str) -> str:
    """The delimiter used most in the header line (a comma when there is none)."""
    counts = {delimiter: header.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


Record = tuple[int, list[str]]  # (row number, its cells as text)


def _csv_records(
    lines: _Lines, first: str, *, delimiter: str, first_number: int
) -> Iterator[Record]:
    """The CSV's records numbered as Excel shows them (one row per record, however many lines
    its quoted cells span). csv's own field_size_limit (128 KB unless raised) caps a cell."""
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    number = first_number
    try:
        for values in reader:
            lines.record_chars = 0
            yield number, values
            number += 1
    except csv.Error as error:
        limit = csv.field_size_limit()
        raise ChatLogError(ERROR_BROKEN_CSV.format(row=number, limit=limit)) from error


def _open_xlsx(head: bytes, file: BinaryIO) -> tuple[str, Iterator[ParsedMessage]]:
    limit = min(settings.SCREENING_MAX_UPLOAD_BYTES, MAX_XLSX_BYTES)
    data = head + file.read(limit + 1 - len(head))
    if len(data) > limit:
        raise ChatLogError(
            ERROR_XLSX_TOO_LARGE.format(size=filesizeformat(len(data)), limit=filesizeformat(limit))
        )
    rows_read = settings.SCREENING_MAX_ROWS + limits.BLANK_ROWS_ALLOWED
    return _open_table(_xlsx_records(data, rows_read))


def _xlsx_records(data: bytes, rows_read: int) -> Iterator[Record]:
    """The first sheet's rows, as text as CSV gives them (one way to read a row after this)."""
    try:
        for number, values in xlsx_rows(
            data, max_rows_read=rows_read, max_cells=rows_read * limits.CELLS_PER_ROW
        ):
            yield number, [_text(value) for value in values]
    except SpreadsheetError as error:
        message = str(error)
        if message in (limits.ERROR_ZIP_BOMB, limits.ERROR_TOO_MUCH_TEXT):
            message += ERROR_XLSX_HINT  # an honest export this long, not only a bomb
        raise ChatLogError(message) from error


# --- tables (CSV or xlsx): the header tells the format -----------------------------------------
# {canonical: header as the tool writes it}; matched by common.spreadsheets.header_key (case,
# spaces, _ and full width ignored). Extra columns are ignored.
WECHAT_COLUMNS = {
    name.casefold(): name
    for name in (
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
    )
}
TEMPLATE_FIELDS = ("时间", "群昵称", "微信号", "类型", "内容")
Columns = dict[str, int]  # canonical name -> index in the row
# Reads one row, given the cells it needs (in the order of its *_FIELDS): a message, None for
# a blank row, or ChatLogError.
RowReader = Callable[[int, tuple[str, ...]], "ParsedMessage | None"]


def _open_table(records: Iterator[Record]) -> tuple[str, Iterator[ParsedMessage]]:
    number, values = _header_row(records)
    found: Columns = {}
    for index, value in enumerate(values):
        found.setdefault(header_key(value), index)
    wechat = {name: found[name] for name in WECHAT_COLUMNS if name in found}
    template = {name: found[name] for name in TEMPLATE_FIELDS if name in found}
    if {"type", "strcontent"} <= wechat.keys() and wechat.keys() & {"createtime", "strtime"}:
        messages = _table_messages(records, wechat, WECHAT_FIELDS, _wechat_message)
        return Format.WECHAT_PC.value, messages
    if {"时间", "内容"} <= template.keys() and template.keys() & {"群昵称", "微信号"}:
        messages = _table_messages(records, template, TEMPLATE_FIELDS, _template_message)
        return Format.TEMPLATE.value, messages
    header = "、".join(value.strip() for value in values if value.strip())
    raise ChatLogError(ERROR_UNKNOWN_FORMAT.format(found=f"第{number}行的表头是“{header[:200]}”"))


def _header_row(records: Iterator[Record]) -> Record:
    for blank, record in enumerate(records):
        if any(value.strip() for value in record[1]):
            return record
        if blank > limits.BLANK_ROWS_ALLOWED:
            break
    raise ChatLogError(ERROR_EMPTY)


def _table_messages(
    records: Iterator[Record], columns: Columns, fields: Sequence[str], read_row: RowReader
) -> Iterator[ParsedMessage]:
    max_rows = settings.SCREENING_MAX_ROWS
    width = max(columns.values()) + 1
    # The cells a reader needs, in one C call per row (a million rows); a column the file
    # lacks reads the "" put at the end of every row (index -1).
    cells = operator.itemgetter(*(columns.get(name, -1) for name in fields))
    # Blank rows cost a parse too: they count, with an allowance (as in read_table).
    rows_read = rows = 0
    for number, values in records:
        rows_read += 1
        if rows_read > max_rows + limits.BLANK_ROWS_ALLOWED:
            raise ChatLogError(ERROR_TOO_MANY_ROWS.format(limit=max_rows))
        if not any(values):
            continue
        rows += 1
        if rows > max_rows:
            raise ChatLogError(ERROR_TOO_MANY_ROWS.format(limit=max_rows))
        if len(values) < width:
            values.extend([""] * (width - len(values)))
        values.append("")
        message = read_row(number, cells(values))
        if message is not None:
            yield message


def _text(value: object) -> str:
    """An xlsx cell as text, as it was written: a chat message is not normalised (the engine
    normalises for matching; the evidence keeps what was said). Numbers as Excel shows them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # read back by _local_time()
    return cell_text(value)


def _blank(cells: Sequence[str]) -> bool:
    """Only spaces: checked when a row cannot be read, not for every row (a million of them)."""
    return not any(cell.strip() for cell in cells)


def _cell_error(row: int, column: str, problem: str) -> ChatLogError:
    return ChatLogError(ERROR_CELL.format(row=row, column=column, problem=problem))


# --- WeChat PC export tools (CSV or xlsx) ------------------------------------------------------
# The message Type of WeChat's MSG table; 49 is an "app message" told apart by SubType.
WECHAT_TYPES: Mapping[int, str] = {
    1: Kind.TEXT.value,
    3: Kind.IMAGE.value,
    34: Kind.VOICE.value,
    43: Kind.VIDEO.value,
    47: Kind.STICKER.value,
    10000: Kind.SYSTEM.value,  # "张三 joined the group", "a message was recalled" …
}
WECHAT_APP = 49
WECHAT_APP_SUBTYPES: Mapping[int, str] = {
    5: Kind.LINK.value,
    6: Kind.FILE.value,
    33: Kind.MINI_PROGRAM.value,
    36: Kind.MINI_PROGRAM.value,
    57: Kind.TEXT.value,  # a reply quoting an earlier message: the reply is the appmsg's title
}
# Kinds whose StrContent is XML about the media (size, md5, CDN keys), not anything said.
_MEDIA = frozenset({Kind.IMAGE.value, Kind.VOICE.value, Kind.VIDEO.value, Kind.STICKER.value})
# Received group messages may start with the sender's id ("wxid_abc123:\n…"): a WeChat id is
# 6–20 letters, digits, _ and -, starting with a letter (older ones "wxid_" and 14 more).
_SENDER_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]{5,29}):\r?\n")


WECHAT_FIELDS = (
    "type",
    "subtype",
    "issender",
    "createtime",
    "strtime",
    "strcontent",
    "talkerid",
    "sender",
    "nickname",
    "remark",
)
_OTHER = Kind.OTHER.value


def _wechat_message(number: int, cells: tuple[str, ...]) -> ParsedMessage | None:
    type_text, subtype, is_sender, created, local, content, talker, sender, name, remark = cells
    try:
        message_type = int(type_text)
    except ValueError:
        if _blank(cells):
            return None
        problem = PROBLEM_BAD_TYPE.format(value=type_text.strip()[:40])
        raise _cell_error(number, "Type", problem) from None
    sender, talker = sender.strip(), talker.strip()
    match = _SENDER_PREFIX.match(content) if is_sender.strip() != "1" else None
    # In a group the prefix is the sender; a "Hello:\n…" someone typed is not, so it is taken
    # only when it is the Sender column's id, or there is none and the chat is a group.
    if match and (match[1] == sender or (not sender and talker.endswith("@chatroom"))):
        sender = sender or match[1]
        content = content[match.end() :]
    kind = WECHAT_TYPES.get(message_type, _OTHER)
    if message_type == WECHAT_APP:
        kind, content = _wechat_app(subtype.strip(), content)
    elif kind in _MEDIA or (kind == _OTHER and content.lstrip().startswith("<")):
        content = ""
    return ParsedMessage(
        row=number,
        source_id="",
        sent_at=_wechat_time(number, created.strip(), local),
        sender_wechat_id=sender,
        sender_name=name.strip() or remark.strip(),
        kind=kind,
        content=content,
        room_id=talker,
    )


def _wechat_time(number: int, created: str, local: str) -> datetime:
    """CreateTime (Unix seconds, UTC by definition); StrTime (Beijing time) when it is blank."""
    if created not in ("", "0"):
        moment = _unix_time(created)
        if moment is None:
            raise _cell_error(number, "CreateTime", PROBLEM_BAD_TIME)
        return moment
    moment = _local_time(local)
    if moment is None:
        raise _cell_error(number, "StrTime" if local.strip() else "CreateTime", PROBLEM_BAD_TIME)
    return moment


def _unix_time(text: str) -> datetime | None:
    try:
        seconds = float(text)
    except ValueError:
        return None
    if seconds > _LATEST * 10:  # some tools write milliseconds
        seconds /= 1000
    if not _EARLIEST <= seconds < _LATEST:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _wechat_app(subtype: str, content: str) -> tuple[str, str]:
    """An app message (Type 49): its kind by SubType (else the XML's <type>), its content the
    title and URL of its XML, "title url", which is what the screening rules read."""
    text = content.strip()
    appmsg = _appmsg(text) if text.startswith("<") else None
    if appmsg is None:
        fields: dict[str, str] = {}
    else:
        fields = {
            child.tag: (child.text or "").strip()
            for child in appmsg
            if isinstance(child.tag, str)
            and child.tag in ("title", "url", "type", "sourcedisplayname")
        }
        content = " ".join(
            fields[tag] for tag in ("title", "url", "sourcedisplayname") if fields.get(tag)
        )
    try:
        number = int(subtype or fields.get("type") or 0)
    except ValueError:
        number = 0
    return WECHAT_APP_SUBTYPES.get(number, Kind.OTHER.value), content


def _appmsg(text: str) -> Element | None:
    """The <appmsg> element of a message's XML, or None when it is too big or not XML: the text
    is then kept as it is (still read by the rules). defusedxml refuses DTDs and entities."""
    if len(text) > MAX_APPMSG_XML_CHARS:
        return None
    try:
        root = SafeXML.fromstring(text, forbid_dtd=True)
    except (SafeXML.ParseError, ValueError):  # DefusedXmlException is a ValueError
        return None
    return root if root.tag == "appmsg" else root.find("appmsg")


# --- the project's template (时间, 群昵称, 微信号, 类型, 内容) ------------------------------------
# 类型 by Message.Kind's labels (文字, 图片, … 系统消息) or values; blank is 文字.
TEMPLATE_KINDS: Mapping[str, str] = {
    **{str(label): value for value, label in Kind.choices},
    **{value: value for value in Kind.values},
}
_TIME_PATTERN = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[\sT]*"
    r"(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?"
)


def _template_message(number: int, cells: tuple[str, ...]) -> ParsedMessage | None:
    when, name, wechat_id, kind_text, content = cells
    kind = TEMPLATE_KINDS.get(kind_text.strip() or Kind.TEXT.label)
    if kind is None:
        known = "、".join(str(label) for label in Kind.labels)
        problem = PROBLEM_BAD_KIND.format(value=kind_text.strip()[:40], known=known)
        raise _cell_error(number, "类型", problem)
    sent_at = _local_time(when)
    if sent_at is None:
        if _blank(cells):
            return None
        raise _cell_error(number, "时间", PROBLEM_BAD_TIME if when.strip() else PROBLEM_NO_TIME)
    return ParsedMessage(
        row=number,
        source_id="",
        sent_at=sent_at,
        sender_wechat_id=wechat_id.strip(),
        sender_name=name.strip(),
        kind=kind,
        content=content,
    )


def _local_time(text: str) -> datetime | None:
    """A Beijing time written as 2026-11-30 08:15(:30), 2026/11/30 8:15, 2026年11月30日 08:15,
    or an Excel date-time cell (which _text() writes as the first)."""
    match = _TIME_PATTERN.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    except ValueError:  # 2026-02-30, 25:00
        return None


# --- WeCom chat archive (decrypted JSON lines) -------------------------------------------------
# msgtype -> (kind, paths of the texts the content is made of). Other msgtypes are "other".
WECOM_TYPES: Mapping[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "text": (Kind.TEXT.value, (("text", "content"),)),
    "markdown": (Kind.TEXT.value, (("info", "content"),)),
    "image": (Kind.IMAGE.value, ()),
    "voice": (Kind.VOICE.value, ()),
    "video": (Kind.VIDEO.value, ()),
    "emotion": (Kind.STICKER.value, ()),
    "link": (Kind.LINK.value, (("link", "title"), ("link", "link_url"))),
    "docmsg": (Kind.LINK.value, (("doc", "title"), ("doc", "link_url"))),
    "file": (Kind.FILE.value, (("file", "filename"),)),
    "weapp": (Kind.MINI_PROGRAM.value, (("weapp", "title"), ("weapp", "displayname"))),
}
RECALLED = "撤回了一条消息"


def _wecom_messages(lines: _Lines, first: str, *, first_number: int) -> Iterator[ParsedMessage]:
    max_rows = settings.SCREENING_MAX_ROWS
    rows = 0
    for number, line in enumerate(itertools.chain([first], lines), start=first_number):
        lines.record_chars = 0
        # Blank lines count too, with an allowance (as in the tables).
        if number > max_rows + limits.BLANK_ROWS_ALLOWED:
            raise ChatLogError(ERROR_TOO_MANY_ROWS.format(limit=max_rows))
        if not line.strip():
            continue
        rows += 1
        if rows > max_rows:
            raise ChatLogError(ERROR_TOO_MANY_ROWS.format(limit=max_rows))
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the stack
            raise ChatLogError(ERROR_JSON_LINE.format(row=number)) from None
        if not isinstance(record, dict):
            raise ChatLogError(ERROR_JSON_LINE.format(row=number))
        message = _wecom_message(number, record)
        if message is not None:
            yield message


def _wecom_message(number: int, record: dict) -> ParsedMessage | None:
    action = record.get("action", "send")
    if action == "switch":
        return None  # a user switching the device they log in on: not a chat message
    msgid = record.get("msgid")
    if not isinstance(msgid, str) or not msgid or len(msgid) > MAX_MSGID_CHARS:
        problem = PROBLEM_NO_MSGID.format(limit=MAX_MSGID_CHARS)
        raise ChatLogError(ERROR_JSON_FIELD.format(row=number, field="msgid", problem=problem))
    msgtype = record.get("msgtype")
    kind: str
    if action == "recall":
        # The recalled message itself came on its own line and stays evidence; the recall is
        # context for the reviewer.
        kind, content = Kind.SYSTEM.value, RECALLED
    elif msgtype == "mixed":
        kind, content = Kind.TEXT.value, _wecom_mixed(record)
    else:
        kind, paths = WECOM_TYPES.get(
            msgtype if isinstance(msgtype, str) else "", (Kind.OTHER.value, ())
        )
        content = " ".join(text for path in paths if (text := _json_text(record, path)))
    return ParsedMessage(
        row=number,
        source_id=msgid,
        sent_at=_wecom_time(number, record.get("msgtime")),
        sender_wechat_id=_json_text(record, ("from",)),
        sender_name="",  # the archive names people by their ids only
        kind=kind,
        content=content,
        room_id=_json_text(record, ("roomid",)),
    )


def _json_text(record: object, path: Sequence[str]) -> str:
    for key in path:
        if not isinstance(record, dict):
            return ""
        record = record.get(key)
    return record.strip() if isinstance(record, str) else ""


def _wecom_mixed(record: dict) -> str:
    """The texts of a message mixing text and pictures: each text item's content is itself a
    JSON text ('{"content": "…"}')."""
    items = record.get("mixed", {}).get("item") if isinstance(record.get("mixed"), dict) else None
    texts = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and item.get("type") == "text":
            try:
                texts.append(_json_text(json.loads(item.get("content") or ""), ("content",)))
            except (TypeError, ValueError, RecursionError):
                continue
    return "\n".join(text for text in texts if text)


def _wecom_time(number: int, msgtime: object) -> datetime:
    """msgtime: Unix milliseconds (UTC by definition)."""
    if isinstance(msgtime, int | str) and not isinstance(msgtime, bool) and str(msgtime).isdigit():
        seconds = int(msgtime) / 1000
        if _EARLIEST <= seconds < _LATEST:
            return datetime.fromtimestamp(seconds, tz=UTC)
    raise ChatLogError(
        ERROR_JSON_FIELD.format(row=number, field="msgtime", problem=PROBLEM_BAD_TIME)
    )
