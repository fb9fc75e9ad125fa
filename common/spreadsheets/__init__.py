"""Uploaded tables (xlsx or CSV) read safely, and tables written back for download.

One module per concept:

- ``cells``   — one cell: its text, date or yes/no (``CellError``), formula escaping (OWASP);
- ``limits``  — the caps on a hostile file and the refusals (``SpreadsheetError``);
- ``xlsx``    — the first sheet of a workbook, streamed under the caps;
- ``reading`` — ``read_table()``: any upload (xlsx or CSV) into a ``Table``, or a refusal;
- ``headers`` — a file's header row matched to the columns an importer knows;
- ``writing`` — ``write_xlsx()`` and ``write_csv()`` for downloads, never a formula;
- ``formats`` — the same reading and writing for django-import-export in the admin.

The names most callers need are re-exported here.
"""

from common.spreadsheets.cells import (
    Cell,
    cell_text,
    escape_formula,
    normalize_text,
    parse_date_cell,
    parse_yes_no,
    unescape_formula,
)
from common.spreadsheets.formats import (
    SPREADSHEET_FORMATS,
    SpreadsheetImportForm,
    TableDataset,
    validate_upload_size,
)
from common.spreadsheets.headers import header_key, map_headers
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import Row, Table, check_size, read_table, read_upload_file
from common.spreadsheets.writing import write_csv, write_xlsx

__all__ = [
    "SPREADSHEET_FORMATS",
    "Cell",
    "Row",
    "SpreadsheetError",
    "SpreadsheetImportForm",
    "Table",
    "TableDataset",
    "cell_text",
    "check_size",
    "escape_formula",
    "header_key",
    "map_headers",
    "normalize_text",
    "parse_date_cell",
    "parse_yes_no",
    "read_table",
    "read_upload_file",
    "unescape_formula",
    "validate_upload_size",
    "write_csv",
    "write_xlsx",
]
