"""The cells of finance's settlement sheet: amounts in yuan, 扣分合计, 考核期间.

Each parser returns the value or raises a ``CellError`` whose message is the part of a row's
error after its column ("不能为负数：-5"); the plan (``plan.py``) locates it with the row.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from common.exceptions import CellError
from common.spreadsheets.cells import Cell, cell_text, unescape_formula

MSG_REQUIRED = "不能为空"
MSG_NOT_A_NUMBER = "应是数字，“{value}”不是"
MSG_NEGATIVE = "不能为负数：{value}"
MSG_TOO_MANY_DECIMALS = "最多两位小数（精确到分）：{value}"
MSG_TOO_LARGE = "超出上限 99999999.99：{value}"

CENT = Decimal("0.01")
ZERO = Decimal("0")
AMOUNT_LIMIT = Decimal("100000000")  # Settlement.amount: 10 digits, 2 of them decimals

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")  # 1,234.50 as Excel shows money
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")  # 2026-11, 2026/11, 2026年11月
_QUARTER = re.compile(r"(\d{4})\s*-?\s*[Qq]([1-4])")  # 2026-Q4, 2026Q4


def parse_number(value: Cell) -> Decimal | None:
    """A number cell as a Decimal (None if blank); CellError if it is not a number.

    Excel keeps 15 significant digits: a float is read as Excel shows it (0.1+0.2 is 0.3).
    Text may carry ¥, 元 and thousands separators, as money copied from a sheet does.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool | date):
        raise CellError(cell_text(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(cell_text(value))
        return Decimal(format(value, ".15g"))
    text = cell_text(value)
    bare = text.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if _GROUPED.fullmatch(bare):
        bare = bare.replace(",", "")
    if not _NUMBER.fullmatch(bare):
        raise CellError(text)
    return Decimal(bare)


def show_amount(number: Decimal) -> str:
    """3 -> '3.00'; a value with more decimals (or too long to round) is shown as written."""
    try:
        return f"{number:.2f}" if number == number.quantize(CENT) else format(number, "f")
    except InvalidOperation:
        return format(number, "f")


def parse_amount(value: Cell) -> Decimal:
    """扣款金额: yuan, not negative, to the fen; CellError with the message otherwise."""
    try:
        amount = parse_number(value)
    except CellError as error:
        raise CellError(MSG_NOT_A_NUMBER.format(value=error)) from None
    if amount is None:
        raise CellError(MSG_REQUIRED)
    if amount < ZERO:
        raise CellError(MSG_NEGATIVE.format(value=cell_text(value)))
    if amount >= AMOUNT_LIMIT:
        raise CellError(MSG_TOO_LARGE.format(value=cell_text(value)))
    if amount != amount.quantize(CENT):
        raise CellError(MSG_TOO_MANY_DECIMALS.format(value=cell_text(value)))
    return amount.quantize(CENT) + ZERO  # + 0 turns -0.00 into 0.00


def sheet_text(value: Cell) -> str:
    """Text as our exports write it (a formula-looking text is escaped with ')."""
    return unescape_formula(cell_text(value))


def parse_period_code(value: Cell) -> str:
    """A 考核期间 cell as a period code: Excel turns a typed 2026-11 into a date."""
    if isinstance(value, date):
        return f"{value.year}-{value.month:02d}"
    text = cell_text(value)
    if match := _MONTH.fullmatch(text):
        return f"{match[1]}-{int(match[2]):02d}"
    if match := _QUARTER.fullmatch(text):
        return f"{match[1]}-Q{match[2]}"
    return text
