"""Leaders' instructions given in a group (§7.2) and questions raised in a group (§9.9).

A directive names its assignees at creation (a department is expanded to its people then:
who was in it when the order was given answers for it), one DirectiveAssignment per person,
each with its own state. A question names the department that must answer; its head replies.
States move only in directives.services (docs/architecture.md, "State machines"); every move
writes a transition row (common.models.Transition).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.models import Transition


class Directive(models.Model):
    """An instruction a company leader or a department head gave in a group (§7.2): it has
    the force of a written order, so each assignee answers for it by its deadline."""

    text = models.TextField("指令内容")
    issuer = models.ForeignKey(
        "members.Employee",
        verbose_name="下达人",
        on_delete=models.PROTECT,
        related_name="issued_directives",
        help_text="公司领导或部门负责人（§7.2）。",
    )
    group = models.ForeignKey(
        "groups.ChatGroup",
        verbose_name="下达所在群",
        on_delete=models.PROTECT,
        related_name="directives",
    )
    given_at = models.DateTimeField("下达时间")
    deadline = models.DateTimeField("完成期限", db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "群内指令"
        verbose_name_plural = "群内指令"
        ordering = ["-given_at", "-pk"]
        # The directives list (directives.admin): its order, and its group filter then that order.
        indexes = [
            models.Index(fields=["given_at", "id"], name="directive_given_idx"),
            models.Index(fields=["group", "given_at", "id"], name="directive_group_given_idx"),
        ]
        permissions = [
            ("accept_directive", "可以验收或退回任何指令（人力资源部）"),
            ("issue_directive", "可以在群内下达指令（公司领导、部门负责人，§7.2）"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("given_at")), name="directive_deadline_after"
            ),
        ]

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 20 else self.text[:20] + "…"
        return f"指令 #{self.pk}：{text}"


class DirectiveAssignment(models.Model):
    """One assignee's part of a directive: acknowledged, done (with a note), accepted."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", "待确认"
        ACKNOWLEDGED = "acknowledged", "已确认收到"
        DONE = "done", "已完成（待验收）"
        ACCEPTED = "accepted", "已验收"
        REOPENED = "reopened", "退回重做"

    # Not (yet) done: what a reminder and, past the deadline, a §7.2 proposal are about.
    OPEN_STATES = (State.ASSIGNED, State.ACKNOWLEDGED, State.REOPENED)

    directive = models.ForeignKey(
        Directive, verbose_name="指令", on_delete=models.CASCADE, related_name="assignments"
    )
    employee = models.ForeignKey(
        "members.Employee",
        verbose_name="执行人",
        on_delete=models.PROTECT,
        related_name="directive_assignments",
    )
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.ASSIGNED, db_index=True
    )
    note = models.TextField("完成说明", blank=True)
    # Each assignee's own clock: the directive's deadline at creation, a fresh window when
    # HR or the issuer reopens the work (nobody is charged for a window they never had).
    due_at = models.DateTimeField("本人期限", db_index=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Idempotency of the follow-up: set once, by the service that reminded / proposed.
    reminded_at = models.DateTimeField("已提醒", null=True, blank=True)
    overdue_proposed_at = models.DateTimeField("逾期已提交审核", null=True, blank=True)

    class Meta:
        verbose_name = "指令执行人"
        verbose_name_plural = "指令执行人"
        ordering = ["directive", "employee__employee_no"]
        # The assignments list (directives.admin, newest directive first, no join to sort):
        # its order, and its state filter then that order.
        indexes = [
            models.Index(fields=["-directive", "employee"], name="assignment_list_idx"),
            models.Index(fields=["state", "-directive", "employee"], name="assignment_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["directive", "employee"], name="directive_assignment_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee}：{self.get_state_display()}"


class DirectiveTransition(Transition):
    assignment = models.ForeignKey(
        DirectiveAssignment,
        verbose_name="指令执行人",
        on_delete=models.CASCADE,
        related_name="transitions",
    )
    from_state = models.CharField(
        "原状态", max_length=12, choices=DirectiveAssignment.State.choices, blank=True
    )
    to_state = models.CharField("新状态", max_length=12, choices=DirectiveAssignment.State.choices)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "指令记录"
        verbose_name_plural = "指令记录"
        ordering = ["assignment", "at", "pk"]


class ReplySla(models.Model):
    """How many working days a department head has to answer a question raised in this
    group (§9.9: 及时予以回复确认); a group without a row gets DEFAULT_WORKING_DAYS."""

    DEFAULT_WORKING_DAYS = 1

    group = models.OneToOneField(
        "groups.ChatGroup",
        verbose_name="微信群",
        on_delete=models.CASCADE,
        related_name="reply_sla",
    )
    working_days = models.PositiveSmallIntegerField(
        "回复时限（工作日）", default=DEFAULT_WORKING_DAYS
    )

    class Meta:
        verbose_name = "问题回复时限"
        verbose_name_plural = "问题回复时限"
        constraints = [
            models.CheckConstraint(condition=Q(working_days__gte=1), name="reply_sla_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.group}：{self.working_days} 个工作日"


class Question(models.Model):
    """A problem raised in a group (§9.9): the responsible department's head replies by the
    deadline, and the asker confirms the reply answered it."""

    class State(models.TextChoices):
        OPEN = "open", "待回复"
        REPLIED = "replied", "已回复"
        CONFIRMED = "confirmed", "已确认解决"
        REOPENED = "reopened", "未解决，重新回复"

    # Waiting for the head: what a reminder and, past the deadline, a §9.9 proposal are about.
    WAITING_STATES = (State.OPEN, State.REOPENED)

    text = models.TextField("问题")
    group = models.ForeignKey(
        "groups.ChatGroup",
        verbose_name="反映所在群",
        on_delete=models.PROTECT,
        related_name="questions",
    )
    raised_by = models.ForeignKey(
        "members.Employee",
        verbose_name="提问人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raised_questions",
    )
    raised_by_name = models.CharField(
        "提问人（非员工）", max_length=64, blank=True, help_text="提问人不是员工时填写姓名。"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        "members.Department",
        verbose_name="负责部门",
        on_delete=models.PROTECT,
        related_name="questions",
    )
    raised_at = models.DateTimeField("提出时间")
    # §9.9: the head who had to answer when it was raised answers for it, not whoever heads
    # the department when the follow-up runs.
    head = models.ForeignKey(
        "members.Employee",
        verbose_name="负责人（提出时）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questions_to_answer",
    )
    deadline = models.DateTimeField("回复期限", db_index=True)
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.OPEN, db_index=True
    )
    reply = models.TextField("回复", blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回复人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    replied_at = models.DateTimeField("回复时间", null=True, blank=True)
    reminded_at = models.DateTimeField("已提醒", null=True, blank=True)
    overdue_proposed_at = models.DateTimeField("逾期已提交审核", null=True, blank=True)

    class Meta:
        verbose_name = "群内问题"
        verbose_name_plural = "群内问题"
        ordering = ["-raised_at", "-pk"]
        # The questions list (directives.admin): its order, and each filter then that order.
        indexes = [
            models.Index(fields=["raised_at", "id"], name="question_raised_idx"),
            models.Index(fields=["state", "raised_at", "id"], name="question_state_raised_idx"),
            models.Index(fields=["group", "raised_at", "id"], name="question_group_raised_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(raised_by__isnull=False) | ~Q(raised_by_name=""),
                name="question_has_asker",
            ),
        ]

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 20 else self.text[:20] + "…"
        return f"问题 #{self.pk}：{text}"

    @property
    def asker(self) -> str:
        return str(self.raised_by) if self.raised_by_id else self.raised_by_name


class QuestionTransition(Transition):
    question = models.ForeignKey(
        Question, verbose_name="问题", on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(
        "原状态", max_length=12, choices=Question.State.choices, blank=True
    )
    to_state = models.CharField("新状态", max_length=12, choices=Question.State.choices)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "问题记录"
        verbose_name_plural = "问题记录"
        ordering = ["question", "at", "pk"]
