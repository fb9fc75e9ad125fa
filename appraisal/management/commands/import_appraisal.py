"""python manage.py import_appraisal FILE --period 2026-11 [--dry-run] [--user NAME]

Imports finance's settlement sheet (the 汇总 sheet of a locked period with 扣款金额 and 备注
added; xlsx or CSV, the file the admin takes) through the same service as the admin. Any
error: every error is printed, one per line, nothing is written, and the command fails.
Otherwise it prints each updated row (old → new), each new row too with -v 2, and a summary.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from appraisal.exceptions import PeriodCodeError
from appraisal.models import Period, period_bounds
from appraisal.services.settlements import NEW, settlement_import
from common.actors import Actor, SystemActor
from common.spreadsheets import SpreadsheetError, read_upload_file

ERROR_NO_PERIOD = "考核期间 {code} 不存在。"
ERROR_NO_USER = "用户“{username}”不存在。"
ERROR_CANNOT_READ = "无法读取文件“{path}”：{reason}"
ERROR_IMPORT_FAILED = "导入失败：共 {count} 处错误，没有写入任何数据。"
DONE = "导入完成（导入记录 #{pk}）：{summary}。"
DONE_DRY_RUN = "试运行（没有写入任何数据）：{summary}。"


class Command(BaseCommand):
    help = (
        "导入财务扣款表（已锁定考核期间的汇总表，加“扣款金额”“备注”两列）；"
        "有任何错误则什么都不写入。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="财务扣款表（.xlsx 或 .csv）")
        parser.add_argument("--period", required=True, help="考核期间，如 2026-11 或 2026-Q4")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告结果，不写入数据库")
        parser.add_argument("--user", help="记为导入人的用户名（须有导入财务扣款表的权限）")

    def handle(self, *args, file: str, period: str, dry_run: bool, user: str | None, **options):
        try:
            period_bounds(period)
        except PeriodCodeError as error:
            raise CommandError(str(error)) from error
        target = Period.objects.filter(code=period).first()
        if target is None:
            raise CommandError(ERROR_NO_PERIOD.format(code=period))
        # Without --user the operator acts as the system (common.actors): no importer recorded.
        actor: Actor = SystemActor("command:import_appraisal")
        if user:
            named = get_user_model().objects.filter(username=user).first()
            if named is None:
                raise CommandError(ERROR_NO_USER.format(username=user))
            actor = named
        path = Path(file)
        try:
            data = read_upload_file(path)  # the size checked before reading (docs/security.md, 2)
        except (OSError, SpreadsheetError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise CommandError(ERROR_CANNOT_READ.format(path=file, reason=reason)) from error
        try:
            report = settlement_import(
                period=target, data=data, filename=path.name, actor=actor, dry_run=dry_run
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        if report.errors:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(ERROR_IMPORT_FAILED.format(count=len(report.errors)))
        for change in report.changes:
            if change.change != NEW or options["verbosity"] >= 2:
                self.stdout.write(str(change))
        if dry_run:
            done = DONE_DRY_RUN.format(summary=report.summary)
        else:
            done = DONE.format(pk=report.settlement_import.pk, summary=report.summary)
        self.stdout.write(self.style.SUCCESS(done))
