"""Approval routes as data (§4: 工作群 carries what "经部门领导、公司领导批准发布"): per group ×
category, ordered steps naming who approves and how long they have; each submitted item's
own copy of its steps (so that editing a route never changes an item already in flight);
the reminders sent for a late step; and delegations of an approver who is away."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.people import person_label
from groups.models import ChatGroup, ContentKind


class ApproverKind(models.TextChoices):
    # The author's department head, walking up the tree when the author is the head.
    DEPARTMENT_HEAD = "department_head", "部门负责人"
    COMPANY_LEADER = "company_leader", "任一公司领导"
    HR = "hr", "人力资源部"
    NAMED = "named", "指定人员"


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "工作日"
    HOURS = "hours", "小时"


class ApprovalRoute(models.Model):
    """Who approves an item of ``category`` posted in ``group``: its steps, in order. A route
    without steps needs no approval (欢乐谷's greetings). No route for a pair: one company
    leader (announcements.services.routes.DEFAULT_STEP)."""

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="approval_routes"
    )
    category = models.ForeignKey(
        ContentKind, verbose_name="内容类别", on_delete=models.CASCADE, related_name="+"
    )
    # §4 应急: any one company leader approves at once; the item is reviewed after posting.
    review_after = models.BooleanField("事后复核", default=False)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "审批流程"
        verbose_name_plural = "审批流程"
        ordering = ["group", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "category"], name="approval_route_unique_group_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.category}"


class StepFields(models.Model):
    """Who approves a step and in how long: shared by a route's step and an item's copy."""

    approver_kind = models.CharField("审批人", max_length=20, choices=ApproverKind.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="指定审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    time_limit = models.PositiveSmallIntegerField("时限", default=1)
    time_unit = models.CharField(
        "时限单位", max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )

    class Meta:
        abstract = True


class ApprovalStep(StepFields):
    """One step of a route. ``approver`` only for 指定人员."""

    route = models.ForeignKey(
        ApprovalRoute, verbose_name="审批流程", on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField("顺序", default=1)

    class Meta:
        verbose_name = "审批环节"
        verbose_name_plural = "审批环节"
        ordering = ["route", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approver_kind="named", approver__isnull=False)
                | (~Q(approver_kind="named") & Q(approver__isnull=True)),
                name="approval_step_named_has_approver",
            ),
            models.CheckConstraint(condition=Q(time_limit__gt=0), name="approval_step_time_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_approver_kind_display()}"


class AnnouncementStep(StepFields):
    """One step of one version of an item, copied from its route when it is submitted.

    ``approver`` is the person who decides (the department head found for the author, the
    named person, or whoever the step escalated to); empty for a role (任一公司领导,
    人力资源部: any member decides). ``started_at``/``due_at`` are the clock (working days via
    workdays.selectors); ``decided_for`` is the approver a delegate acted for.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", "同意"
        REJECTED = "rejected", "退回"

    announcement = models.ForeignKey(
        "announcements.Announcement",
        verbose_name="公告",
        on_delete=models.CASCADE,
        related_name="steps",
    )
    version = models.PositiveIntegerField("版本")
    position = models.PositiveSmallIntegerField("顺序")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    due_at = models.DateTimeField("截止时间", null=True, blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    escalated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="原审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人（实际）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代理谁",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    comment = models.TextField("意见", blank=True)

    class Meta:
        verbose_name = "公告审批环节"
        verbose_name_plural = "公告审批环节"
        ordering = ["announcement", "version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "version", "position"],
                name="announcement_step_unique_position",
            )
        ]

    def __str__(self) -> str:
        return f"第 {self.version} 版 · 第 {self.position} 步 · {self.get_approver_kind_display()}"


class ApprovalReminder(models.Model):
    """A reminder sent for a late step: at most one per step and day (the unique constraint
    makes the beat task idempotent, even run twice at once)."""

    step = models.ForeignKey(
        AnnouncementStep,
        verbose_name="审批环节",
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    sent_on = models.DateField("日期")
    recipients = models.TextField("收件人", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "审批催办"
        verbose_name_plural = "审批催办"
        ordering = ["step", "sent_on"]
        constraints = [
            models.UniqueConstraint(fields=["step", "sent_on"], name="approval_reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.step} · {self.sent_on}"


class Delegation(models.Model):
    """An approver away from ``starts_on`` to ``ends_on`` (both included, Asia/Shanghai
    dates): ``delegate`` decides their steps meanwhile, recorded as acting for them."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        on_delete=models.CASCADE,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代理人",
        on_delete=models.CASCADE,
        related_name="delegations_received",
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    reason = models.CharField("事由", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "审批代理"
        verbose_name_plural = "审批代理"
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(approver=F("delegate")), name="delegation_not_to_oneself"
            ),
        ]

    def __str__(self) -> str:
        # People as people know them (姓名（工号）), never the login names.
        return (
            f"{person_label(self.approver)} → {person_label(self.delegate)}"
            f"（{self.starts_on}～{self.ends_on}）"
        )
