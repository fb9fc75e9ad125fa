"""Results and lines in the admin: read-only, scoped by appraisal.selectors (§9.12)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from appraisal import selectors
from appraisal.admin.base import ReadOnlyAdmin
from appraisal.models import Line, Result
from members.models import PATH_SEPARATOR
from violations.models import Sanction


class ScopedAdmin(ReadOnlyAdmin):
    """Read-only rows that a department head and the employee themselves also see (§9.12)."""

    def visible(self, request):
        raise NotImplementedError

    def get_queryset(self, request):
        qs = self.visible(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self.visible(request).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self.visible(request).exists()
        return self.visible(request).filter(pk=obj.pk).exists()


class DepartmentFilter(admin.SimpleListFilter):
    """The department the result was computed with, sub-departments included."""

    title = "部门"
    parameter_name = "department"

    def lookups(self, request, model_admin):
        paths = selectors.departments_visible_to(request.user).values_list("path", flat=True)
        return [(path, path) for path in paths]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(
            Q(department_path=value) | Q(department_path__startswith=value + PATH_SEPARATOR)
        )


@admin.register(Result)
class ResultAdmin(ScopedAdmin):
    list_display = [
        "period",
        "employee",
        "department_path",
        "base_score",
        "deducted",
        "warnings",
        "final_score",
        "grade",
        "lines_link",
    ]
    list_filter = ["period", DepartmentFilter, "grade"]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["period", "employee"]

    def visible(self, request):
        return selectors.results_visible_to(request.user)

    @admin.display(description="明细")
    def lines_link(self, obj: Result) -> str:
        url = reverse("admin:appraisal_line_changelist")
        query = f"?period__id__exact={obj.period_id}&employee__id__exact={obj.employee_id}"
        return format_html('<a href="{}{}">扣分明细</a>', url, query)


@admin.register(Line)
class LineAdmin(ScopedAdmin):
    list_display = [
        "period",
        "employee",
        "case_link",
        "clause",
        "rule_title",
        "sanction_label",
        "occurred_on",
        "points",
        "is_joint",
        "corrects",
    ]
    list_filter = ["period", "clause", "is_joint", "corrects"]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["period", "employee", "corrects"]

    def visible(self, request):
        return selectors.lines_visible_to(request.user)

    @admin.display(description="案件", ordering="case_id")
    def case_link(self, obj: Line) -> str:
        # The case page checks again who may open it (violations.selectors).
        url = reverse("admin:violations_case_change", args=[obj.case_id])
        return format_html('<a href="{}">#{}</a>', url, obj.case_id)

    @admin.display(description="处分", ordering="sanction")
    def sanction_label(self, obj: Line) -> str:
        return Sanction(obj.sanction).label if obj.sanction in Sanction.values else obj.sanction
