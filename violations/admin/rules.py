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
        "points",
        "sanction",
        "repeat_window_days",
        "repeat_points_factor",
        "repeat_shown",
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
                "fields": [
                    "repeat_window_days",
                    "repeat_points_factor",
                    "repeat_from_offence",
                    "repeat_points",
                    "repeat_escalate_at",
                ],
                "description": "统计期内同一员工同一条款的第 2 次起扣分乘以倍数；"
                "填写了“从第几次起按累犯扣分”和“累犯扣分”时，从该次起改扣固定分数"
                "（首次提醒 0 分也能在再犯时扣分，§5.3.a）。从设定的次数起处分提高一级。",
            },
        ),
        ("连带责任（§9.8、§9.12）", {"fields": ["head_share"]}),
    ]

    readonly_fields = ["clause", "points"]
    # Shown as everywhere else on the read-only page (finance, heads, group admins):
    # §5.1, not 5.1; 1.00 points, as on the cases.
    READONLY_SHOWN = {"code": "clause", "default_points": "points"}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (
                name,
                {**options, "fields": [self.READONLY_SHOWN.get(f, f) for f in options["fields"]]},
            )
            for name, options in fieldsets
        ]

    @admin.display(description="条款", ordering="sort_key")
    def clause(self, obj: Rule) -> str:
        return f"§{obj.code}"

    @admin.display(description="再犯固定扣分")
    def repeat_shown(self, obj: Rule) -> str:
        if obj.repeat_from_offence is None or obj.repeat_points is None:
            return "—"
        return f"第 {obj.repeat_from_offence} 次起 {obj.repeat_points:.2f} 分"

    @admin.display(description="默认扣分", ordering="default_points")
    def points(self, obj: Rule) -> str:
        return f"{obj.default_points:.2f}"
