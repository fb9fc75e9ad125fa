"""An announcement (公告/通知) to be posted in one or more of the four groups (§4), its
versions and attachments, and the audit row of each move of its state machine.

The author is the login, not the employee: whoever writes the item acts in the services
(actor), and "nobody approves their own item" compares logins — a company leader or an HR
clerk may have no employee record (the personas of tests/conftest.py). The author's
employee, when there is one, is ``author.employee``; the department-head step needs it.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models

from common.models import Transition
from groups.models import ChatGroup, ContentKind


class Announcement(models.Model):
    """One item to be posted: what, where, how secret, and where it stands."""

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        PENDING = "pending", "审批中"
        APPROVED = "approved", "已批准"
        PUBLISHED = "published", "已发布"
        REJECTED = "rejected", "已退回"
        WITHDRAWN = "withdrawn", "已撤回"

    class Classification(models.TextChoices):
        # §6.1: 机密 only in 俊马管理群 (announcements.services.content checks it).
        PUBLIC = "public", "公开"
        INTERNAL = "internal", "内部"
        CONFIDENTIAL = "confidential", "机密"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        on_delete=models.PROTECT,
        related_name="announcements",
    )
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    category = models.ForeignKey(
        ContentKind, verbose_name="内容类别", on_delete=models.PROTECT, related_name="+"
    )
    target_groups = models.ManyToManyField(
        ChatGroup, verbose_name="发布到", related_name="announcements"
    )
    classification = models.CharField(
        "密级", max_length=16, choices=Classification.choices, default=Classification.INTERNAL
    )
    requires_acknowledgement = models.BooleanField(
        "须确认", default=False, help_text="发布后，目标群的员工须在“我的”页面确认已阅。"
    )
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField("当前版本", default=1)
    # The position (1, 2, …) of the step waiting for a decision among this version's
    # steps (AnnouncementStep); 0 when none is waiting (not submitted, or decided).
    current_step = models.PositiveSmallIntegerField("当前审批环节", default=0)
    # 应急 (§4): one company leader approves, the item is reviewed after it is posted.
    review_after = models.BooleanField("事后复核", default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "公告"
        verbose_name_plural = "公告"
        ordering = ["-created_at", "-pk"]
        # The announcements list (announcements.admin): its order, and each filter then it.
        indexes = [
            models.Index(fields=["created_at", "id"], name="announcement_created_idx"),
            models.Index(fields=["state", "created_at", "id"], name="announcement_state_idx"),
            models.Index(fields=["category", "created_at", "id"], name="announcement_category_idx"),
            models.Index(
                fields=["classification", "created_at", "id"], name="announcement_class_idx"
            ),
            models.Index(fields=["author", "created_at", "id"], name="announcement_author_idx"),
        ]
        # The role steps of a route (任一公司领导, 人力资源部) are decided by whoever holds
        # the matching right (company.roles grants them); a person's step by that person.
        permissions = [
            ("approve_as_leader", "以公司领导身份审批公告"),
            ("approve_as_hr", "以人力资源部身份审批公告"),
            ("publish_announcement", "登记公告已在微信群发布"),
        ]

    def __str__(self) -> str:
        return self.title


def attachment_path(instance: AnnouncementAttachment, filename: str) -> str:
    # Never the user's file name on disk (like violations.models.evidence_path): the service
    # names the file by its checked content type, only that extension is kept.
    extension = PurePath(filename).suffix.lower()
    return f"announcements/{instance.announcement_id}/{uuid.uuid4().hex}{extension}"


class AnnouncementAttachment(models.Model):
    """A file attached to an announcement: an image or a PDF, judged by its content like a
    case's evidence (violations.services.evidence.evidence_check_all), kept under the private
    MEDIA_ROOT. A version lists the attachments it carries (AnnouncementVersion.attachments)."""

    announcement = models.ForeignKey(
        Announcement, verbose_name="公告", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("文件", upload_to=attachment_path)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("类型", max_length=32)
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

    class Meta:
        verbose_name = "公告附件"
        verbose_name_plural = "公告附件"
        ordering = ["announcement", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class AnnouncementVersion(models.Model):
    """What one version said: the title, body and attachments as submitted. Version 1 is
    the draft; each revision after a rejection makes the next (announcement_revise)."""

    announcement = models.ForeignKey(
        Announcement, verbose_name="公告", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField("版本")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    attachments = models.ManyToManyField(
        AnnouncementAttachment, verbose_name="附件", blank=True, related_name="versions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "公告版本"
        verbose_name_plural = "公告版本"
        ordering = ["announcement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "number"], name="announcement_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"第 {self.number} 版：{self.title}"


class AnnouncementDecision(Transition):
    """The audit row of one move (submitted, a step approved, rejected, revised, withdrawn,
    published): who, when (common.models.Transition), at which step of which version, and
    for whom a delegate acted."""

    announcement = models.ForeignKey(
        Announcement, verbose_name="公告", on_delete=models.CASCADE, related_name="decisions"
    )
    from_state = models.CharField(
        "原状态", max_length=12, choices=Announcement.State.choices, blank=True
    )
    to_state = models.CharField("新状态", max_length=12, choices=Announcement.State.choices)
    step = models.PositiveSmallIntegerField("审批环节", null=True, blank=True)
    version = models.PositiveIntegerField("版本")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代理谁",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField("意见", blank=True)

    class Meta:
        verbose_name = "公告审批记录"
        verbose_name_plural = "公告审批记录"
        ordering = ["announcement", "at", "pk"]
