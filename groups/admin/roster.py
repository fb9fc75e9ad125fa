"""Admin for rosters: snapshots (read-only), findings, to-dos, identities, exceptions, runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from common.admin import WrittenByServicesMixin
from groups.admin.mixins import RosterScopedAdmin
from groups.models import (
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
    RosterMember,
    RosterSnapshot,
)
from groups.services.findings import (
    finding_decide_left_group,
    member_identity_forget,
    member_identity_remember,
)
from violations.services import CaseError


class RosterMemberInline(admin.TabularInline):
    model = RosterMember
    fields = ["row_number", "display_name", "wechat_id", "remark", "employee", "match"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("employee")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RosterSnapshot)
class RosterSnapshotAdmin(WrittenByServicesMixin, RosterScopedAdmin):
    """Snapshots are evidence: uploaded from the group's page (where parsing and
    checks live), never edited."""

    list_display = [
        "group",
        "taken_at",
        "member_count",
        "members_with_findings",
        "compliance_display",
        "reconciled_at",
        "uploaded_by",
    ]
    list_filter = [("group", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["group", "uploaded_by"]
    date_hierarchy = "taken_at"
    readonly_fields = [
        "group",
        "taken_at",
        "uploaded_at",
        "uploaded_by",
        "file_name",
        "member_count",
        "reconciled_at",
        "members_with_findings",
        "compliance_display",
    ]
    fields = readonly_fields
    inlines = [RosterMemberInline]

    @admin.display(description="合规率")
    def compliance_display(self, obj: RosterSnapshot) -> str:
        return obj.compliance_display

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Finding)
class FindingAdmin(WrittenByServicesMixin, RosterScopedAdmin):
    # Findings: made by reconciliation only.
    list_display = [
        "kind",
        "severity",
        "group",
        "display_name",
        "employee",
        "clause_link",
        "detail",
        "status",
        "decision",
        "last_seen",
    ]
    list_filter = [
        "status",
        "kind",
        "severity",
        ("group", admin.RelatedOnlyFieldListFilter),
        "decision",
    ]
    search_fields = ["display_name", "wechat_id", "employee__name", "employee__employee_no"]
    list_select_related = ["group", "employee", "last_seen__group"]
    readonly_fields = [
        "group",
        "kind",
        "subject",
        "clause",
        "severity",
        "status",
        "employee",
        "display_name",
        "wechat_id",
        "detail",
        "recommended_action",
        "first_seen",
        "last_seen",
        "resolved_by",
        "resolved_at",
        "decision",
        "decided_by",
        "created_at",
    ]
    actions = ["decide_no_case", "decide_propose_case"]

    @admin.display(description="条款", ordering="clause")
    def clause_link(self, obj: Finding) -> str:
        return f"§{obj.clause}"

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("groups.change_finding")

    @admin.action(description="§9.5 退群：不作处理", permissions=["decide"])
    def decide_no_case(self, request, queryset):
        self._decide(request, queryset, propose=False)

    @admin.action(description="§9.5 退群：提交违规审核", permissions=["decide"])
    def decide_propose_case(self, request, queryset):
        self._decide(request, queryset, propose=True)

    def _decide(self, request, queryset, *, propose: bool) -> None:
        findings = list(queryset.filter(kind=Finding.Kind.LEFT_GROUP, status=Finding.Status.OPEN))
        done = []
        for finding in findings:
            try:
                done.append(
                    finding_decide_left_group(
                        finding=finding, propose_case=propose, actor=request.user
                    )
                )
            # §9.5 switched off in the catalog, or another clerk decided it a moment ago.
            except (CaseError, ValueError) as exc:
                self.message_user(request, f"{finding}：{exc}", messages.ERROR)
        skipped = queryset.count() - len(findings)
        self.message_user(request, f"已处理 {len(done)} 条退群记录。", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} 条不是待决定的退群记录，未处理。", messages.WARNING
            )


@admin.register(RosterAction)
class RosterActionAdmin(WrittenByServicesMixin, RosterScopedAdmin):
    # To-dos: closed by the next snapshot that shows the fix (§5.1).
    list_display = [
        "kind",
        "group",
        "finding_link",
        "assignee",
        "due_on",
        "status",
        "reminder_count",
        "escalated_at",
    ]
    list_filter = ["status", "kind", ("group", admin.RelatedOnlyFieldListFilter), "due_on"]
    search_fields = ["finding__display_name", "finding__employee__name", "assignee__name"]
    list_select_related = ["group", "assignee", "finding__employee"]
    readonly_fields = [
        "finding",
        "group",
        "kind",
        "assignee",
        "due_on",
        "status",
        "closed_at",
        "last_reminded_on",
        "reminder_count",
        "escalated_at",
        "created_at",
    ]

    @admin.display(description="问题")
    def finding_link(self, obj: RosterAction) -> str:
        url = reverse("admin:groups_finding_change", args=[obj.finding_id])
        return format_html('<a href="{}">{}</a>', url, obj.finding)


@admin.register(MemberIdentity)
class MemberIdentityAdmin(admin.ModelAdmin):
    """HR's decision about who a display name is; remembered for later snapshots."""

    list_display = ["group", "display_name", "employee", "decided_by", "decided_at", "note"]
    list_filter = [("group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["display_name", "employee__name", "employee__employee_no"]
    list_select_related = ["group", "employee", "decided_by"]
    autocomplete_fields = ["group", "employee"]
    fields = ["group", "display_name", "employee", "note"]

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
        self.message_user(request, "已记住该群昵称对应的员工，并重新核对该群最新快照。")


@admin.register(MembershipException)
class MembershipExceptionAdmin(admin.ModelAdmin):
    list_display = ["group", "employee", "kind", "reason", "approved_by", "valid_until"]
    list_filter = ["kind", ("group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["employee__name", "employee__employee_no", "reason"]
    list_select_related = ["group", "employee", "approved_by"]
    autocomplete_fields = ["group", "employee", "approved_by"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(WrittenByServicesMixin, RosterScopedAdmin):
    # Runs: started from the group's page or the schedule.
    list_display = ["pk", "group", "snapshot", "status", "progress", "started_by", "created_at"]
    list_filter = ["status", ("group", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["group", "snapshot__group", "started_by"]
    readonly_fields = [
        "group",
        "snapshot",
        "status",
        "progress",
        "started_by",
        "created_at",
        "finished_at",
        "summary",
        "error",
    ]
