"""What an announcement's page shows below it, read-only: every decision (the timeline), every
version with its attachments, each version's steps, and the postings."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from announcements.models import (
    AnnouncementDecision,
    AnnouncementStep,
    AnnouncementVersion,
    Publication,
)
from common.admin import ReadOnlyInline, TimelineInline
from common.people import person_label


class DecisionInline(TimelineInline):
    """Every move (起草, 提交, each step's 同意/退回, 修改, 撤回, 发布, 事后复核): who, when, why."""

    model = AnnouncementDecision
    verbose_name = "处理记录"
    verbose_name_plural = "处理记录（每一次提交、审批、退回、修改、撤回、发布）"
    fields = readonly_fields = (
        "at",
        "version",
        "step",
        "from_state",
        "to_state",
        "actor_label",
        "for_label",
        "comment",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("on_behalf_of__employee")

    @admin.display(description="代理谁")
    def for_label(self, obj) -> str:
        return person_label(obj.on_behalf_of) if obj.on_behalf_of_id else "—"


def attachment_links(announcement_id: int, attachments) -> str:
    if not attachments:
        return "—"
    return format_html_join(
        "、",
        '<a href="{}">{}</a>',
        (
            (
                reverse(
                    "admin:announcements_announcement_attachment", args=[announcement_id, a.pk]
                ),
                a.original_name,
            )
            for a in attachments
        ),
    )


class VersionInline(ReadOnlyInline):
    model = AnnouncementVersion
    verbose_name = "版本"
    verbose_name_plural = "版本（每次修改都保留）"
    fields = readonly_fields = ("number", "title", "body_text", "files", "author_label", "at")
    ordering = ["number"]

    def get_queryset(self, request):
        return (
            AnnouncementVersion.objects.select_related("created_by__employee")
            .prefetch_related("attachments")
            .order_by(*self.ordering)
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is not None  # whoever may open the item reads its versions

    @admin.display(description="正文")
    def body_text(self, obj) -> str:
        return format_html("<div style='white-space:pre-wrap'>{}</div>", obj.body)

    @admin.display(description="附件")
    def files(self, obj) -> str:
        return attachment_links(obj.announcement_id, list(obj.attachments.all()))

    @admin.display(description="修改人")
    def author_label(self, obj) -> str:
        return person_label(obj.created_by)


class StepInline(ReadOnlyInline):
    model = AnnouncementStep
    verbose_name = "审批环节"
    verbose_name_plural = "审批环节（提交时按审批流程生成）"
    fields = readonly_fields = (
        "version",
        "position",
        "approver_way",
        "approver_label",
        "due_at",
        "outcome",
        "decided_label",
        "decided_at",
        "comment",
    )
    ordering = ["version", "position"]

    def get_queryset(self, request):
        return AnnouncementStep.objects.select_related(
            "approver__employee", "decided_by__employee", "decided_for__employee"
        ).order_by(*self.ordering)

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is not None

    @admin.display(description="审批方式")
    def approver_way(self, obj) -> str:
        return obj.get_approver_kind_display()

    @admin.display(description="审批人")
    def approver_label(self, obj) -> str:
        return person_label(obj.approver) if obj.approver_id else "（该角色任一人）"

    @admin.display(description="处理人")
    def decided_label(self, obj) -> str:
        if obj.decided_by_id is None:
            return "—"
        label = person_label(obj.decided_by)
        if obj.decided_for_id:
            label += f"（代 {person_label(obj.decided_for)}）"
        return label


class PublicationInline(ReadOnlyInline):
    model = Publication
    verbose_name = "发布记录"
    verbose_name_plural = "发布记录（在哪个群、谁、何时发布）"
    fields = readonly_fields = ("group_name", "posted_label", "posted_at", "recorded_at")

    def get_queryset(self, request):
        return Publication.objects.select_related("group", "posted_by__employee")

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is not None

    @admin.display(description="微信群")
    def group_name(self, obj) -> str:
        return obj.group.name  # text: a read-only key links to a page few may open

    @admin.display(description="发布人")
    def posted_label(self, obj) -> str:
        return person_label(obj.posted_by)
