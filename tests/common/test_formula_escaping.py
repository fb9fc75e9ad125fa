"""docs/security.md, 8: formula escaping decides on the normalised text, for every export.

A zero-width space (or BOM, NBSP, joiner, bidi mark...) before "=" hid the formula from the
escaping, and write_csv() then dropped it, so the employee CSV export wrote a live "=cmd".
The group to-do and appraisal exports are tested in their own apps' tests.
"""

from __future__ import annotations

import csv
import io

import pytest

from common.spreadsheets.cells import cell_text, escape_formula, unescape_formula
from common.spreadsheets.formats import CSVFormat
from common.spreadsheets.writing import write_csv
from members.resources import EmployeeResource
from tests.factories import EmployeeFactory

# Zero-width space, BOM, NBSP, zero-width joiner, word joiner, soft hyphen, right-to-left
# override, ideographic space, an ordinary space, a line feed.
INVISIBLE = [
    "\u200b",
    "\ufeff",
    "\u00a0",
    "\u200d",
    "\u2060",
    "\u00ad",
    "\u202e",
    "\u3000",
    " ",
    "\n",
]
PAYLOAD = "=cmd|' /C calc'!A0"


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("invisible", INVISIBLE)
@pytest.mark.parametrize("trigger", ["=", "+", "-", "@"])
def test_a_formula_behind_invisible_characters_is_escaped(invisible, trigger):
    text = invisible + trigger + "1+1"

    assert escape_formula(text) == "'" + text
    assert unescape_formula(escape_formula(text)) == text
    assert escape_formula(invisible + "张三") == invisible + "张三"  # no formula, no quote


@pytest.mark.parametrize("text", ["＝1+1", "＋86", "＠SUM(A1)", "\u200b＝1+1"])
def test_a_full_width_formula_is_escaped(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_written_csv_escapes_after_normalising(invisible):
    data = write_csv(["姓名", "职级"], [[invisible + PAYLOAD, -5]])

    escaped = csv_cells(data)[1]
    assert escaped == ["'" + cell_text(invisible + PAYLOAD), "-5"]
    # and it imports back as the normalised text
    assert unescape_formula(cell_text(escaped[0])) == cell_text(invisible + PAYLOAD)


@pytest.mark.django_db
@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u00a0"])
def test_employee_csv_export_never_writes_a_formula_behind_a_zero_width_character(invisible):
    EmployeeFactory(employee_no="E001", name=invisible + PAYLOAD, phone="\u200b+8613800000000")

    data = CSVFormat().export_data(EmployeeResource().export())

    header, row = csv_cells(data)
    cells = dict(zip(header, row, strict=True))
    # A quote first, so that no spreadsheet runs it; and it imports back as the formula text.
    assert cells["姓名"].startswith("'")
    assert cell_text(unescape_formula(cell_text(cells["姓名"]))) == PAYLOAD
    assert cells["手机号"] == "'+8613800000000"
