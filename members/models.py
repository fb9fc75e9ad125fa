"""The org chart: departments (a tree), positions with a rank, employees.

The eligibility rules of the four groups (§4) read these fields, so each one
names what the policy's table talks about: department heads (部门负责人),
workshop directors and up (rank), 行管 staff versus production workers.
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

PATH_SEPARATOR = "/"
# The department whose staff run the groups: admins of every group, its head their default
# creator (§5.1, §5.2); one of the departments seed_policy creates (members.services).
HR_DEPARTMENT = "人力资源部"
# 车间主任 — the lowest rank that belongs in the management group (§4).
WORKSHOP_DIRECTOR_RANK = 5


class Department(models.Model):
    """A department or a sub-department (a workshop: 生产部/一车间)."""

    name = models.CharField("名称", max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The full name from the root, "生产部/一车间": what HR writes in the
    # employee sheet, and what lets a rule select a department's whole subtree
    # with one indexed prefix query. Kept by Department.save().
    path = models.CharField("完整路径", max_length=255, unique=True, editable=False)
    head = models.ForeignKey(
        "Employee",
        verbose_name="部门负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="department_unique_name_under_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="department_unique_top_level_name",
            ),
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args, **kwargs) -> None:
        # The name as its path spells it: reconciliation finds a display name's department by
        # name (groups.matching._in_departments) and tells namesakes apart by path segment.
        self.name = self.name.strip()
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # A renamed or moved department renames its whole subtree.
            for child in self.children.all():
                child.save()

    def clean(self) -> None:
        self.name = self.name.strip()  # before the unique constraints are checked (save too)
        if PATH_SEPARATOR in self.name:
            raise ValidationError({"name": f"部门名称不能包含“{PATH_SEPARATOR}”。"})
        ancestor = self.parent
        while ancestor is not None:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": "上级部门不能是自己或自己的下级部门。"})
            ancestor = ancestor.parent

    def compute_path(self) -> str:
        name = self.name.strip()
        return f"{self.parent.path}{PATH_SEPARATOR}{name}" if self.parent else name

    def subtree_q(self, prefix: str = "") -> Q:
        """Q selecting this department and all below it (``prefix`` = lookup path)."""
        return Q(**{f"{prefix}path": self.path}) | Q(
            **{f"{prefix}path__startswith": self.path + PATH_SEPARATOR}
        )


class Position(models.Model):
    """A job title with its default rank (职级): 车间主任 is rank 5 (§4)."""

    name = models.CharField("岗位", max_length=64, unique=True)
    rank = models.PositiveSmallIntegerField("默认职级", default=1)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.rank}级）"


class EmployeeQuerySet(models.QuerySet):
    def active(self) -> EmployeeQuerySet:
        return self.filter(status=Employee.Status.ACTIVE)

    def department_heads(self) -> EmployeeQuerySet:
        return self.filter(headed_departments__isnull=False).distinct()

    def with_head_flag(self) -> EmployeeQuerySet:
        return self.annotate(
            is_head=models.Exists(Department.objects.filter(head=models.OuterRef("pk")))
        )


class Employee(models.Model):
    class Category(models.TextChoices):
        # §4: 俊马工作群 is for 行管人员, as opposed to production-line workers.
        ADMIN = "admin", "行管"
        PRODUCTION = "production", "生产"

    class Status(models.TextChoices):
        ACTIVE = "active", "在职"
        LEFT = "left", "离职"

    employee_no = models.CharField("工号", max_length=32, unique=True)
    name = models.CharField("姓名", max_length=64, db_index=True)
    department = models.ForeignKey(
        Department, verbose_name="部门", on_delete=models.PROTECT, related_name="employees"
    )
    position = models.ForeignKey(
        Position,
        verbose_name="岗位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
    )
    rank = models.PositiveSmallIntegerField(
        "职级", default=1, help_text="车间主任为 5 级；5 级及以上属于管理群（§4）。"
    )
    category = models.CharField(
        "人员类别", max_length=16, choices=Category.choices, default=Category.PRODUCTION
    )
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    left_on = models.DateField("离职日期", null=True, blank=True)
    # Not unique: §6.3 makes "one WeChat id on two employees" a finding to
    # investigate, so the org chart must be able to hold it.
    wechat_id = models.CharField("微信号", max_length=64, blank=True, db_index=True)
    phone = models.CharField("手机号", max_length=32, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employee",
    )
    history = HistoricalRecords()

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        verbose_name = "员工"
        verbose_name_plural = "员工"
        ordering = ["employee_no"]
        permissions = [
            ("import_employee", "可以导入员工表"),
            ("export_employee", "可以导出员工表"),
            # HR opens logins for employees without auth.change_user (which would let
            # them make themselves superuser): see members.services.employee_logins_invite.
            ("invite_employee", "可以为员工开通登录账号"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="active", left_on__isnull=True) | Q(status="left")),
                name="employee_active_has_no_leave_date",
            ),
            models.CheckConstraint(condition=~Q(employee_no=""), name="employee_no_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.employee_no}）"

    # The login as loaded from the database, so that a change of login can be
    # noticed after save without another query (groups.signals syncs rights).
    loaded_user_id: int | None = None
    # The status as loaded, so that members.signals notices the move to 离职 (docs/security.md, 7).
    loaded_status: str | None = None
    # What makes a mover (调动) as loaded: members.signals compares them after save and
    # records a PersonnelEvent only when one of them (or the status) changed.
    loaded_department_id: int | None = None
    loaded_position_id: int | None = None
    loaded_category: str | None = None
    loaded_rank: int | None = None

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.loaded_user_id = instance.__dict__.get("user_id")
        instance.remember_loaded()
        return instance

    def remember_loaded(self) -> None:
        """Take the current status and placement as "loaded" (members.signals, after a save:
        the next save compares with them). The login is groups.signals' own to remember."""
        self.loaded_status = self.__dict__.get("status")
        self.loaded_department_id = self.__dict__.get("department_id")
        self.loaded_position_id = self.__dict__.get("position_id")
        self.loaded_category = self.__dict__.get("category")
        self.loaded_rank = self.__dict__.get("rank")

    def clean(self) -> None:
        if self.status == self.Status.ACTIVE and self.left_on:
            raise ValidationError({"left_on": "在职员工不能有离职日期。"})

    @property
    def is_department_head(self) -> bool:
        """Derived from Department.head, never stored twice (see with_head_flag())."""
        annotated = getattr(self, "is_head", None)
        if annotated is not None:
            return annotated
        return self.pk is not None and self.headed_departments.exists()

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class PersonnelEvent(models.Model):
    """A joiner, mover or leaver (入职、调动、离职), recorded in the transaction that changed the
    employee, whichever door it came through (the employee sheet, the admin form, code).

    The groups follow at once (groups.services.lifecycle): add and remove to-dos, and a
    leaver's groups handed to a successor. ``changes`` says what moved, as field: [before,
    after] in words (部门, 岗位, 人员类别, 职级, 状态); ``outcome`` what the groups did.
    """

    class Kind(models.TextChoices):
        JOINER = "joiner", "入职"
        MOVER = "mover", "调动"
        LEAVER = "leaver", "离职"

    employee = models.ForeignKey(
        Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="personnel_events"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    changes = models.JSONField("变动", default=dict, blank=True)
    outcome = models.JSONField("群的处理", default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "人事变动"
        verbose_name_plural = "人事变动"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.employee}"


# docs/security.md, 6: django-axes' rows, shown to HR in Chinese under 组织架构 (members.admin);
# proxies, so axes keeps its tables and HR's role gets the rights with members.* (company/roles.py).
class LoginLockout(AccessAttempt):
    class Meta:
        proxy = True
        verbose_name = "登录锁定"
        verbose_name_plural = "登录锁定"


class LoginFailure(AccessFailureLog):
    class Meta:
        proxy = True
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"
