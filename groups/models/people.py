"""People and their groups over time: who took over a leaver's groups (离职继承), and the
WeChat accounts employees reported lost or stolen (§6.3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from groups.models.chat_group import ChatGroup
from members.models import Employee


class GroupSuccession(models.Model):
    """A group's creator or admin who left, and who took the role over, when (离职继承).

    Written by groups.services.succession when a leaver is recorded (groups.services.lifecycle):
    a group never keeps a departed creator. ``successor`` is empty only when nobody could be
    found (no department head above, no HR head): HR names one by hand, and the group page says
    so.

    This row is the record of the admin change (§5.2): the leaver is taken off the admins, and
    the successor put on, directly through the admins join table (set-based), so the group's
    history writes no HistoricalChatGroup_admins row for it — only the creator's change has a
    history row (with this row's note as its reason).
    """

    class Role(models.TextChoices):
        CREATOR = "creator", "群主"
        ADMIN = "admin", "管理员"

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="successions"
    )
    role = models.CharField("角色", max_length=8, choices=Role.choices)
    predecessor = models.ForeignKey(
        Employee, verbose_name="离职人员", on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(
        Employee,
        verbose_name="继任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    event = models.ForeignKey(
        "members.PersonnelEvent",
        verbose_name="人事变动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actions_moved = models.PositiveIntegerField("转交的待办", default=0)
    note = models.CharField("说明", max_length=255, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "群交接记录"
        verbose_name_plural = "群交接记录"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.group}：{self.predecessor} → {self.successor or '待指定'}"


class AccountReport(models.Model):
    """§6.3: an employee reports their WeChat account lost or stolen. From then on the
    account's roster rows are flagged (Finding.Kind.REPORTED_ACCOUNT), and a DUPLICATE_ACCOUNT
    finding on it mentions the report, until HR closes it (the account is back in hand)."""

    class Kind(models.TextChoices):
        LOST = "lost", "丢失"
        STOLEN = "stolen", "被盗"

    class Status(models.TextChoices):
        OPEN = "open", "挂失中"
        CLOSED = "closed", "已解除"

    employee = models.ForeignKey(
        Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="account_reports"
    )
    wechat_id = models.CharField("微信号", max_length=64, db_index=True)
    kind = models.CharField("情况", max_length=8, choices=Kind.choices)
    happened_on = models.DateField("发生日期", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    reported_at = models.DateTimeField("报告时间", auto_now_add=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField("解除时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解除人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hr_note = models.CharField("人力资源部备注", max_length=255, blank=True)

    class Meta:
        verbose_name = "微信账号挂失"
        verbose_name_plural = "微信账号挂失"
        ordering = ["-reported_at", "-pk"]
        # The list's order and its 报告时间 filter's ranges.
        indexes = [models.Index(fields=["-reported_at", "-id"], name="account_report_list_order")]
        constraints = [
            # §6.3: one open report per account, whoever reports it (the employee or HR,
            # two at once): groups.services.accounts turns a clash into its message.
            models.UniqueConstraint(
                fields=["wechat_id"],
                condition=Q(status="open"),
                name="account_report_one_open_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee} 的微信号 {self.wechat_id}（{self.get_kind_display()}）"
