"""Admin for rosters: snapshots (read-only), to-dos, identities, exceptions, runs (the
findings: groups.admin.findings)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from common.admin import QuickCheckboxMixin, RowVersionGuardMixin, WrittenByServicesMixin
from groups.admin.mixins import GroupListFilter, RosterScopedAdmin, linked_field
from groups.models import (
    ChatGroup,
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
    RosterSnapshot,
)
from groups.services.findings import member_identity_forget, member_identity_remember
from members.selectors import person_label

MESSAGE_IDENTITY_REMEMBERED = "已记住该群昵称对应的员工，并重新核对该群最新快照。"


class EvidenceRowsMixin(WrittenByServicesMixin):
    """Snapshots, findings, to-dos and runs are the record of what a roster showed and
    what was decided: written by services, never deleted in the admin, not even by the
    superuser (as appraisal's ReadOnlyAdmin), so no 删除所选 action either."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RosterSnapshot)
class RosterSnapshotAdmin(EvidenceRowsMixin, RosterScopedAdmin):
    """Snapshots are evidence: uploaded from the group's page (where parsing and
    checks live), never edited."""

    list_display = [
        "group",
        "taken_at",
        "member_count",
        "members_with_findings",
        "compliance_display",
        "reconciled_at",
        "uploaded_by_name",
    ]
    # 采集时间 as a date filter (today, 7 days, this month, this year: fixed choices, each an
    # index range), not a date hierarchy, whose year links are a DISTINCT over every snapshot.
    list_filter = [("group", GroupListFilter), "taken_at"]
    list_select_related = ["group", "uploaded_by__employee"]
    list_per_page = 50  # one per upload, every group every week: rendering rows is the cost
    readonly_fields = [
        "group_shown",
        "taken_at",
        "uploaded_at",
        "uploaded_by_name",
        "file_name",
        "member_count",
        "reconciled_at",
        "members_with_findings",
        "compliance_display",
    ]
    fields = readonly_fields
    # The members: a plain table under the fields (the template), not an inline.
    change_form_template = "admin/groups/rostersnapshot/change_form.html"

    group_shown = linked_field(RosterSnapshot, "group")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Text, not links to the employees: a creator may not open employees, and one
        # permission check per member of a 500-member list is not worth a link.
        if obj is not None:
            context["snapshot_members"] = list(obj.members.select_related("employee"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="上传人", ordering="uploaded_by")
    def uploaded_by_name(self, obj: RosterSnapshot) -> str:
        return person_label(obj.uploaded_by)

    @admin.display(description="合规率")
    def compliance_display(self, obj: RosterSnapshot) -> str:
        return obj.compliance_display


@admin.register(RosterAction)
class RosterActionAdmin(EvidenceRowsMixin, RosterScopedAdmin):
    # To-dos: closed by the next snapshot that shows the fix (§5.1).
    list_display = [
        "kind",
        "group",
        "finding_link",
        "clause",
        "owner",
        "assignee",
        "due_on",
        "status",
        "reminder_count",
        "escalated_at",
    ]
    # 由谁处理: HR's own queue (identity questions, accounts) is ?owner__exact=hr.
    list_filter = [
        "status",
        "owner",
        "kind",
        ("group", GroupListFilter),
        "due_on",
    ]
    list_per_page = 50  # rendering the rows is most of the list's CPU
    show_full_result_count = False  # one COUNT a page, not a second over every to-do
    search_fields = ["finding__display_name", "finding__employee__name", "assignee__name"]
    list_select_related = ["group", "assignee", "finding__employee"]
    readonly_fields = [
        "finding_link",
        "clause",
        "group_shown",
        "kind",
        "owner",
        "assignee_shown",
        "due_on",
        "status",
        "closed_at",
        "last_reminded_on",
        "reminder_count",
        "escalated_at",
        "created_at",
    ]

    fields = readonly_fields

    group_shown = linked_field(RosterAction, "group")
    assignee_shown = linked_field(RosterAction, "assignee")

    @admin.display(description="问题")
    def finding_link(self, obj: RosterAction) -> str:
        # Whoever sees a to-do sees its group's findings (same roster scope).
        url = reverse("admin:groups_finding_change", args=[obj.finding_id])
        return format_html('<a href="{}">{}</a>', url, obj.finding)

    @admin.display(description="条款", ordering="finding__clause")
    def clause(self, obj: RosterAction) -> str:
        return f"§{obj.finding.clause}"


@admin.register(MemberIdentity)
class MemberIdentityAdmin(QuickCheckboxMixin, RowVersionGuardMixin, admin.ModelAdmin):
    """HR's decision about who a display name is; remembered for later snapshots."""

    list_display = ["group", "display_name", "employee", "decided_by_name", "decided_at", "note"]
    list_filter = [("group", GroupListFilter)]
    search_fields = ["display_name", "employee__name", "employee__employee_no"]
    list_select_related = ["group", "employee", "decided_by__employee"]
    # By the group's id, as the unique constraint's index (Meta.ordering's "group" joins the
    # groups to sort by their code).
    ordering = ["group_id", "display_name"]
    autocomplete_fields = ["group", "employee"]
    fields = ["group", "display_name", "employee", "note"]

    @admin.display(description="确认人", ordering="decided_by")
    def decided_by_name(self, obj: MemberIdentity) -> str:
        return person_label(obj.decided_by)

    def get_readonly_fields(self, request, obj=None):
        # The decision is about one display name in one group: change who, not which name.
        return ["group", "display_name"] if obj is not None else []

    def delete_model(self, request, obj) -> None:
        member_identity_forget(identity=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for identity in queryset:
            member_identity_forget(identity=identity, actor=request.user)

    def save_model(self, request, obj, form, change) -> None:
        saved = member_identity_remember(
            group=obj.group,
            display_name=obj.display_name,
            employee=obj.employee,
            note=obj.note,
            actor=request.user,
        )
        obj.pk = saved.pk
        self.message_user(request, MESSAGE_IDENTITY_REMEMBERED, messages.SUCCESS)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "employee" in form.base_fields:
            candidates = self._namesakes(request)
            if candidates:
                # §5.3.b a bare name several colleagues share: the finding names them.
                form.base_fields["employee"].help_text = candidates
        return form

    @staticmethod
    def _namesakes(request) -> str:
        """The 同名待确认 finding's candidates when the form was opened from one."""
        group, name = request.GET.get("group", ""), request.GET.get("display_name", "")
        if not group.isdigit() or not name:
            return ""
        finding = (
            Finding.objects.filter(
                group_id=int(group),
                kind=Finding.Kind.AMBIGUOUS,
                status=Finding.Status.OPEN,
                display_name=name,
            )
            .only("detail")
            .first()
        )
        return f"同名员工（{finding.detail}）" if finding else ""

    def response_add(self, request, obj, post_url_continue=None):
        # Opened from a group's finding (?group=…): back to that group's page, where the
        # finding HR just settled is gone; otherwise the admin's usual next page.
        from_group = request.GET.get("group", "")
        if (
            from_group == str(obj.group_id)
            and "_addanother" not in request.POST
            and "_continue" not in request.POST
            and self.admin_site.get_model_admin(ChatGroup).has_view_permission(request, obj.group)
        ):
            return redirect("admin:groups_chatgroup_change", object_id=obj.group_id)
        return super().response_add(request, obj, post_url_continue)


@admin.register(MembershipException)
class MembershipExceptionAdmin(QuickCheckboxMixin, RowVersionGuardMixin, admin.ModelAdmin):
    list_display = ["group", "employee", "kind", "reason", "approved_by", "valid_until"]
    list_filter = ["kind", ("group", GroupListFilter)]
    search_fields = ["employee__name", "employee__employee_no", "reason"]
    list_select_related = ["group", "employee", "approved_by"]
    # By ids, as the unique constraint's index (Meta.ordering's names join two tables to sort).
    ordering = ["group_id", "employee_id"]
    autocomplete_fields = ["group", "employee", "approved_by"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(EvidenceRowsMixin, RosterScopedAdmin):
    # Runs: started from the group's page or the schedule.
    list_display = [
        "number",
        "group",
        "snapshot",
        "status",
        "progress",
        "started_by_name",
        "created_at",
    ]
    list_filter = ["status", ("group", GroupListFilter)]
    list_select_related = ["group", "snapshot__group", "started_by__employee"]
    readonly_fields = [
        "group_shown",
        "snapshot_shown",
        "status",
        "progress",
        "started_by_name",
        "created_at",
        "finished_at",
        "summary_text",
        "error",
    ]
    fields = readonly_fields

    group_shown = linked_field(ReconciliationRun, "group")
    snapshot_shown = linked_field(ReconciliationRun, "snapshot")

    @admin.display(description="编号", ordering="pk")
    def number(self, obj: ReconciliationRun) -> str:
        return f"#{obj.pk}"

    @admin.display(description="发起人", ordering="started_by")
    def started_by_name(self, obj: ReconciliationRun) -> str:
        return person_label(obj.started_by) if obj.started_by_id else "系统"

    @admin.display(description="结果")
    def summary_text(self, obj: ReconciliationRun) -> str:
        return obj.summary_text
