"""Who is really in each WeChat group, and what reconciliation makes of it (§4, §5, §6.3, §9.5).

A RosterSnapshot is what HR captured from WeChat at one moment; it never
changes once stored. Reconciliation matches its members to employees (RosterMember,
MemberIdentity), compares them with the group's eligible set, HR's exceptions set aside
(MembershipException), and keeps one open Finding per breach (``findings.py``), each with a
RosterAction for the group's creator (§5.1); each pass is a ReconciliationRun (``runs.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
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
        # A group's latest snapshot (the group list's figures, its page, reconciliation):
        # one index probe per group, however many snapshots a year of uploads leaves.
        indexes = [
            models.Index(fields=["group", "-taken_at", "-id"], name="snapshot_latest_per_group")
        ]

    def __str__(self) -> str:
        if not self.taken_at:
            return str(self.group)
        return f"{self.group} @ {timezone.localtime(self.taken_at):%Y年%-m月%-d日 %H:%M}"

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


class JoinMethod(models.TextChoices):
    """How a member came into the group, as WeCom records it (入群方式, optional column)."""

    INVITE = "invite", "邀请"
    LINK = "link", "链接"
    QR_CODE = "qr_code", "二维码"


class RosterMember(models.Model):
    """One line of a snapshot. The captured fields never change; the match does."""

    class Match(models.TextChoices):
        WECHAT_ID = "wechat_id", "微信号"
        IDENTITY = "identity", "人工确认"
        NAME = "name", "姓名"
        AMBIGUOUS = "ambiguous", "同名无法区分"
        NONE = "none", "未匹配"

    # No index of its own: the unique (snapshot, row_number) starts with it and serves the
    # lookups and the cascade; one index less for every member imported and matched.
    snapshot = models.ForeignKey(
        RosterSnapshot,
        verbose_name="快照",
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,
    )
    row_number = models.PositiveIntegerField("行号")
    display_name = models.CharField("群昵称", max_length=128)
    wechat_id = models.CharField("微信号", max_length=64, blank=True)
    remark = models.CharField("备注", max_length=255, blank=True)
    # Provenance (§5.3.a: do not invite unrelated people), when the export has the columns:
    # who invited them (a display name or WeChat id, as the file says), when, and how.
    inviter = models.CharField("邀请人", max_length=128, blank=True)
    joined_at = models.DateTimeField("入群时间", null=True, blank=True)
    join_method = models.CharField("入群方式", max_length=8, choices=JoinMethod.choices, blank=True)
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
