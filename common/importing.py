"""django-import-export results in words a clerk reads: one line per problem, a summary."""

from __future__ import annotations

from collections.abc import Callable

from import_export.results import Result, RowResult

ROW_ERROR = "第{row}行：{message}"
SUMMARY = "新增 {new} / 更新 {updated} / 未变 {unchanged}"


def import_summary(result: Result) -> str:
    return SUMMARY.format(
        new=result.totals[RowResult.IMPORT_TYPE_NEW],
        updated=result.totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=result.totals[RowResult.IMPORT_TYPE_SKIP],
    )


def import_error_lines(result: Result) -> list[str]:
    """Every error of an import, one line each (第3行「人员类别」：……), file errors first."""
    lines = [str(error.error) for error in result.base_errors]
    by_row: list[tuple[int, str]] = []
    for error_row in result.error_rows:  # unexpected failures, not a cell's fault
        for error in error_row.errors:
            by_row.append(
                (error_row.number, ROW_ERROR.format(row=error_row.number, message=error.error))
            )
    for invalid in result.invalid_rows:  # messages already name their row and column
        for messages in invalid.error_dict.values():
            by_row.extend((invalid.number, message) for message in messages)
    by_row.sort(key=lambda item: item[0])
    return lines + [line for _, line in by_row]


def renumber_rows(result: Result, sheet_row: Callable[[int], int]) -> None:
    """Give the result's invalid and failed rows the numbers Excel shows.

    django-import-export numbers data rows from 1; a clerk reads the sheet's row
    numbers (header = row 1, blank lines skipped), which ``sheet_row`` maps to.
    """
    for invalid in result.invalid_rows:
        invalid.number = sheet_row(invalid.number)
    for error_row in result.error_rows:
        error_row.number = sheet_row(error_row.number)
        for error in error_row.errors:
            error.number = error_row.number
