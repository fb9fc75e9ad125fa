"""Delete import previews nobody confirmed (docs/security.md, 4), as the nightly beat task does."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from common.import_files import ABANDONED_AFTER, import_files_sweep


class Command(BaseCommand):
    help = "删除超过期限仍未确认的导入预览文件（员工导入、财务扣款表导入）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=int,
            default=int(ABANDONED_AFTER.total_seconds() // 3600),
            help="只删除保存超过这么多小时的文件（默认 24，与预览的有效期相同）。",
        )

    def handle(self, *args, older_than_hours: int, **options):
        if older_than_hours < 1:  # 0 would delete the preview a clerk is looking at
            raise CommandError("--older-than-hours 至少为 1。")
        removed = import_files_sweep(older_than=dt.timedelta(hours=older_than_hours))
        self.stdout.write(f"已删除 {removed} 个未确认的导入预览文件。")
