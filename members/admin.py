from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from members import selectors
from members.models import Department, Employee, Position


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["path", "head", "employee_count"]
    search_fields = ["name", "path"]
    autocomplete_fields = ["parent", "head"]
    list_select_related = ["head"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_employee_count=Count("employees"))

    @admin.display(description="人数", ordering="_employee_count")
    def employee_count(self, obj: Department) -> int:
        return obj._employee_count


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["name", "rank"]
    search_fields = ["name"]
    list_filter = ["rank"]


@admin.register(Employee)
class EmployeeAdmin(SimpleHistoryAdmin):
    list_display = [
        "employee_no",
        "name",
        "department",
        "position",
        "rank",
        "category",
        "head_flag",
        "status",
        "left_on",
        "wechat_id",
    ]
    list_display_links = ["employee_no", "name"]
    list_filter = ["status", "category", "rank", "department"]
    search_fields = ["name", "employee_no", "wechat_id", "phone"]
    autocomplete_fields = ["department", "position", "user"]
    ordering = ["employee_no"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["employee_no", "name", "department", "position", "rank", "category"]}),
        ("状态", {"fields": ["status", "left_on"]}),
        ("联系方式与账号", {"fields": ["wechat_id", "phone", "user"]}),
    ]

    def get_queryset(self, request):
        return selectors.employees_for_list()

    @admin.display(description="部门负责人", boolean=True, ordering="is_head")
    def head_flag(self, obj: Employee) -> bool:
        return obj.is_department_head
