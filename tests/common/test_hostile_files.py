"""docs/security.md, 2: no file holds a server process for long or grows it without bound.

The hostile files are made here with zipfile and raw XML (never committed, never openpyxl),
at a scale the caps are lowered to, so the suite stays fast while the logic is the one that
refuses the real-size files in bench/hostile_files.py. Several files end in broken XML after
the cap: a reader that stops at the cap refuses them for the cap, one that parses the whole
sheet first (openpyxl without <dimension>) calls them damaged.
"""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from collections.abc import Iterable

import pytest
from django.core.management import CommandError, call_command
from django.template.defaultfilters import filesizeformat

from common.actors import SystemActor
from common.spreadsheets import limits, xlsx
from common.spreadsheets.limits import (
    BLANK_ROWS_ALLOWED,
    ERROR_BROKEN_XLSX,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY_CELLS,
    ERROR_TOO_MANY_ROWS_READ,
    ERROR_TOO_MUCH_TEXT,
    ERROR_ZIP_BOMB,
    SpreadsheetError,
)
from common.spreadsheets.reading import read_table, read_upload_file
from groups.services.roster import RosterImportError, parse_roster
from members.importing import employee_import_file
from members.models import Employee
from tests.factories import ChatGroupFactory
from tests.hostile import MAIN, write_hostile_xlsx

BROKEN_TAIL = b"<row><c><v>never read</broken"


def hostile_xlsx(rows: Iterable[bytes], strings: Iterable[bytes] = ()) -> bytes:
    output = io.BytesIO()
    write_hostile_xlsx(output, rows, strings)
    return output.getvalue()


def text_row(number: int, *texts: str) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>' for t in texts)
    return f'<row r="{number}">{cells}</row>'.encode()


def roster_head() -> list[bytes]:
    return [text_row(1, "群昵称", "微信号"), text_row(2, "张三", "zhang_san")]


def whitespace_rows(count: int, *, width: int = 3, start: int = 3) -> Iterable[bytes]:
    """Rows whose every cell is spaces: blank to a reader, but each one costs a parse."""
    for number in range(start, start + count):
        yield text_row(number, *["   "] * width)


def refused(data: bytes, **kwargs) -> str:
    # A message in Chinese, whichever refusal it is: the callers compare the whole message.
    with pytest.raises(SpreadsheetError, match=r"[\u4e00-\u9fff]") as caught:
        read_table(data, **kwargs)
    return str(caught.value)


# --- rows: every row read counts, blank or not -------------------------------------------
def test_whitespace_rows_count_against_the_row_cap_and_reading_stops_there():
    # Within the allowance, blank rows are read and left out of the table ...
    table = read_table(hostile_xlsx([*roster_head(), *whitespace_rows(50)]), max_rows=10)
    assert [row.number for row in table.rows] == [2]
    # ... past it, refused: the 2.9 MB file of 1,048,575 whitespace rows (142 s before),
    # scaled to a cap of 10.
    data = hostile_xlsx([*roster_head(), *whitespace_rows(BLANK_ROWS_ALLOWED + 20), BROKEN_TAIL])

    assert refused(data, max_rows=10) == ERROR_TOO_MANY_ROWS_READ.format(
        limit=10 + BLANK_ROWS_ALLOWED
    )


def test_whitespace_lines_of_a_csv_count_against_the_row_cap():
    data = ("群昵称,微信号\n张三,zhang_san\n" + " , , \n" * (BLANK_ROWS_ALLOWED + 20)).encode()

    assert refused(data, max_rows=10) == ERROR_TOO_MANY_ROWS_READ.format(
        limit=10 + BLANK_ROWS_ALLOWED
    )


def test_small_rows_without_a_dimension_are_refused_at_the_cap_without_parsing_the_rest():
    # A million small rows and no <dimension>: openpyxl parsed them all (9-22 s) first.
    rows = (text_row(number, f"成员{number}", f"wx{number}") for number in range(2, 5_000))
    data = hostile_xlsx([text_row(1, "群昵称", "微信号"), *rows, BROKEN_TAIL])

    assert refused(data, max_rows=100) == ERROR_TOO_MANY_ROWS_READ.format(
        limit=100 + BLANK_ROWS_ALLOWED
    )


# --- cells and shared strings ---------------------------------------------------------------
def test_cells_count_against_the_cell_cap_blank_or_not():
    rows = [*roster_head(), *whitespace_rows(200, width=50), BROKEN_TAIL]

    assert refused(hostile_xlsx(rows), max_cells=1_000) == ERROR_TOO_MANY_CELLS.format(limit=1_000)


def test_csv_fields_count_against_the_cell_cap():
    data = ("群昵称,微信号\n张三,zhang_san\n" + ",".join([" "] * 50) + "\n") * 40

    assert refused(data.encode(), max_cells=1_000) == ERROR_TOO_MANY_CELLS.format(limit=1_000)


def test_more_shared_strings_than_cells_allowed_are_refused_while_streaming():
    # 4 million tiny shared strings took the process from 371 to 913 MB and were accepted.
    strings = [f"<si><t>{number:x}</t></si>".encode() for number in range(20_000)]
    data = hostile_xlsx(roster_head(), [*strings, BROKEN_TAIL])

    assert refused(data, max_cells=1_000) == ERROR_TOO_MUCH_TEXT


def test_prefixed_tags_the_byte_count_misses_are_counted_while_parsing():
    # The first pass counts "<row " and "<si>" in the bytes; "<x:row" is seen by the parse.
    prefixed = f'xmlns:x="{MAIN}"'
    rows = [*roster_head(), *whitespace_rows(BLANK_ROWS_ALLOWED + 20)]
    rows = [row.replace(b"<row ", f"<x:row {prefixed} ".encode()) for row in rows]
    rows = [row.replace(b"</row>", b"</x:row>") for row in rows]
    strings = [f"<x:si {prefixed}><x:t>{n:x}</x:t></x:si>".encode() for n in range(2_000)]

    assert refused(hostile_xlsx(rows), max_rows=10) == ERROR_TOO_MANY_ROWS_READ.format(
        limit=10 + BLANK_ROWS_ALLOWED
    )
    assert refused(hostile_xlsx(roster_head(), strings), max_cells=1_000) == ERROR_TOO_MUCH_TEXT


def test_a_shared_strings_table_over_its_size_is_refused_from_the_zip_directory(monkeypatch):
    monkeypatch.setattr(limits, "XLSX_MAX_SHARED_STRINGS_BYTES", 100_000)
    strings = [f"<si><t>{number:x}</t></si>".encode() for number in range(20_000)]

    assert refused(hostile_xlsx(roster_head(), strings)) == ERROR_ZIP_BOMB


def test_a_sheet_over_its_size_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "XLSX_MAX_SHEET_BYTES", 100_000)
    rows = (text_row(number, f"成员{number}") for number in range(2, 5_000))

    assert refused(hostile_xlsx([text_row(1, "群昵称"), *rows])) == ERROR_ZIP_BOMB


def test_a_part_bigger_than_its_directory_entry_says_is_refused_while_inflating(monkeypatch):
    # Declared sizes can be forged: the bytes really inflated are counted too.
    data = hostile_xlsx([text_row(1, "群昵称"), *(text_row(n, "x") for n in range(2, 5_000))])
    monkeypatch.setattr(xlsx, "_check_xlsx_archive", lambda archive: None)
    monkeypatch.setattr(limits, "XLSX_MAX_SHEET_BYTES", 100_000)

    assert refused(data, max_rows=10_000) == ERROR_ZIP_BOMB


# --- the doors: roster upload, employee import, the commands ---------------------------------
def test_roster_upload_refuses_the_whitespace_file(settings):
    settings.MAX_ROSTER_ROWS = 10
    data = hostile_xlsx([*roster_head(), *whitespace_rows(BLANK_ROWS_ALLOWED + 20), BROKEN_TAIL])

    message = ERROR_TOO_MANY_ROWS_READ.format(limit=10 + BLANK_ROWS_ALLOWED)
    with pytest.raises(RosterImportError, match=re.escape(message)) as caught:
        parse_roster(data, filename="名单.xlsx")

    assert caught.value.errors == [message]


def test_employee_import_refuses_the_whitespace_file_and_writes_nothing(db, settings):
    settings.MAX_IMPORT_ROWS = 10
    head = [text_row(1, "工号", "姓名", "部门"), text_row(2, "E001", "张三", "销售部")]
    data = hostile_xlsx([*head, *whitespace_rows(BLANK_ROWS_ALLOWED + 20), BROKEN_TAIL])

    report = employee_import_file(
        data=data, filename="员工.xlsx", actor=SystemActor("command:import_employees")
    )

    assert report.errors == (ERROR_TOO_MANY_ROWS_READ.format(limit=10 + BLANK_ROWS_ALLOWED),)
    assert not Employee.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    path = tmp_path / "名单.xlsx"
    with path.open("wb") as file:
        file.truncate(40 * 1024 * 1024)  # sparse: 40 MB on paper, nothing on disk

    message = ERROR_TOO_LARGE.format(
        size=filesizeformat(40 * 1024 * 1024), limit=filesizeformat(1024 * 1024)
    )

    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError, match=re.escape(message)) as caught:
            read_upload_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(caught.value) == message
    assert peak < 1024 * 1024


def test_import_roster_command_checks_the_size_before_reading(db, tmp_path, settings):
    # It read the whole file (200 MB) before refusing it.
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    group = ChatGroupFactory()
    path = tmp_path / "名单.xlsx"
    with path.open("wb") as file:
        file.truncate(40 * 1024 * 1024)

    tracemalloc.start()
    try:
        with pytest.raises(CommandError, match="文件太大"):
            call_command("import_roster", "--group", group.code, str(path), "--no-reconcile")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 5 * 1024 * 1024


@pytest.mark.parametrize("padding", [0, 70_000])
def test_a_document_type_declaration_is_refused_in_the_shared_strings_too(padding):
    # The C parser reads (defusedxml's pure-Python one took 55 s on 1.5 million strings), so
    # the entities defusedxml refused are refused by refusing any DTD, however deep in the
    # prolog it hides (a comment pushes it past the first chunk read).
    comment = f"<!--{'x' * padding}-->".encode() if padding else b""
    bomb = (
        b'<?xml version="1.0"?>' + comment + b'<!DOCTYPE sst [<!ENTITY lol "lol">]>'
        b'<sst xmlns="' + MAIN.encode() + b'"><si><t>&lol;</t></si></sst>'
    )
    original = zipfile.ZipFile(io.BytesIO(hostile_xlsx(roster_head())))
    members = {info.filename: original.read(info) for info in original.infolist()}
    members["xl/sharedStrings.xml"] = bomb
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)

    assert refused(output.getvalue()) == ERROR_BROKEN_XLSX
