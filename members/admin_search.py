"""Searching a list of an employee's rows by the employee (members.selectors.employees_named_by)."""

from __future__ import annotations

from django.db.models import Q

from members.selectors import employees_named_by

SEARCH_HELP = "按员工姓名（包含即可）或工号（开头几位即可）搜索；多个词须同时符合。"


class EmployeeSearchMixin:
    """A ModelAdmin whose rows belong to an employee (``employee_search_field``), searched by
    that employee: every word must match (as Django's search), each by ``search_word`` — by
    default the employee's name or 工号 start. Keep ``search_fields`` set: Django shows the
    search box for them."""

    employee_search_field = "employee"
    search_help_text = SEARCH_HELP

    def search_word(self, term: str) -> Q:
        """The rows one search word finds."""
        return Q(**{f"{self.employee_search_field}__in": employees_named_by(term)})

    def get_search_results(self, request, queryset, search_term):
        for term in search_term.split():
            queryset = queryset.filter(self.search_word(term))
        return queryset, False
