"""Admin for the findings reconciliation made (核对问题): read-only, each seen by whoever may
see it (groups.selectors.findings_visible_to) — HR all, a group's admins and creator their
groups', a department head their department's people (§9.12), and in a confidential group
(§6.1) nothing of who else is in it. The §9.5 and §5.3.a case actions are added by
violations.admin.findings (groups never imports violations)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import once_per_request
from common.admin_export import ExportColumn
from common.spreadsheets.sheets import DATETIME_FORMAT
from groups.admin.mixins import GroupListFilter, RosterScopedAdmin, linked_field
from groups.admin.roster import EvidenceRowsMixin
from groups.models import Finding
from groups.provenance import provenance_text, roster_rows_of
from groups.selectors import (
    can_view_finding,
    finding_seen_as_head_only,
    findings_visible_to,
    heads_confidential_findings,
)
from jobs.list_export import BackgroundListExportMixin
from members.selectors import person_label


def _of_employee(field: str):
    return lambda finding: getattr(finding.employee, field) if finding.employee_id else ""


def _inviter_cell(finding: Finding) -> str:
    if finding.inviter_id:
        return f"{finding.inviter.name}（{finding.inviter.employee_no}）"
    return finding.inviter_text


# 导出 Excel (common.admin_export): the list's rows, with what the finding's page shows of each.
EXPORT_COLUMNS = [
    ExportColumn("类型", lambda f: f.get_kind_display(), width=16),
    ExportColumn("严重程度", lambda f: f.get_severity_display(), width=10),
    ExportColumn("微信群", lambda f: f.group.name, width=20),
    ExportColumn("群昵称", "display_name", width=16),
    ExportColumn("微信号", "wechat_id", width=16),
    ExportColumn("员工", _of_employee("name"), width=12),
    ExportColumn("工号", _of_employee("employee_no"), width=12),
    ExportColumn("条款", "clause_link", width=9),
    ExportColumn("说明", "detail", width=40),
    # §6.1: not for a department head who sees a confidential group's finding (the list's rule).
    # An empty cell, not the list's "—", where nobody is known to have invited them.
    ExportColumn("邀请人", _inviter_cell, width=18, shown_with="inviter_name"),
    ExportColumn("状态", lambda f: f.get_status_display(), width=10),
    ExportColumn("人力资源部决定", lambda f: f.get_decision_display(), width=16),
    ExportColumn(
        "最后发现",
        lambda f: f.last_seen.taken_at if f.last_seen_id else None,
        width=18,
        number_format=DATETIME_FORMAT,
    ),
    ExportColumn("解决时间", "resolved_at", width=18, number_format=DATETIME_FORMAT),
    ExportColumn("创建时间", "created_at", width=18, number_format=DATETIME_FORMAT),
]


@admin.register(Finding)
class FindingAdmin(BackgroundListExportMixin, EvidenceRowsMixin, RosterScopedAdmin):
    # Findings: made by reconciliation only.
    export_columns = EXPORT_COLUMNS
    export_filename = "核对问题"
    list_display = [
        "kind",
        "severity",
        "group",
        "display_name",
        "employee",
        "clause_link",
        "detail",
        "inviter_name",
        "status",
        "decision",
        "last_seen",
    ]
    list_filter = [
        "status",
        "kind",
        "severity",
        ("group", GroupListFilter),
        "decision",
    ]
    search_fields = ["display_name", "wechat_id", "employee__name", "employee__employee_no"]
    list_select_related = ["group", "employee", "inviter", "last_seen__group"]
    # Meta.ordering's "group" sorts by the group's code, through a join no index serves (a
    # sort of every finding per page: 93 ms at 5,000 findings on PostgreSQL); by the group's
    # id the list reads the index finding_list_order in order and stops after a page.
    ordering = ["-severity", "group_id", "kind", "display_name", "-id"]
    # 50 rows, not 100: rendering the rows is most of the list's CPU (71 → 50 ms of Python
    # under load). One COUNT a page: the unfiltered total is a second count of every finding.
    list_per_page = 50
    show_full_result_count = False
    # The subject key ("e:12@34") is the reconciliation's bookkeeping, not shown.
    readonly_fields = [
        "group_shown",
        "kind",
        "clause_link",
        "severity",
        "status",
        "employee_shown",
        "display_name",
        "wechat_id",
        "detail",
        "inviter_text",
        "inviter_shown",
        "provenance",
        "recommended_action",
        "first_seen_shown",
        "last_seen_shown",
        "resolved_by_shown",
        "resolved_at",
        "decision",
        "decided_by_name",
        "created_at",
    ]
    fields = readonly_fields
    # The §9.5 actions (decide whether leaving a group is a case) are added by
    # violations.admin.findings: a decision about a case, and groups never imports violations.

    group_shown = linked_field(Finding, "group")
    employee_shown = linked_field(Finding, "employee")
    first_seen_shown = linked_field(Finding, "first_seen")
    last_seen_shown = linked_field(Finding, "last_seen")
    resolved_by_shown = linked_field(Finding, "resolved_by")
    inviter_shown = linked_field(Finding, "inviter")

    @admin.display(description="邀请人", ordering="inviter__name")
    def inviter_name(self, obj: Finding) -> str:
        # §5.3.a: who brought a stranger or an ineligible member in, as matched (or as the
        # roster says when nobody is sure which employee that is).
        if obj.inviter_id:
            return f"{obj.inviter.name}（{obj.inviter.employee_no}）"
        return obj.inviter_text or "—"

    @admin.display(description="入群经过")
    def provenance(self, obj: Finding) -> str:
        # §5.3.a: "由 X 邀请（方式，日期）", words made here, never stored in ``detail`` (a
        # head reads ``detail`` in a confidential group too, not who invited whom: §6.1).
        return provenance_text(obj, roster_rows_of([obj]).get(obj.pk)) or "—"

    @admin.display(description="条款", ordering="clause")
    def clause_link(self, obj: Finding) -> str:
        return f"§{obj.clause}"

    @admin.display(description="决定人")
    def decided_by_name(self, obj: Finding) -> str:
        return person_label(obj.decided_by)

    # -- who sees which finding (groups.selectors.findings_visible_to) ----------------------
    # HR all; a group's admins and creator their groups' (as the other roster pages); a
    # department head also those about their department's people (§9.12), read-only: rows
    # only services write (no change for anyone), and no §9.5 decision (groups.change_finding).
    # Fields naming other members of a confidential group the viewer sees only as a head (§6.1).
    HEAD_HIDDEN_IN_CONFIDENTIAL = ("inviter_name", "inviter_text", "inviter_shown", "provenance")

    def get_queryset(self, request):
        return findings_visible_to(request.user)

    @once_per_request
    def _heads_a_department(self, request) -> bool:
        employee = getattr(request.user, "employee", None)
        return employee is not None and employee.is_department_head

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._heads_a_department(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return super().has_view_permission(request) or self._heads_a_department(request)
        return super().has_view_permission(request, obj) or can_view_finding(request.user, obj)

    @once_per_request
    def _heads_confidential_findings(self, request) -> bool:
        return heads_confidential_findings(request.user)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self._heads_confidential_findings(request):
            return [f for f in shown if f not in self.HEAD_HIDDEN_IN_CONFIDENTIAL]
        return shown

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if (
            obj is not None
            and obj.group.is_confidential
            and finding_seen_as_head_only(request.user, obj)
        ):
            return [f for f in fields if f not in self.HEAD_HIDDEN_IN_CONFIDENTIAL]
        return fields
