"""Admin of the hand-overs of a leaver's groups (离职继承, groups.services.lifecycle): who
succeeded whom, in which role, when, and how many to-dos went along. Written by the service
only: read-only here, as a list and on each group's page (交接记录)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import QuickCheckboxMixin
from groups.admin.mixins import GroupListFilter
from groups.models import GroupSuccession

SUCCESSION_FIELDS = ["at", "role", "predecessor_name", "successor_name", "actions_moved", "note"]


class _ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # Names as text: a viewer may not be allowed to open the employees' pages.
    @admin.display(description="离职人员", ordering="predecessor__employee_no")
    def predecessor_name(self, obj: GroupSuccession) -> str:
        return str(obj.predecessor)  # 姓名（工号）

    @admin.display(description="继任人", ordering="successor__employee_no")
    def successor_name(self, obj: GroupSuccession) -> str:
        return str(obj.successor) if obj.successor_id else "待人力资源部指定"


@admin.register(GroupSuccession)
class GroupSuccessionAdmin(QuickCheckboxMixin, _ReadOnly, admin.ModelAdmin):
    list_display = ["group", *SUCCESSION_FIELDS]
    list_filter = ["role", "at", ("group", GroupListFilter)]
    search_fields = [
        "group__name",
        "predecessor__name",
        "predecessor__employee_no",
        "successor__name",
        "successor__employee_no",
    ]
    list_select_related = ["group", "predecessor", "successor"]
    # No date hierarchy: its year links are a DISTINCT over every row; the 时间 filter above
    # offers fixed choices, each an index range.
    fields = ["group", *SUCCESSION_FIELDS]
    readonly_fields = fields


class GroupSuccessionInline(_ReadOnly, admin.TabularInline):
    """交接记录 on the group's page (HR's: needs groups.view_groupsuccession)."""

    model = GroupSuccession
    verbose_name_plural = "交接记录"
    fields = SUCCESSION_FIELDS
    readonly_fields = SUCCESSION_FIELDS
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        # The group too: each row's title (GroupSuccession.__str__) names it — one query
        # per hand-over otherwise.
        return super().get_queryset(request).select_related("group", "predecessor", "successor")
