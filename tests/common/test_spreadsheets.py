"""common.spreadsheets: reading uploads safely, mapping headers, writing files back."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from common.exceptions import CellError
from common.spreadsheets import limits
from common.spreadsheets.cells import (
    ERROR_BAD_DATE,
    ERROR_BAD_YES_NO,
    cell_text,
    escape_formula,
    normalize_text,
    parse_date_cell,
    parse_yes_no,
    unescape_formula,
)
from common.spreadsheets.formats import CSVFormat, TableDataset, XLSXFormat
from common.spreadsheets.headers import ERROR_MISSING_COLUMNS, map_headers
from common.spreadsheets.limits import (
    ERROR_BLANK_HEADER,
    ERROR_BROKEN_XLSX,
    ERROR_EMPTY_FILE,
    ERROR_NO_DATA,
    ERROR_NO_HEADER,
    ERROR_NOT_A_SPREADSHEET,
    ERROR_OLD_EXCEL,
    ERROR_SHEET_TOO_LONG,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY_COLUMNS,
    ERROR_TOO_MANY_ROWS,
    ERROR_TOO_MUCH_TEXT,
    ERROR_UNKNOWN_ENCODING,
    ERROR_ZIP_BOMB,
    MAX_COLUMNS,
    OLE2_MAGIC,
    SpreadsheetError,
)
from common.spreadsheets.reading import Row, read_table
from common.spreadsheets.writing import write_csv, write_xlsx
from tests.factories import csv_bytes, xlsx_bytes

ROWS = [["工号", "姓名", "部门"], ["E001", "张三", "生产部/一车间"], ["E002", "李四", "财务部"]]


def refused(data: bytes, **kwargs) -> str:
    # A message in Chinese, whichever refusal it is: the callers compare the whole message.
    with pytest.raises(SpreadsheetError, match=r"[\u4e00-\u9fff]") as caught:
        read_table(data, **kwargs)
    return str(caught.value)


def zip_with(members: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return output.getvalue()


def xlsx_with_sheet_xml(sheet_xml: bytes) -> bytes:
    """A real xlsx whose first sheet's XML is replaced by ``sheet_xml``."""
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["a"]])))
    members = {info.filename: original.read(info) for info in original.infolist()}
    members["xl/worksheets/sheet1.xml"] = sheet_xml
    return zip_with(members)


def sheet_xml(rows: str) -> bytes:
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def text_row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{openpyxl.utils.get_column_letter(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values, start=1)
    )
    return f'<row r="{number}">{cells}</row>'


# --- good files -----------------------------------------------------------------------------
def test_xlsx_is_read_with_excel_row_numbers():
    table = read_table(xlsx_bytes(ROWS))

    assert table.headers == ["工号", "姓名", "部门"]
    assert table.rows == [(2, ["E001", "张三", "生产部/一车间"]), (3, ["E002", "李四", "财务部"])]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_is_read_in_the_encodings_excel_saves(encoding):
    table = read_table(csv_bytes(ROWS, encoding=encoding))

    assert table.headers == ["工号", "姓名", "部门"]
    assert table.rows[0].values == ["E001", "张三", "生产部/一车间"]


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_delimiter_is_sniffed(delimiter):
    table = read_table(csv_bytes(ROWS, delimiter=delimiter))

    assert table.rows[1].values == ["E002", "李四", "财务部"]


def test_chinese_comma_is_text_not_a_delimiter():
    table = read_table(csv_bytes([["姓名", "备注"], ["张三", "一车间，夜班"]]))

    assert table.rows[0].values == ["张三", "一车间，夜班"]


def test_file_name_does_not_decide_the_format():
    assert read_table(xlsx_bytes(ROWS), filename="员工.csv").headers == ["工号", "姓名", "部门"]
    assert read_table(csv_bytes(ROWS), filename="员工.xlsx").headers == ["工号", "姓名", "部门"]


def test_blank_rows_are_skipped_and_row_numbers_kept():
    rows = [["工号", "姓名"], [None, None], ["E001", "张三"], ["  ", None], ["E002", "李四"]]

    table = read_table(xlsx_bytes(rows))

    assert [row.number for row in table.rows] == [3, 5]


def test_libreoffice_style_trailing_blank_rows_do_not_count():
    data = xlsx_with_sheet_xml(
        sheet_xml(text_row(1, "工号") + text_row(2, "E001") + '<row r="1048576"/>')
    )

    table = read_table(data, max_rows=1)

    assert table.rows == [(2, ["E001"])]


def test_trailing_empty_columns_are_dropped():
    table = read_table(csv_bytes([["工号", "姓名", "", ""], ["E001", "张三", "", " "]]))

    assert table.headers == ["工号", "姓名"]
    assert table.rows[0].values == ["E001", "张三"]


def test_rows_are_as_wide_as_the_header():
    table = read_table(csv_bytes([["工号", "姓名", "微信号"], ["E001"]]))

    assert table.rows[0].values == ["E001", None, None]


def test_cells_keep_excel_types():
    excel_date = datetime(2024, 3, 1)  # noqa: DTZ001 — Excel cells carry no time zone
    rows = [["工号", "职级", "离职日期", "手机号"], [1001, 5, excel_date, 13800138000]]

    values = read_table(xlsx_bytes(rows)).rows[0].values

    assert values == [1001, 5, date(2024, 3, 1), 13800138000]


def test_header_row_is_the_first_non_blank_row():
    table = read_table(xlsx_bytes([[None], ["工号"], ["E001"]]))

    assert (table.header_row, table.headers, table.rows[0].number) == (2, ["工号"], 3)


# --- normalising ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢ１２", "AB12"),
        ("张\u3000三", "张 三"),
        ("  E001\t", "E001"),
        ("生产部／一车间", "生产部／一车间"),  # punctuation is for the caller to interpret
        ("张三（小）", "张三（小）"),
        ("👨\u200d👩\u200d👧 家", "👨\u200d👩\u200d👧 家"),  # emoji with joiners intact
        ("\ufeffE001\u200b", "E001"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_full_width_cells_are_normalised_when_read():
    table = read_table(csv_bytes([["工号", "微信号"], ["Ｅ００１", " ｚｈａｎｇ＿ｓａｎ "]]))

    assert table.rows[0].values == ["E001", "zhang＿san"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), (1001, "1001"), (1001.0, "1001"), (1.5, "1.5"), (date(2024, 3, 1), "2024-03-01")],
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01",
        "2024/3/1",
        "2024.3.1",
        "2024年3月1日",
        "２０２４年３月１日",
        "2024-03-01 00:00:00",
        datetime(2024, 3, 1),  # noqa: DTZ001 — Excel cells carry no time zone
        date(2024, 3, 1),
    ],
)
def test_parse_date_cell(value):
    assert parse_date_cell(value) == date(2024, 3, 1)


@pytest.mark.parametrize("value", ["2024-02-30", "3/1/2024", "昨天", 45352])
def test_parse_date_cell_refuses(value):
    with pytest.raises(CellError, match="无法识别的日期") as caught:
        parse_date_cell(value)
    assert str(caught.value) == ERROR_BAD_DATE.format(value=cell_text(value))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("是", True), ("Y", True), ("1", True), (1, True), ("TRUE", True), (True, True)],
        *[("否", False), ("n", False), ("0", False), ("false", False), (None, None), ("", None)],
    ],
)
def test_parse_yes_no(value, expected):
    assert parse_yes_no(value) is expected


def test_parse_yes_no_refuses():
    with pytest.raises(CellError, match="无法识别") as caught:
        parse_yes_no("也许")
    assert str(caught.value) == ERROR_BAD_YES_NO.format(value="也许")


@pytest.mark.parametrize("text", ["=1+1", "+86", "-5", "@SUM(A1)", "\tx", "\rx", "\0x"])
def test_formula_escaping_round_trips(text):
    escaped = escape_formula(text)

    assert escaped == "'" + text
    assert unescape_formula(escaped) == text


def test_plain_text_is_not_escaped():
    assert escape_formula("张三") == "张三"
    assert unescape_formula("'张三") == "'张三"


# --- refused files --------------------------------------------------------------------------
def test_over_the_size_limit_is_refused():
    message = refused(csv_bytes(ROWS), max_bytes=10)

    assert message.startswith(ERROR_TOO_LARGE.split("（")[0])


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 4,  # an .exe
        bytes(range(256)) * 16,  # random bytes
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        zip_with({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}),
        zip_with({"readme.txt": b"hello"}),
        b"PK\x03\x04 not really a zip",
    ],
    ids=["exe", "random", "pdf", "docx", "zip", "broken-zip"],
)
def test_what_is_not_a_spreadsheet_is_refused(data):
    assert refused(data, filename="员工.xlsx") == ERROR_NOT_A_SPREADSHEET


def test_old_excel_is_refused_with_advice():
    assert refused(OLE2_MAGIC + bytes(512)) == ERROR_OLD_EXCEL


def test_undecodable_text_is_refused():
    assert refused(b"name,\xff\x80\n" * 3) == ERROR_UNKNOWN_ENCODING


@pytest.mark.parametrize("data", [b"", b" \r\n\r\n,,,\r\n"])
def test_empty_file_is_refused(data):
    assert refused(data) in {ERROR_EMPTY_FILE, ERROR_NO_HEADER}


def test_header_without_rows_is_refused():
    assert refused(xlsx_bytes([["工号", "姓名"]])) == ERROR_NO_DATA


def test_more_rows_than_the_cap_are_refused():
    rows = [["工号"]] + [[f"E{i}"] for i in range(5)]

    assert refused(xlsx_bytes(rows), max_rows=4) == ERROR_TOO_MANY_ROWS.format(limit=4)
    assert refused(csv_bytes(rows), max_rows=4) == ERROR_TOO_MANY_ROWS.format(limit=4)


def test_a_forged_row_number_beyond_excel_is_refused():
    data = xlsx_with_sheet_xml(sheet_xml(text_row(1, "工号") + text_row(2_000_000, "E1")))

    assert refused(data) == ERROR_SHEET_TOO_LONG


def test_too_wide_a_sheet_is_refused():
    data = csv_bytes([["工号"] + ["x"] * MAX_COLUMNS, ["E1"]])

    assert refused(data) == ERROR_TOO_MANY_COLUMNS.format(limit=MAX_COLUMNS)


def test_too_much_text_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 100)

    assert refused(xlsx_bytes([["备注"], ["长" * 200]])) == ERROR_TOO_MUCH_TEXT


def test_data_under_a_blank_header_is_refused():
    data = csv_bytes([["工号", "", "姓名"], ["E1", "?", "张三"]])

    assert refused(data) == ERROR_BLANK_HEADER.format(letter="B")


def test_zip_bomb_is_refused_by_its_compression_ratio():
    # 100,000 identical rows compress about 1000:1 (a 0.33 MB file once made 2,000,000 rows).
    bomb = xlsx_with_sheet_xml(
        sheet_xml('<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 100_000)
    )
    assert len(bomb) < 100_000

    assert refused(bomb) == ERROR_ZIP_BOMB


def test_zip_bomb_is_refused_by_its_declared_size():
    data = bytearray(xlsx_bytes(ROWS))
    # Declare 1 GB for the sheet in the zip's central directory (uncompressed size at +24).
    name_at = data.find(b"xl/worksheets/sheet1.xml", data.find(b"PK\x01\x02"))
    entry = data.rfind(b"PK\x01\x02", 0, name_at)
    data[entry + 24 : entry + 28] = struct.pack("<I", 1024**3)

    assert refused(bytes(data)) == ERROR_ZIP_BOMB


def test_a_sheet_bigger_than_declared_is_refused():
    data = bytearray(xlsx_bytes(ROWS))
    name_at = data.find(b"xl/worksheets/sheet1.xml", data.find(b"PK\x01\x02"))
    entry = data.rfind(b"PK\x01\x02", 0, name_at)
    data[entry + 24 : entry + 28] = struct.pack("<I", 100)  # zipfile stops at the declared size

    assert refused(bytes(data)) == ERROR_BROKEN_XLSX


def test_entity_bomb_is_refused():
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )

    assert refused(xlsx_with_sheet_xml(billion_laughs)) == ERROR_BROKEN_XLSX


def test_cells_are_read_as_excel_wps_and_openpyxl_write_them():
    # The sheet is read through expat's callbacks (docs/performance.md, "Finance import"):
    # what each kind of <c> holds, as openpyxl's read-only mode gives it.
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>共享</t></si>"
        "<si><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r><rPh><t>fu</t></rPh></si></sst>"
    ).encode()
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>行</t><r><t>内</t></r><rPh><t>x</t></rPh></is></c>'
        '<c r="D1" t="str"><f>A1</f><v>公式值</v></c><c r="E1" t="b"><v>1</v></c>'
        '<c r="F1" t="e"><v>#N/A</v></c><c r="G1"><v>2.5</v></c><c><v>7</v></c></row>'
        # Prefixed tags, a tail after a child, a cell without <v>, a gap of columns.
        '<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="3">'
        '<x:c r="B3"><x:v>1<x:y/>2</x:v></x:c><x:c/><x:c r="E3" t="inlineStr">'
        "<x:is><x:t>前</x:t></x:is></x:c></x:row>"
    )
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["a"]])))
    members = {info.filename: original.read(info) for info in original.infolist()}
    members["xl/worksheets/sheet1.xml"] = sheet_xml(rows)
    members["xl/sharedStrings.xml"] = strings
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )

    table = read_table(zip_with(members))

    assert table.headers == ["共享", "富文本", "行内", "公式值", "True", "#N/A", "2.5", "7"]
    assert table.rows == [Row(3, [None, 1, None, None, "前", None, None, None])]


# --- headers --------------------------------------------------------------------------------
COLUMNS = {
    "employee_no": ("工号", "No.", "employee no"),
    "name": ("姓名",),
    "wechat_id": ("微信号", "wechat"),
}


def test_headers_map_by_alias_ignoring_case_spaces_and_width():
    mapping = map_headers(["  NO. ", "姓 名", "ＷｅＣｈａｔ"], COLUMNS, required=["employee_no"])

    assert mapping == {"employee_no": 0, "name": 1, "wechat_id": 2}


def test_field_name_is_an_alias_too():
    assert map_headers(["Employee_No"], COLUMNS) == {"employee_no": 0}


def test_missing_required_columns_are_listed_in_one_message():
    message = ERROR_MISSING_COLUMNS.format(columns="工号、姓名")
    with pytest.raises(SpreadsheetError, match=re.escape(message)) as caught:
        map_headers(["微信号"], COLUMNS, required=["employee_no", "name"])

    assert str(caught.value) == message


def test_unknown_and_repeated_columns_are_reported_together():
    repeated = "「工号」列出现了不止一次（A、B 列）"
    with pytest.raises(SpreadsheetError, match=re.escape(repeated)) as caught:
        map_headers(["工号", "No.", "备注"], COLUMNS)

    message = str(caught.value)
    assert repeated in message
    assert "无法识别的列：「备注」" in message
    assert "可用的列：工号、姓名、微信号" in message


def test_unknown_columns_can_be_ignored():
    assert map_headers(["工号", "备注"], COLUMNS, ignore_unknown=True) == {"employee_no": 0}


# --- writing --------------------------------------------------------------------------------
def test_written_xlsx_reads_back_with_types_and_never_a_formula():
    rows = [["E001", '=HYPERLINK("http://x","y")', 5, date(2024, 3, 1), None]]

    data = write_xlsx(["工号", "姓名", "职级", "离职日期", "微信号"], rows, text_columns={0})

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["B2"].data_type == "s"
    assert sheet["C2"].value == 5
    assert sheet["D2"].value.date() == date(2024, 3, 1)
    assert sheet.column_dimensions["A"].number_format == "@"
    assert read_table(data).rows[0].values[1] == '=HYPERLINK("http://x","y")'


def test_sheet_names_excel_refuses_are_made_safe():
    data = write_xlsx(["工号"], [["E001"]], title="生产部/一车间: 待办 [第1周]" * 3)

    title = openpyxl.load_workbook(io.BytesIO(data)).sheetnames[0]
    assert title.startswith("生产部-一车间- 待办 -第1周-生产部")
    assert len(title) == 31


def test_written_csv_has_a_bom_for_excel():
    data = write_csv(["工号", "姓名"], [["E001", "张三"]])

    assert data.startswith(b"\xef\xbb\xbf")
    assert read_table(data).rows[0].values == ["E001", "张三"]


def test_import_formats_read_bytes_whatever_was_picked():
    for data in (xlsx_bytes(ROWS), csv_bytes(ROWS, encoding="gbk")):
        for import_format in (XLSXFormat(), CSVFormat()):
            assert import_format.is_binary()
            dataset = import_format.create_dataset(data)
            assert isinstance(dataset, TableDataset)
            assert dataset.headers == ["工号", "姓名", "部门"]
            assert dataset.row_numbers == [2, 3]
