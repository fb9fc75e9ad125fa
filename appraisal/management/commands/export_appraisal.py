"""python manage.py export_appraisal --period 2026-11 --output 2026-11.xlsx"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from appraisal.exceptions import PeriodCodeError
from appraisal.exports import ExportSummary, period_workbook
from appraisal.models import ERROR_PERIOD_CODE, Period, period_bounds

ERROR_UNKNOWN_PERIOD = "考核期间 {code} 不存在：请先在后台建立并计算它（compute_appraisal）。"
ERROR_NO_DIRECTORY = "目录不存在：{directory}"
NOT_FINAL = "注意：本期尚未锁定，结果在锁定前还可能改变。"


class Command(BaseCommand):
    help = "把一个考核期间导出为 xlsx（汇总、明细、部门三张表）；任何状态都可以导出。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", required=True, help="如 2026-11 或 2026-Q4")
        parser.add_argument("--output", required=True, type=Path, help="要写入的 .xlsx 文件")

    def handle(self, *args, period: str, output: Path, **options) -> None:
        try:
            period_bounds(period)
        except PeriodCodeError as exc:
            raise CommandError(ERROR_PERIOD_CODE) from exc
        target = Period.objects.filter(code=period).first()
        if target is None:
            raise CommandError(ERROR_UNKNOWN_PERIOD.format(code=period))
        summary = _export_atomically(target, output)
        self.stdout.write(
            f"{summary.period}（{target.get_state_display()}）：汇总 {summary.results} 行，"
            f"明细 {summary.lines} 行，部门 {summary.departments} 行，已写入 {output}。"
        )
        if not summary.locked:
            self.stdout.write(NOT_FINAL)


def _export_atomically(period: Period, output: Path) -> ExportSummary:
    """Write next to ``output`` and rename: a failed export leaves no half-written file."""
    directory = output.resolve().parent
    if not directory.is_dir():
        raise CommandError(ERROR_NO_DIRECTORY.format(directory=directory))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=".xlsx")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's file is private; an export is not
        with os.fdopen(handle, "wb") as file:
            summary = period_workbook(period, file)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return summary
