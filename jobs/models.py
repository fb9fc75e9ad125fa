"""A piece of long work a person started, as they see it run (docs/background-jobs.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One job: who started it, what it does (``kind`` and ``params``), how far it is, and
    what came of it — a result in words, an optional file, or an error in Chinese."""

    class Kind(models.TextChoices):
        PERIOD_COMPUTE = "period_compute", "计算考核结果"
        PERIOD_EXPORT = "period_export", "导出考核结果"
        SETTLEMENT_IMPORT = "settlement_import", "导入财务扣款表"
        EMPLOYEE_IMPORT = "employee_import", "导入员工"
        LIST_EXPORT = "list_export", "导出列表"
        CHATLOG_IMPORT = "chatlog_import", "导入聊天记录"
        CHATLOG_RESCREEN = "chatlog_rescreen", "重新筛查聊天记录"

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    kind = models.CharField("任务", max_length=24, choices=Kind.choices)
    # What the job is about, in words (考核期间 2026-09): for the list and the notice.
    subject = models.CharField("对象", max_length=200, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    result_text = models.TextField("结果说明", blank=True)
    # Private media (MEDIA_ROOT): served only to the owner, by jobs.views.download.
    result_file = models.FileField("结果文件", upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField("下载文件名", max_length=200, blank=True)
    error = models.TextField("错误", blank=True)
    # docs/security.md, 5: a job the broker refused says so on its page.
    dispatch_failed = models.BooleanField("未能入队", default=False)
    # jobs.sweep: a job no worker picked up is sent once more, then given up.
    resent_at = models.DateTimeField("重新发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    FINISHED = (Status.DONE, Status.FAILED)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]
        # 我的任务: one person's jobs, the latest first.
        indexes = [models.Index(fields=["owner", "-created_at", "-id"], name="job_owner_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
