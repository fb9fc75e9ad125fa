"""One cell of an uploaded table: its text, its date or yes/no, and formula escaping.

Excel, WPS and LibreOffice give a cell as text, a number, a date or a boolean; what a user
typed with a Chinese input method arrives in full width. These functions turn a cell into the
plain value the importers compare, and refuse one that cannot be read with a ``CellError``
whose Chinese message the importer reports against the row.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

from common.exceptions import CellError

Cell = str | int | float | date | None  # datetime is a date; bool is an int

ERROR_BAD_DATE = "无法识别的日期“{value}”：请填写如 2024-03-01、2024/3/1 或 2024年3月1日。"
ERROR_BAD_YES_NO = "无法识别“{value}”：请填“是”或“否”（也可填 Y/N、1/0、true/false），或留空。"

# Full-width letters, digits and spaces as typed with a Chinese input method, to their ASCII
# forms (their NFKC forms); CJK text, Chinese punctuation and emoji (with their joiners and
# variation selectors) stay as they are.
_HALF_WIDTH: dict[int, str | None] = {
    code: unicodedata.normalize("NFKC", chr(code))
    for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_HALF_WIDTH |= {0x3000: " ", 0x00A0: " ", 0x200B: None, 0xFEFF: None}
# Whether a text has any of them: str.translate looks every character up (1.8 µs for a
# 12-character department path), a search is C-speed (0.25 µs); most cells have none.
_HAS_WIDE = re.compile("[" + "".join(re.escape(chr(code)) for code in _HALF_WIDTH) + "]")

# OWASP "CSV injection": a cell starting with one of these may run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
# Characters a reader skips before a formula without showing them (docs/security.md, 8): format
# characters (U+200B-U+200F, U+2060, BOM, soft hyphen, bidi controls), every kind of space
# (NBSP, U+3000), line and paragraph separators, other control characters.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})

_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
)
_YES = {"是", "y", "yes", "true", "1"}
_NO = {"否", "n", "no", "false", "0"}


def normalize_text(value: str) -> str:
    """Trim, and turn full-width letters, digits and spaces into ASCII ('ＡＢ１２' -> 'AB12')."""
    if value.isascii() or not _HAS_WIDE.search(value):
        return value.strip()
    return value.translate(_HALF_WIDTH).strip()


def cell_text(value: object) -> str:
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
    """Prefix ' to text a spreadsheet would run as a formula (OWASP; docs/security.md, 8).

    The test is made on the normalised text, so that "\u200b=cmd" (which
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
    raise CellError(ERROR_BAD_DATE.format(value=text))


def parse_yes_no(value: Cell) -> bool | None:
    """是/否, Y/N, yes/no, 1/0, true/false (any case), a real boolean; blank gives None."""
    text = cell_text(value).casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(ERROR_BAD_YES_NO.format(value=cell_text(value)))


def clean_cell(value: object) -> Cell:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return normalize_text(value) or None
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()  # what Excel calls a date is a datetime at midnight to openpyxl
    if isinstance(value, date):
        return value
    if isinstance(value, time | timedelta):
        return str(value)
    return normalize_text(str(value)) or None
