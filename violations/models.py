"""The rule catalog: one rule per enforceable clause of the policy.

Points and sanctions are not fixed by the policy; they are defaults HR edits
here (docs/clauses.md). Every change is kept in the rule's history (§8: the catalog
is versioned).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from common.models import Transition


class Sanction(models.TextChoices):
    # Ordered from mildest to heaviest; escalation moves one step right.
    REMINDER = "reminder", "提醒"
    WARNING = "warning", "警告"
    SERIOUS_WARNING = "serious_warning", "严重警告"
    REFER = "refer", "移交处理"


def clause_sort_key(code: str) -> str:
    """ "9.10" → "00090010", "5.3.b" → "00050003b": §9.2 sorts before §9.10 as text, on
    SQLite and PostgreSQL alike (digits and lower-case letters only, so no collation
    reorders it)."""
    return "".join(part.zfill(4) if part.isdigit() else part for part in code.split("."))


ERROR_REPEAT_POINTS_MISSING = "填写了“从第几次起按累犯扣分”，请同时填写“累犯扣分”。"
ERROR_REPEAT_FROM_MISSING = "填写了“累犯扣分”，请同时填写“从第几次起按累犯扣分”。"


class Rule(models.Model):
    code = models.CharField(
        "条款",
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^\d+(\.\d+)*(\.[a-z])?$", "条款编号形如 9.4 或 5.3.b。")],
    )
    title_zh = models.CharField("名称", max_length=128)
    title_en = models.CharField("英文名称", max_length=128, blank=True)
    description = models.TextField("说明", blank=True)
    default_points = models.DecimalField(
        "默认扣分",
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    sanction = models.CharField(
        "处分", max_length=16, choices=Sanction.choices, default=Sanction.REMINDER
    )
    is_active = models.BooleanField("启用", default=True)
    # Repeat offences (data, per rule): the 2nd offence of this rule by the same
    # employee within the window counts ×factor; from the nth on, the sanction
    # goes one level up.
    repeat_window_days = models.PositiveSmallIntegerField(
        "累犯统计期（天）", default=90, validators=[MinValueValidator(1)]
    )
    repeat_points_factor = models.DecimalField(
        "累犯扣分倍数",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    repeat_escalate_at = models.PositiveSmallIntegerField(
        "第几次起处分升级",
        default=3,
        validators=[MinValueValidator(2)],
        help_text="统计期内同一条款第几次违规起，处分提高一级。",
    )
    # "Reminder first, points on a repeat" (§5.3.a): from the N-th offence in the window, a
    # fixed number of points instead of default × factor (which can never lift a 0).
    repeat_from_offence = models.PositiveSmallIntegerField(
        "从第几次起按累犯扣分",
        null=True,
        blank=True,
        validators=[MinValueValidator(2)],
        help_text="留空则按倍数计算；填写后，统计期内第 N 次起扣下面的“累犯扣分”。",
    )
    repeat_points = models.DecimalField(
        "累犯扣分",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="与“从第几次起按累犯扣分”一起填写，如 §5.3.a：首次提醒 0 分，再犯 2 分。",
    )
    # §9.8/§9.12: the offender's department head answers for part of it.
    head_share = models.DecimalField(
        "部门负责人连带比例",
        max_digits=3,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="如 0.5：确认后为违规员工的部门负责人生成一条连带记录，扣分为其一半（§9.8、§9.12）。",
    )
    # Derived from code on every save: the clause order (§9.2 before §9.10).
    sort_key = models.CharField("排序", max_length=64, editable=False, default="")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "违规条款"
        verbose_name_plural = "违规条款"
        ordering = ["sort_key", "code"]

    def __str__(self) -> str:
        return f"§{self.code} {self.title_zh}"

    def save(self, *args, **kwargs) -> None:
        self.sort_key = clause_sort_key(self.code)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "code" in update_fields:
            kwargs["update_fields"] = {*update_fields, "sort_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        # "From the N-th offence, X points" is one policy: half of it means nothing, and
        # would silently fall back to the factor (violations.services.cases.repeat_offence).
        if self.repeat_from_offence is not None and self.repeat_points is None:
            raise ValidationError({"repeat_points": ERROR_REPEAT_POINTS_MISSING})
        if self.repeat_points is not None and self.repeat_from_offence is None:
            raise ValidationError({"repeat_from_offence": ERROR_REPEAT_FROM_MISSING})


SANCTION_ORDER = list(Sanction.values)


def sanction_one_up(sanction: str) -> str:
    """The next heavier sanction; 移交处理 stays the heaviest."""
    index = SANCTION_ORDER.index(sanction)
    return SANCTION_ORDER[min(index + 1, len(SANCTION_ORDER) - 1)]


class Case(models.Model):
    """A suspected or confirmed breach of one rule by one employee (§7.1).

    Other parts of the system (reconciliation, directives, screening) only ever
    *propose* a case, through violations.services.case_propose; HR decides.
    State changes go through violations.services (one function per transition,
    each writing a CaseTransition); points and sanction are fixed at
    confirmation and never change afterwards.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", "待审核"
        CONFIRMED = "confirmed", "已确认"
        DISMISSED = "dismissed", "已驳回"
        APPEALED = "appealed", "申诉中"
        UPHELD = "upheld", "申诉驳回（维持）"
        OVERTURNED = "overturned", "申诉成立（撤销）"

    class Source(models.TextChoices):
        MANUAL = "manual", "人工登记"
        RECONCILIATION = "reconciliation", "群成员核对"
        DIRECTIVE = "directive", "指令逾期"
        QUESTION = "question", "问题逾期未回复"
        SCREENING = "screening", "内容筛查"
        JOINT = "joint", "连带责任"

    # The states in which a case still counts (§7.1): confirmed, and not (yet) overturned.
    # The appraisal deducts these, a repeat offence is counted among these, and an
    # overturned appeal takes the joint cases out of these — defined here, once.
    COUNTING_STATES = (State.CONFIRMED, State.APPEALED, State.UPHELD)

    # Indexed with the list's order (Meta.indexes), as are group and state.
    rule = models.ForeignKey(
        Rule, verbose_name="条款", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    employee = models.ForeignKey(
        "members.Employee", verbose_name="员工", on_delete=models.PROTECT, related_name="cases"
    )
    group = models.ForeignKey(
        "groups.ChatGroup",
        verbose_name="微信群",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    occurred_at = models.DateTimeField("发生时间", db_index=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    # The event that produced a proposal ("roster-action:42"): the same event
    # never makes two cases (unique with source).
    source_key = models.CharField("来源事件", max_length=100, blank=True)
    description = models.TextField("经过")
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.PROPOSED)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # §9.8/§9.12 joint liability: the head's case points to the offender's.
    joint_of = models.ForeignKey(
        "self",
        verbose_name="连带于",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="joint_cases",
    )
    # Fixed at confirmation (rule default × repeat escalation, or HR's override).
    points = models.DecimalField("扣分", max_digits=6, decimal_places=2, null=True, blank=True)
    sanction = models.CharField("处分", max_length=16, choices=Sanction.choices, blank=True)
    offence_number = models.PositiveSmallIntegerField("统计期内第几次", null=True, blank=True)
    override_reason = models.CharField("调整扣分的理由", max_length=255, blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True, db_index=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # When the employee was told of the confirmed case (a notice to their login, their first
    # view of it, or HR recording that they were told): the appeal window counts from here,
    # never from a confirmation nobody told them about.
    told_at = models.DateTimeField("告知员工时间", null=True, blank=True)
    told_how = models.CharField("告知方式", max_length=32, blank=True)
    # The employee's side, given on their page while the case waits for HR's decision
    # (shown to the decider).
    explanation = models.TextField("员工说明", blank=True)
    explained_at = models.DateTimeField("说明时间", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "违规案件"
        verbose_name_plural = "违规案件"
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("decide_case", "可以确认或驳回违规、裁决申诉（人力资源部）"),
            ("view_evidence", "可以查看违规证据"),
        ]
        # The case list (violations.admin.cases) at 100,000 cases: its order (newest
        # first), and each list filter followed by that order, so that a page is read from
        # an index instead of sorting every case (docs/performance.md, 案件列表). The
        # filter's column leads, so each also serves its foreign key and plain lookups.
        indexes = [
            models.Index(fields=["created_at", "id"], name="case_created_idx"),
            models.Index(fields=["state", "created_at", "id"], name="case_state_created_idx"),
            models.Index(fields=["rule", "created_at", "id"], name="case_rule_created_idx"),
            models.Index(fields=["group", "created_at", "id"], name="case_group_created_idx"),
            models.Index(fields=["source", "created_at", "id"], name="case_source_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"],
                condition=~models.Q(source_key=""),
                name="case_one_per_source_event",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["proposed", "dismissed"])
                | models.Q(points__isnull=False, confirmed_at__isnull=False),
                name="case_confirmed_has_points",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} §{self.rule.code} {self.employee}"

    @property
    def counts_for_appraisal(self) -> bool:
        """Confirmed and not overturned: what the appraisal deducts (§7.1)."""
        return self.state in self.COUNTING_STATES


class CaseTransition(Transition):
    """The audit record of one state change: who, when (common.models.Transition), why."""

    case = models.ForeignKey(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField("原状态", max_length=12, choices=Case.State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=12, choices=Case.State.choices)
    comment = models.TextField("意见", blank=True)

    class Meta:
        verbose_name = "案件记录"
        verbose_name_plural = "案件记录"
        ordering = ["case", "at", "pk"]


def evidence_path(instance: Evidence, filename: str) -> str:
    # Never the user's file name on disk: the content decides the extension.
    return f"evidence/{instance.case_id}/{uuid.uuid4().hex}.{instance.extension}"


class Evidence(models.Model):
    """A screenshot or PDF attached to a case; stored under the private MEDIA_ROOT and
    served only through a view that checks who may see the case."""

    class Kind(models.TextChoices):
        PNG = "image/png", "PNG 图片"
        JPEG = "image/jpeg", "JPEG 图片"
        GIF = "image/gif", "GIF 图片"
        WEBP = "image/webp", "WebP 图片"
        PDF = "application/pdf", "PDF 文件"

    EXTENSIONS = {
        Kind.PNG: "png",
        Kind.JPEG: "jpg",
        Kind.GIF: "gif",
        Kind.WEBP: "webp",
        Kind.PDF: "pdf",
    }

    case = models.ForeignKey(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField("文件", upload_to=evidence_path)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("类型", max_length=32, choices=Kind.choices)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    # Attached by the employee to their appeal, not by whoever filed the case.
    for_appeal = models.BooleanField("申诉材料", default=False)

    class Meta:
        verbose_name = "证据"
        verbose_name_plural = "证据"
        ordering = ["case", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return self.EXTENSIONS[self.content_type]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
