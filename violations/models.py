"""The rule catalog: one rule per enforceable clause of the policy.

Points and sanctions are not fixed by the policy; they are defaults HR edits
here (clauses.md). Every change is kept in the rule's history (§8: the catalog
is versioned).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords


class Sanction(models.TextChoices):
    # Ordered from mildest to heaviest; escalation moves one step right.
    REMINDER = "reminder", "提醒"
    WARNING = "warning", "警告"
    SERIOUS_WARNING = "serious_warning", "严重警告"
    REFER = "refer", "移交处理"


class Rule(models.Model):
    code = models.CharField(
        "条款",
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^\d+(\.\d+)*(\.[a-z])?$", "条款编号形如 9.4 或 5.3.b。")],
    )
    title_zh = models.CharField("名称", max_length=128)
    title_en = models.CharField("英文名称", max_length=128, blank=True)
    description = models.TextField("说明", blank=True)
    default_points = models.DecimalField(
        "默认扣分",
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    sanction = models.CharField(
        "处分", max_length=16, choices=Sanction.choices, default=Sanction.REMINDER
    )
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "违规条款"
        verbose_name_plural = "违规条款"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"§{self.code} {self.title_zh}"


class Case(models.Model):
    """A suspected or confirmed breach of one rule by one employee.

    Other parts of the system (reconciliation, directives, screening) only ever
    *propose* a case, through violations.services.case_propose; HR decides.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", "待审核"
        CONFIRMED = "confirmed", "已确认"
        DISMISSED = "dismissed", "已驳回"
        APPEALED = "appealed", "申诉中"
        UPHELD = "upheld", "维持"
        OVERTURNED = "overturned", "撤销"

    class Source(models.TextChoices):
        MANUAL = "manual", "人工登记"
        RECONCILIATION = "reconciliation", "群成员核对"
        DIRECTIVE = "directive", "指令逾期"
        QUESTION = "question", "问题逾期未回复"
        SCREENING = "screening", "内容筛查"

    rule = models.ForeignKey(
        Rule, verbose_name="条款", on_delete=models.PROTECT, related_name="cases"
    )
    employee = models.ForeignKey(
        "members.Employee", verbose_name="员工", on_delete=models.PROTECT, related_name="cases"
    )
    group = models.ForeignKey(
        "groups.ChatGroup",
        verbose_name="微信群",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    occurred_at = models.DateTimeField("发生时间")
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    # The event that produced a proposal ("roster-action:42"): the same event
    # never makes two cases (unique with source).
    source_key = models.CharField("来源事件", max_length=100, blank=True)
    description = models.TextField("经过")
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "违规案件"
        verbose_name_plural = "违规案件"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"],
                condition=~models.Q(source_key=""),
                name="case_one_per_source_event",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} §{self.rule.code} {self.employee}"
