from __future__ import annotations

from django.contrib import admin

from common.admin import HistoryAdmin
from workdays.models import CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(HistoryAdmin):
    """HR's holiday table: browse by year and month, correct or add a day. A row HR saves
    counts as HR's own (source), so a later seed from the package leaves it alone."""

    list_display = ["date", "weekday", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]
    readonly_fields = ["source"]

    @admin.display(description="星期", ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.HR
        super().save_model(request, obj, form, change)
