"""The rule catalog in the admin: HR edits it, every change kept (§8)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import HistoryAdmin
from violations.models import Rule


@admin.register(Rule)
class RuleAdmin(HistoryAdmin):
    """The catalog HR edits; every change is kept in the rule's history (§8)."""

    list_display = [
        "clause",
        "title_zh",
        "default_points",
        "sanction",
        "repeat_window_days",
        "repeat_points_factor",
        "repeat_escalate_at",
        "head_share",
        "is_active",
    ]
    list_display_links = ["clause", "title_zh"]
    list_filter = ["sanction", "is_active"]
    search_fields = ["code", "title_zh", "title_en", "description"]
    fieldsets = [
        (None, {"fields": ["code", "title_zh", "title_en", "description", "is_active"]}),
        ("扣分与处分", {"fields": ["default_points", "sanction"]}),
        (
            "累犯",
            {
                "fields": ["repeat_window_days", "repeat_points_factor", "repeat_escalate_at"],
                "description": "统计期内同一员工同一条款的第 2 次起扣分乘以倍数；"
                "从设定的次数起处分提高一级。",
            },
        ),
        ("连带责任（§9.8、§9.12）", {"fields": ["head_share"]}),
    ]

    @admin.display(description="条款", ordering="sort_key")
    def clause(self, obj: Rule) -> str:
        return f"§{obj.code}"
