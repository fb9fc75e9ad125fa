"""What the system told whom (an in-app notice), and the email that carries it.

A Notice is the record that someone was told: the employee's page lists them, and a case's
appeal clock may start from one (violations). Email is a second channel: each EmailDelivery
is tried, its failure recorded with the error, and tried again later (notices.services).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notice(models.Model):
    class Kind(models.TextChoices):
        CASE_PROPOSED = "case_proposed", "违规待审核"
        CASE_CONFIRMED = "case_confirmed", "违规已确认"
        CASE_DISMISSED = "case_dismissed", "违规已驳回"
        APPEAL_DECIDED = "appeal_decided", "申诉已裁决"
        ROSTER_TODO = "roster_todo", "群成员待办"
        GROUP_SUCCESSION = "group_succession", "群交接"
        ACCOUNT_REPORT = "account_report", "微信账号挂失"
        OTHER = "other", "其他"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notices",
    )
    kind = models.CharField("类型", max_length=24, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    # Where the notice leads ("/me/cases/12/"): a path on this site, never another host.
    url = models.CharField("链接", max_length=300, blank=True)
    # What the notice is about ("case:12:confirmed"): the same event never tells anyone twice.
    subject_key = models.CharField("事件", max_length=100, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "subject_key"],
                condition=~Q(subject_key=""),
                name="notice_once_per_recipient_and_event",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title


class EmailDelivery(models.Model):
    """One email carrying one notice: sent, or failed with its error and tried again."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "多次失败，已停止重试"

    notice = models.ForeignKey(
        Notice, verbose_name="通知", on_delete=models.CASCADE, related_name="emails"
    )
    to = models.EmailField("收件人")
    subject = models.CharField("主题", max_length=200)
    body = models.TextField("正文")
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近一次错误", blank=True)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "邮件发送记录"
        verbose_name_plural = "邮件发送记录"
        ordering = ["-created_at", "-pk"]
        # The emails list (notices.admin): its order, and its status filter then that order.
        indexes = [
            models.Index(fields=["created_at", "id"], name="email_created_idx"),
            models.Index(fields=["status", "created_at", "id"], name="email_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to}：{self.subject}"
