"""What reconciliation makes of a roster (§5, §6.3, §9.5): one open Finding per breach, each
with a RosterAction for the group's creator (§5.1), open until a snapshot shows it fixed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from groups.models.chat_group import ChatGroup
from groups.models.roster import RosterSnapshot
from members.models import Employee


class Finding(models.Model):
    """One breach of the rules seen in a group's roster, open until a snapshot shows it fixed."""

    class Kind(models.TextChoices):
        DEPARTED = "departed", "离职人员仍在群"  # §5.3.c, §6
        STRANGER = "stranger", "无关人员"  # §5.3.c
        INELIGIBLE = "ineligible", "不符合入群条件"  # §5.3.a
        MISSING = "missing", "应入群未入群"  # §5.1
        NOT_REAL_NAME = "not_real_name", "未使用真实姓名"  # §5.3.b
        AMBIGUOUS = "ambiguous", "同名待确认"
        DUPLICATE_ACCOUNT = "duplicate_account", "重复账号"  # §6.3
        OVER_CAPACITY = "over_capacity", "超出人数上限"  # §4
        LEFT_GROUP = "left_group", "退群"  # §9.5, HR decides
        JOINED = "joined", "新入群"
        REPORTED_ACCOUNT = "reported_account", "已挂失的微信账号"  # §6.3

    class Severity(models.IntegerChoices):
        INFO = 0, "提示"
        LOW = 1, "低"
        MEDIUM = 2, "中"
        HIGH = 3, "高"
        CRITICAL = 4, "紧急"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        RESOLVED = "resolved", "已解决"

    class Decision(models.TextChoices):
        # §9.5: leaving a group is a case only when HR says so, never automatically.
        PENDING = "pending", "待人力资源部决定"
        NO_CASE = "no_case", "不作处理"
        PROPOSE_CASE = "propose_case", "提出 §9.5 违规"

    # No index of its own: (group, status, kind) below and the unique constraints start with
    # it, and serve the lookups and the cascade alike; one index less for every finding
    # written (docs/performance.md, "where the first run's database time goes").
    group = models.ForeignKey(
        ChatGroup,
        verbose_name="微信群",
        on_delete=models.CASCADE,
        related_name="findings",
        db_index=False,
    )
    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    # What the finding is about, stable across snapshots: "e:<employee id>",
    # "n:<display name>", "w:<wechat id>", "group". With group and kind it
    # identifies the finding, so a re-run finds the open one instead of a copy.
    subject = models.CharField("对象键", max_length=200)
    clause = models.CharField("条款", max_length=16)
    severity = models.PositiveSmallIntegerField("严重程度", choices=Severity.choices)
    # Indexed in Meta.indexes: db_index would add a second, LIKE-only index on PostgreSQL that
    # no query uses (a status is matched whole), written with every finding.
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    employee = models.ForeignKey(
        Employee,
        verbose_name="员工",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="findings",
    )
    display_name = models.CharField("群昵称", max_length=128, blank=True)
    wechat_id = models.CharField("微信号", max_length=64, blank=True)
    detail = models.CharField("说明", max_length=500, blank=True)
    recommended_action = models.CharField("建议处理", max_length=200, blank=True)
    # Empty when a personnel event opened the finding before any snapshot showed it
    # (``event``: a joiner's add to-do, a leaver's remove to-do).
    first_seen = models.ForeignKey(
        RosterSnapshot,
        verbose_name="首次发现",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    last_seen = models.ForeignKey(
        RosterSnapshot,
        verbose_name="最近发现",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    event = models.ForeignKey(
        "members.PersonnelEvent",
        verbose_name="人事变动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
    )
    # §5.3.a: who brought a stranger or an ineligible member in (the roster's 邀请人 column),
    # as the file says it and as matched to an employee.
    inviter_text = models.CharField("邀请人（名单所记）", max_length=128, blank=True)
    inviter = models.ForeignKey(
        Employee,
        verbose_name="邀请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invited_findings",
    )
    resolved_by = models.ForeignKey(
        RosterSnapshot,
        verbose_name="解决于",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    resolved_at = models.DateTimeField("解决时间", null=True, blank=True)
    decision = models.CharField(
        "人力资源部决定", max_length=16, choices=Decision.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "核对问题"
        verbose_name_plural = "核对问题"
        ordering = ["-severity", "group", "kind", "display_name"]
        constraints = [
            # The idempotency key: two runs at once cannot both open the same finding.
            models.UniqueConstraint(
                fields=["group", "kind", "subject"],
                condition=Q(status="open"),
                name="finding_one_open_per_subject",
            ),
            # Events (LEFT_GROUP, JOINED) carry their snapshot in the subject and
            # exist once, whatever HR later decides about them.
            models.UniqueConstraint(
                fields=["group", "kind", "subject"],
                condition=Q(kind__in=["left_group", "joined"]),
                name="finding_event_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="finding_status"),
            models.Index(fields=["group", "status", "kind"]),
            # The findings list's order (groups.admin.findings: the group by id), read in
            # order a page at a time instead of sorting every finding.
            models.Index(
                fields=["-severity", "group", "kind", "display_name", "-id"],
                name="finding_list_order",
            ),
        ]

    def __str__(self) -> str:
        who = self.display_name or (self.employee.name if self.employee_id else "")
        return f"{self.get_kind_display()}：{who}" if who else self.get_kind_display()


class RosterAction(models.Model):
    """What must be done about a finding, by whom, by when: each goes to whoever can fix it —
    adding and removing to the group's creator (§5.1), a rename to the member (§5.3.b), an
    identity question to HR. Overdue consequences follow the person who could act."""

    class Owner(models.TextChoices):
        CREATOR = "creator", "群主"
        MEMBER = "member", "成员本人"
        HR = "hr", "人力资源部"

    class Kind(models.TextChoices):
        ADD = "add", "拉入群"
        REMOVE = "remove", "移出群"
        RENAME = "rename", "改为实名"
        RESOLVE = "resolve", "核实确认"

    class Status(models.TextChoices):
        OPEN = "open", "待办"
        DONE = "done", "已完成"

    finding = models.OneToOneField(
        Finding, verbose_name="问题", on_delete=models.CASCADE, related_name="action"
    )
    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField("待办", max_length=8, choices=Kind.choices)
    owner = models.CharField(
        "由谁处理", max_length=8, choices=Owner.choices, default=Owner.CREATOR, db_index=True
    )
    assignee = models.ForeignKey(
        Employee,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roster_actions",
    )
    due_on = models.DateField("截止日期", db_index=True)
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    last_reminded_on = models.DateField("最近提醒", null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField("提醒次数", default=0)
    escalated_at = models.DateTimeField(
        "已提出违规",
        null=True,
        blank=True,
        help_text="逾期超过宽限期后向负责人提出违规（群主 §5.1、成员本人 §5.3.b），提交人力资源部审核。",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "群成员待办"
        verbose_name_plural = "群成员待办"
        ordering = ["status", "due_on", "pk"]
        # The to-do list's order, a page at a time.
        indexes = [models.Index(fields=["status", "due_on", "id"], name="roster_action_list_order")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.finding}"
