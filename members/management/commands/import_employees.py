"""python manage.py import_employees FILE [--dry-run] | --template OUT.xlsx

Imports the employee sheet (xlsx or CSV, the same file the admin takes) through the same
resource and services as the admin. Any error: every error is printed, one per line, and
nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.actors import SystemActor
from common.spreadsheets import SpreadsheetError, read_upload_file
from members import importing

# The operator at the command line acts as the system (common.actors): a 登录账号 column
# links logins without members.invite_employee, and history records no person.
ACTOR = SystemActor("command:import_employees")

ERROR_NO_FILE = "请指定要导入的文件，或用 --template 生成导入模板。"
ERROR_CANNOT_READ = "无法读取文件“{path}”：{reason}"
ERROR_IMPORT_FAILED = "导入失败：共 {count} 处错误，没有写入任何数据。"
DONE = "导入完成：{summary}。"
DONE_DRY_RUN = "试运行（没有写入任何数据）：{summary}。"
TEMPLATE_WRITTEN = "已生成导入模板：{path}"


class Command(BaseCommand):
    help = "从 Excel（.xlsx）或 CSV 文件导入员工表；有任何错误则什么都不写入。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", help="员工表（.xlsx 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告结果，不写入数据库")
        parser.add_argument("--template", metavar="OUT.xlsx", help="把导入模板写到这个文件")

    def handle(self, *args, file: str | None, dry_run: bool, template: str | None, **options):
        if template:
            Path(template).write_bytes(importing.employee_import_template())
            self.stdout.write(TEMPLATE_WRITTEN.format(path=template))
        if not file:
            if template:
                return
            raise CommandError(ERROR_NO_FILE)
        path = Path(file)
        try:
            data = read_upload_file(path)  # the size checked before reading (docs/security.md, 2)
        except (OSError, SpreadsheetError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise CommandError(ERROR_CANNOT_READ.format(path=file, reason=reason)) from error
        report = importing.employee_import_file(
            data=data, filename=path.name, dry_run=dry_run, actor=ACTOR
        )
        if report.errors:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(ERROR_IMPORT_FAILED.format(count=len(report.errors)))
        done = DONE_DRY_RUN if dry_run else DONE
        self.stdout.write(self.style.SUCCESS(done.format(summary=report.summary)))
