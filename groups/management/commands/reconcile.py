"""python manage.py reconcile [--group CODE] [--json] — reconcile the latest snapshots now."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from common.actors import SystemActor
from groups.models import ChatGroup
from groups.selectors import findings_for_report
from groups.services import reconcile_now


class Command(BaseCommand):
    help = "按入群条件核对各群最新的成员快照，生成核对问题和群主待办（§4、§5）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", help="只核对这个群（代码，如 management）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, group: str | None, **options) -> None:
        groups = None
        if group:
            found = ChatGroup.objects.filter(code=group).first()
            if found is None:
                codes = ", ".join(ChatGroup.objects.values_list("code", flat=True))
                raise CommandError(f"没有代码为 {group} 的微信群。已有：{codes}")
            groups = [found]
        results = reconcile_now(groups=groups, actor=SystemActor("command:reconcile"))
        if group and not results:
            raise CommandError(f"{group} 还没有成员快照；先用 import_roster 导入。")
        if options["json"]:
            self._print_json(results)
        else:
            self._print_text(results)

    def _print_json(self, results) -> None:
        runs = [
            {
                "group": r.snapshot.group.code,
                "snapshot": r.snapshot.pk,
                "findings": findings_for_report(group=r.snapshot.group, snapshot=r.snapshot),
            }
            for r in results
        ]
        self.stdout.write(json.dumps({"runs": runs}, ensure_ascii=False, indent=2))

    def _print_text(self, results) -> None:
        if not results:
            self.stdout.write("没有可核对的成员快照。")
        for r in results:
            counts = "，".join(f"{k} {v}" for k, v in sorted(r.counts.items())) or "无问题"
            line = (
                f"{r.snapshot.group.name}（快照 #{r.snapshot.pk}）：新增 {r.opened}，"
                f"仍存在 {r.kept}，已解决 {r.resolved}；{counts}"
            )
            if r.note:
                line += f"（{r.note}）"
            self.stdout.write(line)
