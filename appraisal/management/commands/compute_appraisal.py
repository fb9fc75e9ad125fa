"""python manage.py compute_appraisal --period 2026-11 [--lock]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from appraisal.services import AppraisalError, period_compute, period_get_or_create, period_lock
from common.actors import SystemActor

# The operator at the command line acts as the system (common.actors): recorded as no person.
ACTOR = SystemActor("command:compute_appraisal")


class Command(BaseCommand):
    help = "计算一个考核期间（月度 2026-11 或季度 2026-Q4）的扣分和得分；可重复运行。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", required=True, help="如 2026-11 或 2026-Q4")
        parser.add_argument("--lock", action="store_true", help="计算后锁定（之后不再改变）")

    def handle(self, *args, period: str, lock: bool, **options) -> None:
        try:
            target = period_get_or_create(code=period)
            summary = period_compute(period=target, actor=ACTOR)
            if lock:
                period_lock(period=target, actor=ACTOR)
        except AppraisalError as exc:  # a bad code (PeriodCodeError) too
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{summary.period}：{summary.employees} 名员工，扣分明细 {summary.lines} 条，"
            f"调整 {summary.adjustments} 条，扣分合计 {summary.deducted}"
            + ("；已锁定。" if lock else "。")
        )
