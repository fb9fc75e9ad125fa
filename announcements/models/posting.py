"""After approval: who posted the item in which WeChat group and when (WeChat has no API for
ordinary groups: HR or the author confirms the posting), and who confirmed having read it
(须确认, WeCom's read receipts for groups that have none)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from groups.models import ChatGroup
from members.models import Employee


class Publication(models.Model):
    announcement = models.ForeignKey(
        "announcements.Announcement",
        verbose_name="公告",
        on_delete=models.CASCADE,
        related_name="publications",
    )
    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.PROTECT, related_name="+"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField("发布时间")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "发布记录"
        verbose_name_plural = "发布记录"
        ordering = ["announcement", "posted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "group"], name="publication_once_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} · {timezone.localtime(self.posted_at):%Y年%-m月%-d日 %H:%M}"


class Acknowledgement(models.Model):
    announcement = models.ForeignKey(
        "announcements.Announcement",
        verbose_name="公告",
        on_delete=models.CASCADE,
        related_name="acknowledgements",
    )
    employee = models.ForeignKey(
        Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField("确认时间")

    class Meta:
        verbose_name = "阅读确认"
        verbose_name_plural = "阅读确认"
        ordering = ["announcement", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "employee"], name="acknowledgement_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee} · {timezone.localtime(self.at):%Y年%-m月%-d日 %H:%M}"
