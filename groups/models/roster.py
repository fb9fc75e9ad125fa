"""Who is really in each WeChat group, and what reconciliation makes of it (§4, §5, §6.3, §9.5).

A RosterSnapshot is what HR captured from WeChat at one moment; it never
changes once stored. Reconciliation matches its members to employees, compares
them with the group's eligible set and keeps one open Finding per breach, each
with a RosterAction for the group's creator (§5.1).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from groups.models.chat_group import ChatGroup
from members.models import Employee

# Rows per bulk query: a whole roster (≤ 500 members, a few findings each) in one
# query, while staying under PostgreSQL's 65,535 parameters (~17 per finding).
BULK_BATCH = 2000

ERROR_SNAPSHOT_IMMUTABLE = "成员快照保存后不能修改；请上传新的快照。"


def compliance_rate(member_count: int, members_with_findings: int) -> float | None:
    """Members without findings / members; None for an empty roster."""
    if not member_count:
        return None
    return (member_count - members_with_findings) / member_count


def compliance_display(member_count: int, members_with_findings: int) -> str:
    rate = compliance_rate(member_count, members_with_findings)
    return "—" if rate is None else f"{rate:.0%}"


class RosterSnapshot(models.Model):
    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.PROTECT, related_name="snapshots"
    )
    taken_at = models.DateTimeField("采集时间", db_index=True)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_file = models.FileField("原始文件", upload_to="rosters/%Y/%m/", blank=True)
    file_name = models.CharField("文件名", max_length=255, blank=True)
    member_count = models.PositiveIntegerField("成员数", default=0)
    # Filled by reconciliation (derived, recomputed on each run of this snapshot).
    reconciled_at = models.DateTimeField("核对时间", null=True, blank=True)
    members_with_findings = models.PositiveIntegerField("有问题的成员数", default=0)

    class Meta:
        verbose_name = "群成员快照"
        verbose_name_plural = "群成员快照"
        ordering = ["-taken_at", "-pk"]
        get_latest_by = ["taken_at", "pk"]

    def __str__(self) -> str:
        if not self.taken_at:
            return str(self.group)
        return f"{self.group} @ {timezone.localtime(self.taken_at):%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        # What HR captured is evidence: once stored it never changes. (Reconciliation
        # writes its derived counts with QuerySet.update, not through here.)
        if not self._state.adding:
            raise ValidationError(ERROR_SNAPSHOT_IMMUTABLE)
        super().save(*args, **kwargs)

    @property
    def compliance_rate(self) -> float | None:
        """Members without findings / members (None before the first reconciliation)."""
        if self.reconciled_at is None:
            return None
        return compliance_rate(self.member_count, self.members_with_findings)

    @property
    def compliance_display(self) -> str:
        if self.reconciled_at is None:
            return "—"
        return compliance_display(self.member_count, self.members_with_findings)


class RosterMember(models.Model):
    """One line of a snapshot. The captured fields never change; the match does."""

    class Match(models.TextChoices):
        WECHAT_ID = "wechat_id", "微信号"
        IDENTITY = "identity", "人工确认"
        NAME = "name", "姓名"
        AMBIGUOUS = "ambiguous", "同名无法区分"
        NONE = "none", "未匹配"

    snapshot = models.ForeignKey(
        RosterSnapshot, verbose_name="快照", on_delete=models.CASCADE, related_name="members"
    )
    row_number = models.PositiveIntegerField("行号")
    display_name = models.CharField("群昵称", max_length=128)
    wechat_id = models.CharField("微信号", max_length=64, blank=True)
    remark = models.CharField("备注", max_length=255, blank=True)
    employee = models.ForeignKey(
        Employee,
        verbose_name="匹配员工",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roster_entries",
    )
    match = models.CharField("匹配方式", max_length=16, choices=Match.choices, default=Match.NONE)

    class Meta:
        verbose_name = "快照成员"
        verbose_name_plural = "快照成员"
        ordering = ["snapshot", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "row_number"], name="roster_member_row_once"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(ERROR_SNAPSHOT_IMMUTABLE)
        super().save(*args, **kwargs)


class MemberIdentity(models.Model):
    """HR's decision that display name X in group G is employee Y (or nobody we know).

    Remembered so that later snapshots match the same way (§5.3.b nicknames,
    same-name colleagues).
    """

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="identities"
    )
    display_name = models.CharField("群昵称", max_length=128)
    employee = models.ForeignKey(
        Employee,
        verbose_name="员工",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identities",
        help_text="留空表示确认此人不是本公司员工（§5.3.c 无关人员）。",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("确认时间", auto_now=True)
    note = models.CharField("说明", max_length=255, blank=True)

    class Meta:
        verbose_name = "群昵称确认"
        verbose_name_plural = "群昵称确认"
        ordering = ["group", "display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "display_name"], name="member_identity_once_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group}：{self.display_name} → {self.employee or '非本公司人员'}"


class MembershipException(models.Model):
    """An approved exception to a group's rules for one employee (overrides §4's table)."""

    class Kind(models.TextChoices):
        INCLUDE = "include", "允许加入"
        EXCLUDE = "exclude", "不应加入"

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="exceptions"
    )
    employee = models.ForeignKey(
        Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="group_exceptions"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    reason = models.CharField("原因", max_length=255)
    approved_by = models.ForeignKey(
        Employee,
        verbose_name="批准人",
        on_delete=models.PROTECT,
        related_name="approved_group_exceptions",
    )
    valid_until = models.DateField(
        "有效期至", null=True, blank=True, help_text="留空表示长期有效。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "入群例外"
        verbose_name_plural = "入群例外"
        ordering = ["group", "employee"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "employee"], name="membership_exception_once_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group}：{self.employee} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.group_id and self.group.family_id:
            raise ValidationError({"group": "例外设在系列首群上，同系列的群共用。"})


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

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    # What the finding is about, stable across snapshots: "e:<employee id>",
    # "n:<display name>", "w:<wechat id>", "group". With group and kind it
    # identifies the finding, so a re-run finds the open one instead of a copy.
    subject = models.CharField("对象键", max_length=200)
    clause = models.CharField("条款", max_length=16)
    severity = models.PositiveSmallIntegerField("严重程度", choices=Severity.choices)
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
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
    first_seen = models.ForeignKey(
        RosterSnapshot, verbose_name="首次发现", on_delete=models.CASCADE, related_name="+"
    )
    last_seen = models.ForeignKey(
        RosterSnapshot, verbose_name="最近发现", on_delete=models.CASCADE, related_name="+"
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
        indexes = [models.Index(fields=["group", "status", "kind"])]

    def __str__(self) -> str:
        who = self.display_name or (self.employee.name if self.employee_id else "")
        return f"{self.get_kind_display()}：{who}" if who else self.get_kind_display()


class RosterAction(models.Model):
    """What the group's creator must do about a finding (§5.1), by when."""

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
        "已提出 §5.1 违规", null=True, blank=True, help_text="逾期超过宽限期后提交人力资源部审核。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "群成员待办"
        verbose_name_plural = "群成员待办"
        ordering = ["status", "due_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.finding}"


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
    # issue 9, point 5: a run the broker refused is said so on its page, and the
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
