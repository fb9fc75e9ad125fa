"""The rule catalog: one rule per enforceable clause of the policy.

Points and sanctions are not fixed by the policy; they are defaults HR edits
here (clauses.md). Every change is kept in the rule's history (§8: the catalog
is versioned).
"""

from __future__ import annotations

from decimal import Decimal

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
