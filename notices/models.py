"""What the system told whom (an in-app notice), and the email that carries it.

A Notice is the record that someone was told: the employee's page lists them, and a case's
appeal clock may start from one (violations). Email is a second channel: a daily digest per
person (one EmailDelivery per person and day, listing that day's unread notices), or at once
for a notice that starts a clock (URGENT_KINDS); each is tried, its failure recorded with
the error, and tried again later (notices.services). Each person may turn email off
(EmailPreference).
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
        TODO_ASSIGNED = "todo_assigned", "新的待办"
        APPEAL_ARRIVED = "appeal_arrived", "新的申诉"
        APPROVAL_WAITING = "approval_waiting", "等待审批"
        JOB_FINISHED = "job_finished", "后台任务完成"
        DEADLINE_REMINDER = "deadline_reminder", "到期提醒"
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
    # Waits for the person's daily digest (notices.services.digests_compose) until one
    # carries it (digest); an urgent notice is mailed at once instead, and a notice posted
    # with email=False (or before the digest existed) is never mailed.
    in_digest = models.BooleanField("列入每日邮件摘要", default=False)
    digest = models.ForeignKey(
        "EmailDelivery",
        verbose_name="邮件摘要",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digest_notices",
    )

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
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The digest's candidates (notices waiting for one), flat however many were sent.
            models.Index(
                fields=["created_at"],
                condition=Q(in_digest=True, digest__isnull=True, read_at__isnull=True),
                name="notice_digest_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EmailDelivery(models.Model):
    """One email: a person's daily digest (recipient and day, the notices it lists in
    digest_notices) or one urgent notice (notice); sent, or failed with its error and tried
    again."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "多次失败，已停止重试"

    notice = models.ForeignKey(
        Notice,
        verbose_name="通知",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
        help_text="单独发送的紧急通知；每日摘要为空。",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_deliveries",
    )
    # The digest's day (Asia/Shanghai): one digest per person and day, however often the
    # task runs (email_digest_once_per_person_and_day).
    day = models.DateField("摘要日期", null=True, blank=True)
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
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "day"],
                condition=Q(day__isnull=False),
                name="email_digest_once_per_person_and_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}：{self.subject}"


class EmailPreference(models.Model):
    """Whether a person wants email at all (their own choice on 我的通知); without a row,
    they do. In-app notices are posted either way: they are the record of being told."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="email_preference",
    )
    email_on = models.BooleanField("接收邮件", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "邮件设置"
        verbose_name_plural = "邮件设置"

    def __str__(self) -> str:
        return f"{self.user}：{'接收邮件' if self.email_on else '不接收邮件'}"
