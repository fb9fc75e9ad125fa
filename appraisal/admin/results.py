"""Results and lines in the admin: read-only, scoped by appraisal.selectors (§9.12).

Links go only where the viewer may follow them: 扣分明细 for whoever may open the lines,
a case, an employee or a period for whoever may open its page; clause codes read §9.4.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html

from appraisal import selectors
from appraisal.admin.base import ReadOnlyAdmin
from appraisal.models import GradeBand, Line, Result
from common.admin import may_open, once_per_request
from members.admin_search import EmployeeSearchMixin
from members.models import PATH_SEPARATOR
from violations.models import Case, Rule, Sanction, clause_sort_key
from violations.selectors import cases_visible_to


class ScopedAdmin(ReadOnlyAdmin):
    """Read-only rows that a department head and the employee themselves also see (§9.12)."""

    def visible(self, request):
        raise NotImplementedError

    def get_queryset(self, request):
        qs = self.visible(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    @once_per_request
    def _sees_some_row(self, request) -> bool:
        return self.visible(request).exists()

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._sees_some_row(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._sees_some_row(request)
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

    def get_facet_queryset(self, changelist):
        """The counts of 显示计数 in one GROUP BY, added up the tree — not a subquery per
        department over every result."""
        filtered = changelist.get_queryset(
            self.request, exclude_parameters=self.expected_parameters()
        )
        counts = dict(
            filtered.order_by()
            .values_list("department_path")
            .annotate(n=Count("pk"))
            .values_list("department_path", "n")
        )
        return {
            f"{i}__c": sum(
                n
                for path, n in counts.items()
                if path == prefix or path.startswith(prefix + PATH_SEPARATOR)
            )
            for i, (prefix, _label) in enumerate(self.lookup_choices)
        }


class ClauseFilter(admin.SimpleListFilter):
    """The catalog's clauses, as §9.4, in clause order: read from the rules (a few dozen),
    never by a DISTINCT over every line (100,000 a period)."""

    title = "条款"
    parameter_name = "clause"

    def lookups(self, request, model_admin):
        codes = Rule.objects.values_list("code", flat=True)
        return [(code, f"§{code}") for code in sorted(codes, key=clause_sort_key)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(clause=value) if value else queryset

    def get_facet_queryset(self, changelist):
        """The counts of 显示计数 in one GROUP BY, not a subquery per clause."""
        filtered = changelist.get_queryset(
            self.request, exclude_parameters=self.expected_parameters()
        )
        counts = dict(
            filtered.order_by()
            .values_list("clause")
            .annotate(n=Count("pk"))
            .values_list("clause", "n")
        )
        return {f"{i}__c": counts.get(code, 0) for i, (code, _) in enumerate(self.lookup_choices)}


class GradeFilter(admin.SimpleListFilter):
    """The grades configured (GradeBand, a handful), and 无等级 — where Django's own filter
    of a text field read every result for its DISTINCT values."""

    title = "等级"
    parameter_name = "grade"
    NONE = "-"

    def lookups(self, request, model_admin):
        grades = GradeBand.objects.values_list("grade", flat=True)
        return [(grade, grade) for grade in grades] + [(self.NONE, "无等级")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(grade="" if value == self.NONE else value)


# The lists' order: the newest period first (periods are added in order, so its key is
# the newest), then each employee's rows — read from an index (Meta.indexes), where the
# models' own order (the period's start, the employee's number) sorted every row through
# two joins (docs/performance.md, 考核结果与扣分明细).
LIST_ORDER = ["-period_id", "employee_id"]

RESULT_FIELDS = [
    "period_shown",
    "employee_shown",
    "department_path",
    "base_score",
    "deducted",
    "warnings",
    "final_score",
    "grade",
]


@admin.register(Result)
class ResultAdmin(EmployeeSearchMixin, ScopedAdmin):
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
    list_filter = ["period", DepartmentFilter, GradeFilter]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["period", "employee"]
    # From an index (result_list_idx), never sorted through the period and employee tables.
    ordering = LIST_ORDER
    # One COUNT per page, not a second one of the whole table for "(共 N 条)".
    show_full_result_count = False
    list_per_page = 50  # rendering the rows is most of the page's CPU (46 → 34 ms)
    fields = RESULT_FIELDS
    readonly_fields = RESULT_FIELDS

    def visible(self, request):
        return selectors.results_visible_to(request.user)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        # A group admin or a head with no line to see would get a 403 there.
        if may_open(request, Line, self.admin_site):
            return shown
        return [name for name in shown if name != "lines_link"]

    @admin.display(description="明细")
    def lines_link(self, obj: Result) -> str:
        url = reverse("admin:appraisal_line_changelist")
        query = f"?period__id__exact={obj.period_id}&employee__id__exact={obj.employee_id}"
        return format_html('<a href="{}{}">扣分明细</a>', url, query)


LINE_FIELDS = [
    "period_shown",
    "employee_shown",
    "case_shown",
    "clause_shown",
    "rule_title",
    "sanction_label",
    "occurred_on",
    "points",
    "is_joint",
    "corrects_shown",
]


@admin.register(Line)
class LineAdmin(EmployeeSearchMixin, ScopedAdmin):
    list_display = [
        "period",
        "employee",
        "case_link",
        "clause_shown",
        "rule_title",
        "sanction_label",
        "occurred_on",
        "points",
        "is_joint",
        "corrects",
    ]
    list_filter = ["period", ClauseFilter, "is_joint", "corrects"]
    search_fields = ["employee__employee_no", "employee__name"]
    list_select_related = ["period", "employee", "corrects"]
    ordering = [*LIST_ORDER, "occurred_on", "case_id"]  # line_list_idx
    show_full_result_count = False  # one COUNT of 100,000 lines per page, not two
    list_per_page = 50  # rendering the rows is most of the page's CPU (59 → 40 ms)
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS

    def visible(self, request):
        return selectors.lines_visible_to(request.user)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.has_perm("violations.view_case"):
            return qs
        # Whether the viewer may open each line's case, in the list's one query.
        opens = cases_visible_to(request.user).filter(pk=OuterRef("case_id"))
        return qs.annotate(case_opens=Exists(opens))

    @admin.display(description="案件", ordering="case_id")
    def case_link(self, obj: Line) -> str:
        if not getattr(obj, "case_opens", True):
            return f"#{obj.case_id}"
        url = reverse("admin:violations_case_change", args=[obj.case_id])
        return format_html('<a href="{}">#{}</a>', url, obj.case_id)

    @admin.display(description="案件")
    def case_shown(self, obj: Line) -> str:
        return self.link(obj, Case(pk=obj.case_id), text=f"#{obj.case_id}")

    @admin.display(description="条款", ordering="clause")
    def clause_shown(self, obj: Line) -> str:
        return f"§{obj.clause}"

    @admin.display(description="调整的期间")
    def corrects_shown(self, obj: Line) -> str:
        return self.link(obj, obj.corrects)

    @admin.display(description="处分", ordering="sanction")
    def sanction_label(self, obj: Line) -> str:
        return Sanction(obj.sanction).label if obj.sanction in Sanction.values else obj.sanction
