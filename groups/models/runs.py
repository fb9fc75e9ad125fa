"""One reconciliation of one group's snapshot, as HR and the nightly schedule see it run."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from groups.models.chat_group import ChatGroup
from groups.models.findings import Finding
from groups.models.roster import RosterSnapshot


class ReconciliationRun(models.Model):
    """One reconciliation, started by HR or the nightly schedule; tracks progress for the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "完成"
        SKIPPED = "skipped", "已跳过"
        FAILED = "failed", "失败"

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="runs"
    )
    snapshot = models.ForeignKey(
        RosterSnapshot, verbose_name="快照", on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    summary = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    # docs/security.md, 5: a run the broker refused is said so on its page, and the
    # sweeper (groups.services.runs.runs_sweep_stale) retries it once the queue is back.
    dispatch_failed = models.BooleanField("未能入队", default=False)
    # The one automatic retry of a run the sweeper found stuck; never a retry of a retry.
    retry_of = models.OneToOneField(
        "self",
        verbose_name="重试自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retry",
    )

    class Meta:
        verbose_name = "核对运行"
        verbose_name_plural = "核对运行"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The runs list's order; a group's latest run (its page).
            models.Index(fields=["-created_at", "-id"], name="run_list_order"),
            models.Index(fields=["group", "-created_at", "-id"], name="run_latest_per_group"),
        ]

    def __str__(self) -> str:
        return f"{self.group} #{self.pk} {self.get_status_display()}"

    @property
    def summary_text(self) -> str:
        return run_summary_text(self.summary)


def run_summary_text(summary: dict) -> str:
    """A run's result in words, for its page and progress bar: the counts of opened, kept
    and resolved findings, what the snapshot showed by kind (with its label), the note."""
    if not summary:
        return "—"
    text = (
        f"新增问题 {summary.get('opened', 0)}，仍存在 {summary.get('kept', 0)}，"
        f"已解决 {summary.get('resolved', 0)}。"
    )
    counts = summary.get("counts") or {}
    seen = [f"{label} {counts[kind]}" for kind, label in Finding.Kind.choices if counts.get(kind)]
    if seen:
        text += f"本次名单：{'、'.join(seen)}。"
    note = summary.get("note") or ""
    if note:
        text += note if note.endswith("。") else f"{note}。"
    return text
