"""人事变动 in the admin: joiners, movers and leavers (members.PersonnelEvent, recorded by
members.signals) and what the groups did about each (groups.services.lifecycle), as HR reads
them — a read-only list, and the inline on the employee's page (members.admin.EmployeeAdmin).

Imported by members.admin, which Django's admin autodiscovery loads, so the registration
below runs with the rest of the app's admin."""

from __future__ import annotations

from django.contrib import admin

from common.admin import QuickCheckboxMixin
from members import selectors
from members.models import PersonnelEvent


def changes_text(changes: dict) -> str:
    """PersonnelEvent.changes in words: 部门：生产部 → 销售部；职级：1 → 5."""
    return "；".join(
        f"{field}：{before if before not in (None, '') else '—'} → "
        f"{after if after not in (None, '') else '—'}"
        for field, (before, after) in changes.items()
    )


def outcome_text(outcome: dict) -> str:
    """PersonnelEvent.outcome in words: what the groups did (groups.services.lifecycle)."""
    parts = []
    for key, label in (("opened", "新开待办"), ("closed", "关闭待办"), ("moved", "转交待办")):
        if outcome.get(key):
            counts = "、".join(f"{group} {n} 项" for group, n in outcome[key].items())
            parts.append(f"{label}：{counts}")
    for succession in outcome.get("successions", []):
        role = "群主" if succession.get("role") == "creator" else "管理员"
        parts.append(
            f"交接：{succession.get('group')} {role} → {succession.get('successor') or '待指定'}"
        )
    if outcome.get("waiting"):
        parts.append(f"待核对后判断：{'、'.join(outcome['waiting'])}")
    return "；".join(parts) or "—"


class _PersonnelEventShown:
    """Read-only: events are recorded by members.signals whenever an employee changes."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="变动")
    def changes_shown(self, obj: PersonnelEvent) -> str:
        return changes_text(obj.changes)

    @admin.display(description="群的处理")
    def outcome_shown(self, obj: PersonnelEvent) -> str:
        return outcome_text(obj.outcome)

    @admin.display(description="操作人", ordering="actor__username")
    def actor_name(self, obj: PersonnelEvent) -> str:
        return selectors.person_label(obj.actor) if obj.actor_id else "系统"


@admin.register(PersonnelEvent)
class PersonnelEventAdmin(QuickCheckboxMixin, _PersonnelEventShown, admin.ModelAdmin):
    """人事变动: joiners, movers and leavers, and what the groups did about each (HR reads)."""

    list_display = ["at", "employee_shown", "kind", "changes_shown", "outcome_shown", "actor_name"]
    list_filter = ["kind", "at"]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["employee", "actor__employee"]
    # 50 rows, not 100: rendering the rows is most of the list's CPU (71 → 48 ms of Python
    # under load); one COUNT a page, not a second over every event (one per employee at least).
    list_per_page = 50
    show_full_result_count = False
    # No date hierarchy: its year links are a DISTINCT over every event; the 时间 filter
    # offers fixed choices, each a range of the index on ``at``.
    fields = ["at", "employee_shown", "kind", "changes_shown", "outcome_shown", "actor_name"]
    readonly_fields = fields

    @admin.display(description="员工", ordering="employee__employee_no")
    def employee_shown(self, obj: PersonnelEvent) -> str:
        return str(obj.employee)  # 姓名（工号）, as text


class PersonnelEventInline(_PersonnelEventShown, admin.TabularInline):
    """The employee's 人事变动 on their page (HR's: needs members.view_personnelevent)."""

    model = PersonnelEvent
    fields = ["at", "kind", "changes_shown", "outcome_shown", "actor_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor__employee")
