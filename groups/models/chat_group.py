"""The company's WeChat groups (§4), who runs them (§5.1, §5.2), and who may be in them.

Eligibility is data, not code: each group family has EligibilityRule rows, and an
employee is eligible when they are active (§3) and any one rule selects them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from members.models import Department, Employee

WECHAT_MEMBER_CAP = 500  # WeChat's own limit for one group


class ContentKind(models.Model):
    """A kind of message a group is for (§4, 功能 column)."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)

    class Meta:
        verbose_name = "内容类别"
        verbose_name_plural = "内容类别"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ChatGroup(models.Model):
    """One WeChat group. Several groups may form a family (俊马欢乐谷1群, 2群).

    A member of a family (``family`` set) shares its root's function, allowed
    content and eligibility rules; see ``rules_group``.
    """

    class NamingConvention(models.TextChoices):
        # §5.3.b asks for the real name, nothing more: 姓名 is the policy; 部门-姓名 is a
        # house rule a group may add (shown as 公司规定之外的要求 on the group page).
        NAME = "name", "姓名"
        DEPARTMENT_NAME = "department-name", "部门-姓名"

    code = models.SlugField(
        "代码",
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_-]*$", "只能使用小写字母、数字、-、_。")],
        help_text="稳定的英文代码，如 management、leisure-2。",
    )
    name = models.CharField("群名", max_length=64, unique=True)
    family = models.ForeignKey(
        "self",
        verbose_name="所属群系列",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="siblings",
        help_text="同一系列的多个微信群（如欢乐谷 1 群、2 群）共用系列首群的规则。",
    )
    function = models.TextField("功能", blank=True)
    allowed_content = models.ManyToManyField(
        ContentKind, verbose_name="允许的内容", blank=True, related_name="groups"
    )
    member_cap = models.PositiveIntegerField("人数上限", default=WECHAT_MEMBER_CAP)
    naming_convention = models.CharField(
        "群昵称规范",
        max_length=32,
        choices=NamingConvention.choices,
        default=NamingConvention.NAME,
    )
    is_confidential = models.BooleanField(
        "机密群", default=False, help_text="成员名单仅人力资源部与本群管理员可见（§6.1）。"
    )
    creator = models.ForeignKey(
        Employee,
        verbose_name="群主（创建人）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="created_groups",
        help_text="负责成员加入、移出（§5.1）。",
    )
    admins = models.ManyToManyField(
        Employee,
        verbose_name="管理员",
        blank=True,
        related_name="administered_groups",
        help_text="负责群内发言管理与交办事项督办，一般由人力资源部人员担任（§5.2）。",
    )
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords(m2m_fields=[admins])

    class Meta:
        verbose_name = "微信群"
        verbose_name_plural = "微信群"
        ordering = ["code"]
        permissions = [
            ("manage_roster", "维护群成员（§5.1）"),
            ("moderate", "管理群内容（§5.2）"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.family_id and self.family_id == self.pk:
            raise ValidationError({"family": "群不能属于自己所在的系列。"})
        if self.family and self.family.family_id:
            raise ValidationError({"family": "请选择系列的首群。"})
        if self.member_cap > WECHAT_MEMBER_CAP:
            raise ValidationError({"member_cap": f"微信群最多 {WECHAT_MEMBER_CAP} 人。"})

    @property
    def rules_group(self) -> ChatGroup:
        """The group whose rules, function and content kinds apply to this one."""
        return self.family or self


class EligibilityRule(models.Model):
    """One way to qualify for a group family (§4). Rules of one group are OR-ed."""

    class Kind(models.TextChoices):
        DEPARTMENT_HEAD = "department_head", "部门负责人"
        MIN_RANK = "min_rank", "职级不低于"
        DEPARTMENT = "department", "部门及其下属部门"
        CATEGORY = "category", "人员类别"
        EVERYONE = "everyone", "全体在职员工"

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.CASCADE, related_name="rules"
    )
    kind = models.CharField("条件", max_length=24, choices=Kind.choices)
    min_rank = models.PositiveSmallIntegerField("最低职级", null=True, blank=True)
    department = models.ForeignKey(
        Department, verbose_name="部门", null=True, blank=True, on_delete=models.CASCADE
    )
    category = models.CharField(
        "人员类别", max_length=16, choices=Employee.Category.choices, blank=True
    )
    clause = models.CharField("条款", max_length=16, default="4")

    class Meta:
        verbose_name = "入群条件"
        verbose_name_plural = "入群条件"
        ordering = ["group", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(~models.Q(kind="min_rank") | models.Q(min_rank__isnull=False))
                & (~models.Q(kind="department") | models.Q(department__isnull=False))
                & (~models.Q(kind="category") | ~models.Q(category="")),
                name="eligibility_rule_has_its_parameter",
            ),
        ]

    # Which parameter each kind needs; the rest must stay empty.
    PARAMETER_OF_KIND = {
        Kind.MIN_RANK: "min_rank",
        Kind.DEPARTMENT: "department",
        Kind.CATEGORY: "category",
    }

    def __str__(self) -> str:
        if self.kind == self.Kind.MIN_RANK:
            return f"职级 ≥ {self.min_rank}"
        if self.kind == self.Kind.DEPARTMENT:
            return f"{self.department}（含下属）"
        if self.kind == self.Kind.CATEGORY:
            return f"人员类别：{self.get_category_display()}"
        return self.get_kind_display()

    def clean(self) -> None:
        needed = self.PARAMETER_OF_KIND.get(self.kind)
        values = {
            "min_rank": self.min_rank,
            "department": self.department_id,
            "category": self.category or None,
        }
        errors = {}
        for field, value in values.items():
            if field == needed and value is None:
                errors[field] = "此条件需要填写该项。"
            elif field != needed and value is not None:
                errors[field] = "此条件不使用该项，请留空。"
        if self.group_id and self.group.family_id:
            errors["group"] = "入群条件设在系列首群上，同系列的群共用。"
        if errors:
            raise ValidationError(errors)


# Direct foreign-key object permissions (~5x faster than the generic
# CharField rows, and they cascade when a group is deleted).
class ChatGroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ChatGroup, on_delete=models.CASCADE)


class ChatGroupGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ChatGroup, on_delete=models.CASCADE)
