"""The holiday table: the days that break the rule "Monday to Friday work, Saturday and Sunday
rest" — official holidays (法定假日) on weekdays and make-up working days (调休上班) on weekends.

Only the exceptions are rows: a day without a row follows the weekday/weekend default, so a
year the table does not know yet still counts sensibly. The rows come from the maintained
``chinesecalendar`` package (workdays.services.calendar_seed) and HR corrects or adds to them
in the admin; a row HR wrote is never overwritten by the seed (``source``).
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class CalendarDay(models.Model):
    """One day that differs from the weekday/weekend default (its history kept: HR edits it)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "法定假日"
        WORKDAY = "workday", "调休上班"

    class Source(models.TextChoices):
        SEEDED = "seeded", "国家公布（自动导入）"
        HR = "hr", "人力资源部录入"

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    name = models.CharField("节日", max_length=64, blank=True, help_text="如“国庆节”。")
    source = models.CharField(
        "来源", max_length=16, choices=Source.choices, default=Source.HR, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self) -> str:
        label = f"{self.date:%Y年%-m月%-d日} {self.get_kind_display()}"
        return f"{label}（{self.name}）" if self.name else label

    @property
    def is_working_day(self) -> bool:
        return self.kind == self.Kind.WORKDAY
