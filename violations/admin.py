from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from violations.models import Case, Rule


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title_zh", "title_en", "default_points", "sanction", "is_active"]
    list_display_links = ["code", "title_zh"]
    list_filter = ["sanction", "is_active"]
    search_fields = ["code", "title_zh", "title_en", "description"]


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    """Cases: for now the proposals other parts make (§5.1 overdue roster actions,
    §9.5 leaving a group); the review workflow builds on this."""

    list_display = [
        "pk",
        "rule",
        "employee",
        "group",
        "state",
        "source",
        "occurred_at",
        "created_at",
    ]
    list_display_links = ["pk", "rule"]
    list_filter = ["state", "source", "rule", "group"]
    search_fields = ["employee__name", "employee__employee_no", "description", "source_key"]
    list_select_related = ["rule", "employee", "group"]
    autocomplete_fields = ["employee", "group", "rule"]
    readonly_fields = ["source", "source_key", "created_at"]
    date_hierarchy = "occurred_at"
