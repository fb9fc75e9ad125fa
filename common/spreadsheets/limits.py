"""What an uploaded table may be, and the refusals when it is not (docs/performance.md).

The caps follow docs/security.md, 2: ratio and size checks are not enough, so
every row read, every cell parsed and every byte inflated counts, and reading stops at the
first cap. The readers (``reading.py``, ``xlsx.py``) look the caps up here as ``limits.X`` at
the time they read, so that a test can lower one cap in one place.
"""

from __future__ import annotations

from common.exceptions import ServiceError


class SpreadsheetError(ServiceError, ValueError):
    """The upload cannot be read as a table; the message says why, in words a clerk acts on.

    Also a ValueError, as it always was: django-import-export and the commands' callers
    catch it as one."""


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
# Each part has its own cap, checked on the zip directory and again on the
# bytes really inflated. The 50,000-row sheet above is 28 MB; its shared strings a few MB.
XLSX_MAX_SHEET_BYTES = 128 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
XLSX_MAX_PART_BYTES = 16 * 1024 * 1024  # workbook, styles, relationships
# Distinct texts in the shared-strings table: a 50,000-row employee sheet has ~200,000 (names,
# WeChat ids); the hostile file first reported had 4 million.
XLSX_MAX_SHARED_STRINGS = 500_000
# Rows read beyond the data-row cap (header, blank rows, spaces-only rows):
# a whitespace sheet of 1,048,575 rows held a request 142 s because blank rows never counted.
BLANK_ROWS_ALLOWED = 1_000
# Cells parsed (every <c>, empty or not; every CSV field): at most CELLS_PER_ROW for each row
# the caps let through, and never more than MAX_CELLS. A 50,000-row employee sheet has
# ~600,000 and reads in ~8 s of CPU (docs/performance.md); a roster (2,000 rows) at most 90,000.
MAX_CELLS = 1_000_000
CELLS_PER_ROW = 30
# Text kept from one sheet: shared strings let a small file repeat one long text in every cell.
MAX_TEXT_CHARS = 32 * 1024 * 1024
