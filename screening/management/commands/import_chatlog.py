"""python manage.py import_chatlog --group CODE FILE — read an exported group chat and screen it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.actors import SystemActor
from groups.models import ChatGroup
from screening.readers import ChatLogError
from screening.services import chatlog_import

# The operator acting on the system's account: recorded as no one (系统), as import_roster is.
ACTOR = SystemActor("command:import_chatlog")


class Command(BaseCommand):
    help = (
        "导入一个微信群的聊天记录（微信电脑版导出的 CSV/Excel、企业微信会话存档 JSON 行，"
        "或本系统模板），按筛查规则筛查，命中的提出待审核案件。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", required=True, help="微信群代码，如 work")
        parser.add_argument("file", help="聊天记录文件（UTF-8 / GBK）")
        parser.add_argument(
            "--room",
            default="",
            help="会话 ID（微信 TalkerId / 企业微信 roomid）：文件含多个群聊时只导入这一个",
        )

    def handle(self, *args, group: str, file: str, room: str, **options) -> None:
        chat_group = ChatGroup.objects.filter(code=group).first()
        if chat_group is None:
            raise CommandError(f"没有代码为 {group} 的微信群。")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {file}")
        try:
            # Streamed from disk: the file is never read whole (docs/screening.md, 导入).
            with path.open("rb") as handle:
                result = chatlog_import(
                    group=chat_group, file=handle, filename=path.name, actor=ACTOR, room=room
                )
        except OSError as error:
            raise CommandError(f"无法读取文件 {file}：{error.strerror}") from error
        except ChatLogError as error:
            raise CommandError(f"聊天记录未导入：{error.message}") from error
        self.stdout.write(
            f"{chat_group.name}：读取 {result.rows_read} 行，新消息 {result.messages_new} 条，"
            f"已导入过 {result.messages_duplicate} 条；命中 {result.hits} 条，"
            f"提出待审核案件 {result.cases_proposed} 件；"
            f"未匹配到员工的发言人 {result.senders_unmatched} 个。"
        )
