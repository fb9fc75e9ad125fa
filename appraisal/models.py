"""Appraisal (§7.1, §7.2, §9.8): each period, every employee's deductions from confirmed cases.

A Period is computed into one Result per employee and one Line per counted case;
once locked it never changes: a correction confirmed later lands in the next
open period as an adjustment Line that names the period (and case) it corrects.
Finance returns the 汇总 sheet with the amounts deducted from pay; each row
becomes a Settlement, and every import is kept (SettlementImport).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from appraisal.exceptions import PeriodCodeError
from common.models import Transition

MONTH_CODE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_CODE = re.compile(r"^(\d{4})-Q([1-4])$")
ERROR_PERIOD_CODE = "考核期间应写作 2026-11（月度）或 2026-Q4（季度）。"


def period_bounds(code: str) -> tuple[str, dt.date, dt.date]:
    """'2026-11' -> (monthly, 2026-11-01, 2026-11-30); '2026-Q4' -> (quarterly, 10-01, 12-31);
    PeriodCodeError (ERROR_PERIOD_CODE) for anything else."""
    if match := MONTH_CODE.match(code):
        year, month = int(match[1]), int(match[2])
        first_month, months = month, 1
        kind = Period.Kind.MONTHLY
    elif match := QUARTER_CODE.match(code):
        year, quarter = int(match[1]), int(match[2])
        first_month, months = 3 * quarter - 2, 3
        kind = Period.Kind.QUARTERLY
    else:
        raise PeriodCodeError(ERROR_PERIOD_CODE)
    starts = dt.date(year, first_month, 1)
    after = first_month + months
    ends = dt.date(year + (after > 12), (after - 1) % 12 + 1, 1) - dt.timedelta(days=1)
    return kind, starts, ends


def period_after(code: str) -> str:
    """The code of the period of the same kind that follows: 2026-12 -> 2027-01,
    2026-Q4 -> 2027-Q1."""
    kind, _starts, ends = period_bounds(code)
    after = ends + dt.timedelta(days=1)
    if kind == Period.Kind.QUARTERLY:
        return f"{after.year}-Q{(after.month - 1) // 3 + 1}"
    return f"{after:%Y-%m}"


class Period(models.Model):
    class Kind(models.TextChoices):
        MONTHLY = "monthly", "月度"
        QUARTERLY = "quarterly", "季度"

    class State(models.TextChoices):
        OPEN = "open", "未计算"
        COMPUTED = "computed", "已计算"
        LOCKED = "locked", "已锁定"

    code = models.CharField(
        "考核期间", max_length=8, unique=True, help_text="如 2026-11 或 2026-Q4"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.MONTHLY)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    base_score = models.DecimalField(
        "基础分", max_digits=6, decimal_places=2, default=Decimal("100")
    )
    deduction_cap = models.DecimalField(
        "扣分上限",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="本期每人最多扣多少分；留空为不设上限。",
    )
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="计算人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="锁定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Written by period_compute with the rows, in its transaction (the only writer of a
    # period's results and lines): the periods list showed counts of ~337,000 rows per view.
    result_count = models.PositiveIntegerField("人数", default=0, editable=False)
    line_count = models.PositiveIntegerField("扣分明细", default=0, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "考核期间"
        verbose_name_plural = "考核期间"
        ordering = ["-starts_on"]
        permissions = [
            ("compute_period", "可以计算考核结果（人力资源部）"),
            ("lock_period", "可以锁定考核期间（人力资源部）"),
            ("export_period", "可以导出考核结果"),
            ("import_settlement", "可以导入财务扣款表"),
            ("view_fairness_report", "可以查看公平性报告（人力资源部、公司领导）"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="period_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        try:
            kind, starts, ends = period_bounds(self.code)
        except PeriodCodeError as exc:
            raise ValidationError({"code": str(exc)}) from exc
        self.kind, self.starts_on, self.ends_on = kind, starts, ends


class PeriodTransition(Transition):
    """The audit record of one change of a period's state (§7.1): who, when
    (common.models.Transition), why. Written by
    appraisal.services.periods, the one place a period's state changes; ``actor`` empty is
    the system (a task, a command, the demo)."""

    period = models.ForeignKey(
        Period, verbose_name="考核期间", on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField("原状态", max_length=10, choices=Period.State.choices)
    to_state = models.CharField("新状态", max_length=10, choices=Period.State.choices)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "考核期间记录"
        verbose_name_plural = "考核期间记录"
        ordering = ["period", "at", "pk"]


class GradeBand(models.Model):
    """'Grade if configured': the lowest final score that earns a grade."""

    grade = models.CharField("等级", max_length=8, unique=True)
    min_score = models.DecimalField("最低分", max_digits=6, decimal_places=2, unique=True)

    class Meta:
        verbose_name = "考核等级"
        verbose_name_plural = "考核等级"
        ordering = ["-min_score"]

    def __str__(self) -> str:
        return f"{self.grade}（≥{self.min_score}）"


class Result(models.Model):
    """One employee's summary for one period (a row of the 汇总 sheet)."""

    period = models.ForeignKey(
        Period, verbose_name="考核期间", on_delete=models.CASCADE, related_name="results"
    )
    employee = models.ForeignKey(
        "members.Employee", verbose_name="员工", on_delete=models.PROTECT, related_name="+"
    )
    # The department when computed: a locked period keeps the org chart it was computed on.
    department_path = models.CharField("部门", max_length=255)
    base_score = models.DecimalField("基础分", max_digits=6, decimal_places=2)
    deducted = models.DecimalField("扣分合计", max_digits=8, decimal_places=2)
    warnings = models.PositiveIntegerField("警告次数", default=0)
    final_score = models.DecimalField("最终得分", max_digits=8, decimal_places=2)
    grade = models.CharField("等级", max_length=8, blank=True)

    class Meta:
        verbose_name = "考核结果"
        verbose_name_plural = "考核结果"
        ordering = ["period", "employee__employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["period", "employee"], name="result_once_per_period")
        ]
        # The results list (appraisal.admin.results, LIST_ORDER): newest period first, and
        # each list filter followed by that order (docs/performance.md, 考核结果与扣分明细).
        # text_pattern_ops: the department filter's "生产部/%" is a LIKE on PostgreSQL.
        indexes = [
            models.Index(fields=["-period", "employee"], name="result_list_idx"),
            models.Index(
                fields=["department_path"],
                name="result_department_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["grade", "-period", "employee"], name="result_grade_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.employee}"


class Line(models.Model):
    """One counted case in a period (a row of the 明细 sheet), or an adjustment of a
    locked period's case (``corrects`` set; points may be negative)."""

    period = models.ForeignKey(
        Period, verbose_name="考核期间", on_delete=models.CASCADE, related_name="lines"
    )
    employee = models.ForeignKey(
        "members.Employee", verbose_name="员工", on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        "violations.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="+"
    )
    clause = models.CharField("条款", max_length=16)
    rule_title = models.CharField("条款名称", max_length=128)
    sanction = models.CharField("处分", max_length=16, blank=True)
    occurred_on = models.DateField("发生日期")
    points = models.DecimalField("扣分", max_digits=8, decimal_places=2)
    is_joint = models.BooleanField("连带责任", default=False)
    corrects = models.ForeignKey(
        Period,
        verbose_name="调整的期间",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments",
        db_index=False,  # line_corrects_idx: the few adjustments only
    )

    class Meta:
        verbose_name = "扣分明细"
        verbose_name_plural = "扣分明细"
        ordering = ["period", "employee_id", "occurred_on", "case_id"]
        constraints = [
            # One deduction line per employee, period and case: the idempotency key.
            models.UniqueConstraint(
                fields=["period", "case"],
                condition=Q(corrects__isnull=True),
                name="line_once_per_case",
            ),
            models.UniqueConstraint(
                fields=["period", "case", "corrects"],
                condition=Q(corrects__isnull=False),
                name="adjustment_once_per_case",
            ),
        ]
        # The lines list (appraisal.admin.results, LIST_ORDER): newest period first, and
        # each list filter followed by that order; the few joint lines and adjustments by
        # partial indexes (docs/performance.md, 考核结果与扣分明细).
        indexes = [
            models.Index(
                fields=["-period", "employee", "occurred_on", "case"], name="line_list_idx"
            ),
            models.Index(fields=["clause", "-period", "employee"], name="line_clause_idx"),
            models.Index(
                fields=["-period", "employee"], condition=Q(is_joint=True), name="line_joint_idx"
            ),
            models.Index(
                fields=["corrects", "-period", "employee"],
                condition=Q(corrects__isnull=False),
                name="line_corrects_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} #{self.case_id} {self.points}"


class SettlementImport(models.Model):
    """One finance sheet imported (committed, not dry runs): who, when, which file, what changed."""

    period = models.ForeignKey(
        Period, verbose_name="考核期间", on_delete=models.PROTECT, related_name="imports"
    )
    file = models.FileField("文件", upload_to="settlements/%Y/%m/")
    file_name = models.CharField("文件名", max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数", default=0)
    created = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("未变", default=0)

    class Meta:
        verbose_name = "财务扣款表导入"
        verbose_name_plural = "财务扣款表导入"
        ordering = ["-imported_at", "-pk"]
        indexes = [models.Index(fields=["imported_at", "id"], name="settlementimport_list_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.file_name}"


class Settlement(models.Model):
    """What payroll deducted from one employee's pay for one period (from finance's sheet)."""

    period = models.ForeignKey(
        Period, verbose_name="考核期间", on_delete=models.PROTECT, related_name="settlements"
    )
    employee = models.ForeignKey(
        "members.Employee", verbose_name="员工", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(
        "扣款金额（元）",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    note = models.CharField("备注", max_length=255, blank=True)
    imported_in = models.ForeignKey(
        SettlementImport,
        verbose_name="来自导入",
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "工资扣款"
        verbose_name_plural = "工资扣款"
        ordering = ["period", "employee__employee_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "employee"], name="settlement_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="settlement_amount_not_negative"
            ),
        ]
        # The settlements list (appraisal.admin.settlements, LIST_ORDER): newest period first.
        indexes = [models.Index(fields=["-period", "employee"], name="settlement_list_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.employee} ¥{self.amount}"
