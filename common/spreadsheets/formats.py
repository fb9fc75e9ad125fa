"""The admin's django-import-export import and export, read and written through this package.

The library's own CSV format decodes with one encoding and its xlsx format has none of the
checks of ``reading.py``; these formats get the bytes and read them with ``read_table()``, and
write with ``writing.py``.
"""

from __future__ import annotations

import tablib
from django import forms
from import_export.formats.base_formats import TablibFormat
from import_export.forms import ImportForm

from common import import_files  # the module: it imports this package's reader
from common.downloads import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import Table, check_size
from common.spreadsheets.writing import write_csv, write_xlsx


class TableDataset(tablib.Dataset):
    """A tablib Dataset made from a Table, remembering each row's spreadsheet row number."""

    def __init__(self, table: Table) -> None:
        # Rows given to the constructor, not append()ed one by one: append validates each
        # row's width again (read_table made them all as wide as the headers).
        super().__init__(*(row.values for row in table.rows), headers=list(table.headers))
        self.row_numbers = [row.number for row in table.rows]
        # The table it was made from, for a resource that reads rows as a Table again
        # (appraisal.resources): tablib copied every row, so the table is as read.
        self.table = table


class SpreadsheetFormat(TablibFormat):
    """An import format that reads through read_table(), whichever format the user picked.

    The library's own CSV format decodes with one encoding and its xlsx format has none of
    the checks above; these get the bytes (is_binary) and sniff them.
    """

    def create_dataset(self, in_stream: bytes | str, **kwargs) -> TableDataset:
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else bytes(in_stream)
        # read_table(), or in the admin's confirmation the table its preview parsed
        # (common.import_files: the same bytes, parsed once).
        return TableDataset(import_files.read_table_kept(data))

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"


class XLSXFormat(SpreadsheetFormat):
    TABLIB_MODULE = "tablib.formats._xlsx"
    CONTENT_TYPE = XLSX_CONTENT_TYPE

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return write_xlsx(dataset.headers or [], dataset)


class CSVFormat(SpreadsheetFormat):
    TABLIB_MODULE = "tablib.formats._csv"
    CONTENT_TYPE = CSV_CONTENT_TYPE

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return write_csv(dataset.headers or [], dataset)


SPREADSHEET_FORMATS = [XLSXFormat, CSVFormat]


def validate_upload_size(upload):
    """A form's clean_<file>: refuse an oversized upload before anything reads it
    (Django's upload settings do not cap file data: docs/security.md, 2)."""
    try:
        check_size(upload.size)
    except SpreadsheetError as error:
        raise forms.ValidationError(str(error)) from error
    return upload


class SpreadsheetImportForm(ImportForm):
    """The admin's import form, refusing an oversized file before anything reads it."""

    def clean_import_file(self):
        return validate_upload_size(self.cleaned_data["import_file"])
