from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from violations.models import Rule


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title_zh", "title_en", "default_points", "sanction", "is_active"]
    list_display_links = ["code", "title_zh"]
    list_filter = ["sanction", "is_active"]
    search_fields = ["code", "title_zh", "title_en", "description"]
