"""How a case shows what it points to: a link only where the viewer may follow it, people by
name (members.selectors.person_label), never a login linked to /admin/auth/user/N/;
its timeline and evidence rows (its history in words: common.admin.HistoryAdmin).

Django's read-only foreign-key display links to the target's admin page without asking
whether the viewer may open it; the case page uses the display methods below instead.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.template.loader import render_to_string

from common.admin import ReadOnlyInline, TimelineInline, admin_link
from members.selectors import person_label
from violations import selectors
from violations.models import Case, CaseTransition, Evidence

# The case's foreign keys as they are shown read-only: (field, display method).
READONLY_DISPLAY = {
    "rule": "rule_link",
    "employee": "employee_link",
    "group": "group_link",
    "joint_of": "joint_of_link",
    "reported_by": "reporter",
    "confirmed_by": "confirmer",
    "source_key": "source_event",
}
LINKED = ["rule", "employee", "group", "joint_of"]


def attach_links(request, model_admin: admin.ModelAdmin, case: Case) -> Case:
    """Work out once per page which of the case's targets the viewer may open; the
    display methods of CaseDisplay read the result (they get the case, not the request)."""
    case.viewer_links = {
        name: admin_link(request, getattr(case, name), site=model_admin.admin_site)
        for name in LINKED
    }
    if case.source == Case.Source.SCREENING:
        # The screening hit that proposed it (the screening app's reverse relation, read by
        # name: this app imports none above it): its page shows the message in context.
        hit = getattr(case, "screening_hit", None)
        if hit is not None:
            label = f"{selectors.source_event_label(case.source_key)}（查看消息上下文）"
            case.viewer_links["source_key"] = admin_link(
                request, hit, text=label, site=model_admin.admin_site
            )
    return case


def _linked(case: Case, name: str) -> str:
    links = getattr(case, "viewer_links", None)
    if links is not None:
        return links[name]
    target = getattr(case, name)
    return "—" if target is None else str(target)  # no request, no link (e.g. history)


class CaseDisplay:
    """Mixed into CaseAdmin: the read-only fields of a case page."""

    @admin.display(description="条款")
    def rule_link(self, obj: Case) -> str:
        return _linked(obj, "rule")

    @admin.display(description="员工")
    def employee_link(self, obj: Case) -> str:
        return _linked(obj, "employee")

    @admin.display(description="微信群")
    def group_link(self, obj: Case) -> str:
        return _linked(obj, "group")

    @admin.display(description="连带于")
    def joint_of_link(self, obj: Case) -> str:
        return _linked(obj, "joint_of")

    @admin.display(description="报告人", ordering="reported_by")
    def reporter(self, obj: Case) -> str:
        return person_label(obj.reported_by)

    @admin.display(description="确认人")
    def confirmer(self, obj: Case) -> str:
        return person_label(obj.confirmed_by)

    @admin.display(description="来源事件")
    def source_event(self, obj: Case) -> str:
        links = getattr(obj, "viewer_links", None) or {}
        return links.get("source_key") or selectors.source_event_label(obj.source_key)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # No add/edit/delete/view icons beside the case's rule, employee and group: those
        # pages belong to other roles, and a case is filed against what exists.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return formfield


# -- the case's rows: timeline and evidence ------------------------------------------------


def evidence_preview(evidence: Evidence) -> str:
    """A thumbnail (images) or a link (PDF), both served by violations.views."""
    return render_to_string("admin/violations/evidence_preview.html", {"evidence": evidence})


class CaseTransitionInline(TimelineInline):
    """The case's timeline: every state change, who made it and why, oldest first."""

    model = CaseTransition
    verbose_name_plural = "处理记录"


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = [
        "preview",
        "original_name",
        "content_type",
        "size",
        "for_appeal",
        "uploader",
        "uploaded_at",
    ]
    readonly_fields = fields
    ordering = ["uploaded_at", "pk"]

    def get_queryset(self, request):
        return Evidence.objects.select_related("uploaded_by__employee").order_by(*self.ordering)

    def has_view_permission(self, request, obj=None) -> bool:
        # Finance sees the case for the appraisal, never its evidence.
        return obj is not None and selectors.can_view_evidence(request.user, obj)

    @admin.display(description="预览")
    def preview(self, obj: Evidence) -> str:
        return evidence_preview(obj)

    @admin.display(description="上传人")
    def uploader(self, obj: Evidence) -> str:
        return person_label(obj.uploaded_by)
