"""python manage.py import_roster --group CODE FILE [--taken-at ISO8601] [--no-reconcile]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common.actors import SystemActor
from common.spreadsheets.limits import SpreadsheetError
from common.spreadsheets.reading import read_upload_file
from groups.models import ChatGroup
from groups.services import reconcile_start
from groups.services.roster import RosterImportError, roster_snapshot_import

# The operator acting on the system's account: recorded as no one (系统), like the nightly run.
ACTOR = SystemActor("command:import_roster")

ERROR_BAD_TAKEN_AT = (
    "--taken-at 应为 ISO 8601 时间，如 2026-11-26T09:30 或 2026-11-26T09:30+08:00。"
)


class Command(BaseCommand):
    help = "导入一个微信群的成员名单（xlsx/csv），保存为快照并立即核对。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", required=True, help="微信群代码，如 management")
        parser.add_argument("file", help="成员名单文件：xlsx 或 csv（UTF-8 / GBK）")
        parser.add_argument("--taken-at", help="采集时间（ISO 8601）；默认现在")
        parser.add_argument("--no-reconcile", action="store_true", help="只保存快照，不立即核对")

    def handle(self, *args, group: str, file: str, taken_at: str | None, **options) -> None:
        chat_group = ChatGroup.objects.filter(code=group).first()
        if chat_group is None:
            raise CommandError(f"没有代码为 {group} 的微信群。")
        when = None
        if taken_at:
            when = parse_datetime(taken_at)
            if when is None:
                raise CommandError(ERROR_BAD_TAKEN_AT)
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {file}")
        try:
            # docs/security.md, 2: the size is checked before the file is read (it read 200 MB).
            data = read_upload_file(path)
        except (OSError, SpreadsheetError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise CommandError(f"无法读取文件 {file}：{reason}") from error
        try:
            snapshot = roster_snapshot_import(
                group=chat_group, data=data, filename=path.name, taken_at=when, actor=ACTOR
            )
        except RosterImportError as exc:
            raise CommandError("名单未导入：\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(
            f"{chat_group.name}：已保存快照 #{snapshot.pk}，{snapshot.member_count} 名成员。"
        )
        if not options["no_reconcile"]:
            # Recorded as a run, as the admin's upload is; reconciled here, not queued.
            run = reconcile_start(snapshot=snapshot, actor=ACTOR, in_process=True)
            summary = run.summary
            counts = summary.get("counts") or {}
            counts_text = "，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "无问题"
            self.stdout.write(
                f"核对完成：新增问题 {summary.get('opened', 0)}，"
                f"已解决 {summary.get('resolved', 0)}；{counts_text}"
            )
