"""Announcements in the admin (§4, §6.1): the author drafts, revises and submits; approvers find
待我审批 and decide, one by one or in bulk; the author or HR records the postings; the page
shows every version and every decision.

Rows: announcements.admin.scope (who opens what); writes: announcements.services only — the
admin never saves an announcement itself (save_model calls announcement_create or
announcement_revise, the state changes through AnnouncementMoves).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import path

from announcements.admin.decisions import AnnouncementMoves
from announcements.admin.forms import AnnouncementForm
from announcements.admin.inlines import DecisionInline, PublicationInline, StepInline, VersionInline
from announcements.admin.scope import InboxFilter, announcements_visible_to
from announcements.models import Announcement, AnnouncementAttachment, AnnouncementStep
from announcements.services import announcement_create, announcement_revise
from common.admin import RowVersionGuardMixin, once_per_request
from common.downloads import file_response
from common.people import person_label

State = Announcement.State
EDITABLE_STATES = (State.DRAFT, State.REJECTED)
STATUS_FIELDS = [
    "state",
    "version",
    "current_step_label",
    "author_label",
    "review_after",
    "reviewed_label",
    "reviewed_at",
    "created_at",
    "updated_at",
]


def _current_step(field: str) -> Subquery:
    return Subquery(
        AnnouncementStep.objects.filter(
            announcement=OuterRef("pk"),
            version=OuterRef("version"),
            position=OuterRef("current_step"),
        ).values(field)[:1]
    )


@admin.register(Announcement)
class AnnouncementAdmin(AnnouncementMoves, RowVersionGuardMixin, admin.ModelAdmin):
    form = AnnouncementForm
    list_display = [
        "title",
        "state",
        "category",
        "groups",
        "classification",
        "waiting_for",
        "author_label",
        "version",
        "updated_at",
    ]
    list_filter = [InboxFilter, "state", "category", "classification"]
    search_fields = ["title", "body"]
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/announcements/announcement/change_form.html"
    change_list_template = "admin/announcements/announcement/change_list.html"

    def get_queryset(self, request):
        return announcements_visible_to(request.user).annotate(
            current_kind=_current_step("approver_kind"),
            current_approver=_current_step("approver__employee__name"),
        )

    # -- permissions: any login drafts (docs/permissions.md); the rest is who the row says --

    @once_per_request
    def _staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self._staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._staff(request):
            return False
        return obj is None or announcements_visible_to(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request) -> bool:
        return self._staff(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # The author edits a draft or a rejected item (a new version); nobody else, never after.
        if obj is None:
            return self._staff(request)
        return obj.author_id == request.user.pk and obj.state in EDITABLE_STATES

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # a record of what was asked and decided

    # -- columns ----------------------------------------------------------------------------

    @admin.display(description="当前审批环节")
    def current_step_label(self, obj: Announcement) -> str:
        # 0 means "no step waiting" (a draft, an approved item): shown as a dash.
        return f"第 {obj.current_step} 步" if obj.current_step else "—"

    @admin.display(description="发布到")
    def groups(self, obj: Announcement) -> str:
        return "、".join(g.name for g in obj.target_groups.all())

    @admin.display(description="起草人", ordering="author__employee__name")
    def author_label(self, obj: Announcement) -> str:
        return person_label(obj.author)

    @admin.display(description="待谁审批")
    def waiting_for(self, obj: Announcement) -> str:
        if obj.state != State.PENDING:
            return "—"
        kind = getattr(obj, "current_kind", None)
        label = dict(AnnouncementStep._meta.get_field("approver_kind").flatchoices).get(kind, "")
        who = getattr(obj, "current_approver", None)
        return f"第 {obj.current_step} 步：{label}" + (f"（{who}）" if who else "")

    @admin.display(description="内容类别")
    def category_label(self, obj: Announcement) -> str:
        return obj.category.name

    @admin.display(description="复核人")
    def reviewed_label(self, obj: Announcement) -> str:
        return person_label(obj.reviewed_by) if obj.reviewed_by_id else "—"

    # -- the form ---------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        content = ["target_groups", "category", "classification", "title", "body"]
        if obj is None:
            return [("公告", {"fields": [*content, "requires_acknowledgement", "files"]})]
        editable = self.has_change_permission(request, obj)
        if not editable:  # the category as text: a read-only key links to a page few may open
            content[content.index("category")] = "category_label"
        fields = [*content, "requires_acknowledgement"] + (["files"] if editable else [])
        return [("公告", {"fields": fields}), ("状态", {"fields": STATUS_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # 须确认 is set when drafting; a revision changes the text, groups and category.
        return ["category_label", "requires_acknowledgement", *STATUS_FIELDS]

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [VersionInline, StepInline, DecisionInline, PublicationInline]

    def save_model(self, request, obj, form, change):
        """Through the services: a draft (version 1), or the author's next version."""
        data = form.cleaned_data
        if change:
            saved = announcement_revise(
                announcement=obj,
                title=data["title"],
                body=data["body"],
                category=data["category"],
                groups=data["target_groups"],
                classification=data["classification"],
                files=data.get("files") or [],
                actor=request.user,
            )
        else:
            saved = announcement_create(
                title=data["title"],
                body=data["body"],
                category=data["category"],
                groups=data["target_groups"],
                classification=data["classification"],
                requires_acknowledgement=data.get("requires_acknowledgement", False),
                files=data.get("files") or [],
                actor=request.user,
            )
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # the services set the target groups and attachments; the inlines are read-only

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)  # none saved

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if obj is not None:
            extra.update(self.moves_context(request, obj))
            extra["show_save_and_add_another"] = False
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        extra["waiting_url"] = "?inbox=waiting"
        return super().changelist_view(request, extra)

    # -- extra pages ------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/move/",
                wrap(self.move_view),
                name="announcements_announcement_move",
            ),
            path(
                "<path:object_id>/attachments/<int:attachment_id>/",
                wrap(self.attachment_view),
                name="announcements_announcement_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request, object_id, attachment_id):
        """An attachment, to whoever may open its announcement (files are private)."""
        announcement = self.get_object(request, unquote(object_id))
        if announcement is None:
            raise PermissionDenied
        attachment = AnnouncementAttachment.objects.filter(
            announcement=announcement, pk=attachment_id
        ).first()
        if attachment is None:
            raise Http404("没有这个附件。")
        return file_response(
            attachment.file.open("rb"),
            filename=attachment.original_name,
            content_type=attachment.content_type,
            as_attachment=attachment.content_type == "application/pdf",
        )
