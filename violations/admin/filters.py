"""The case list's filters (violations.admin.cases), each with bounded choices at 100,000
cases: what a filter offers is read from the small table (departments, groups, months) and
asked of the cases by an index probe, never by a DISTINCT over every case; their counts
(显示计数, ?_facets=True) are one GROUP BY each, not a subquery per choice
(docs/performance.md, 案件列表).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from members.models import PATH_SEPARATOR, Department
from violations import selectors


class DepartmentFilter(admin.SimpleListFilter):
    """The offender's department with its sub-departments (§9.12: 生产部 takes in
    生产部/一车间), listing the departments that have visible cases and those above them.

    Asked department by department (an index probe each: EXISTS), never a DISTINCT over
    every case; its counts (显示计数) are one GROUP BY, not a subquery per department."""

    title = "部门"
    parameter_name = "department"

    def lookups(self, request, model_admin):
        visible = selectors.cases_visible_to(request.user).order_by()
        with_cases = Department.objects.filter(
            Exists(visible.filter(employee__department=OuterRef("pk")))
        ).values_list("path", flat=True)
        paths = set()
        for own_path in with_cases:
            parts = own_path.split(PATH_SEPARATOR)
            paths.update(PATH_SEPARATOR.join(parts[:n]) for n in range(1, len(parts) + 1))
        departments = Department.objects.filter(path__in=paths).order_by("path")
        self._departments = {str(d.pk): d for d in departments}
        # Values as text, as they come from the query string: facet counting (显示计数)
        # hands queryset() the lookups' own values, not the request's.
        return [(pk, d.path) for pk, d in self._departments.items()]

    def queryset(self, request, queryset):
        value = str(self.value() or "")
        if not value:
            return queryset
        department = self._departments.get(value)
        # isdecimal on ASCII: "①" is a digit that int() refuses.
        if department is None and value.isascii() and value.isdecimal():  # chosen, no visible case
            department = Department.objects.filter(pk=int(value)).first()
        if department is None:
            return queryset.none()
        return queryset.filter(department.subtree_q("employee__department__"))

    def get_facet_queryset(self, changelist):
        """The counts of 显示计数 in one pass: cases per department, added up the tree."""
        filtered = changelist.get_queryset(
            self.request, exclude_parameters=self.expected_parameters()
        )
        per_path = (
            filtered.order_by()
            .values_list("employee__department__path")
            .annotate(n=Count("pk"))
            .values_list("employee__department__path", "n")
        )
        counts = dict(per_path)
        facets = {}
        for i, (pk, _label) in enumerate(self.lookup_choices):
            prefix = self._departments[pk].path
            facets[f"{i}__c"] = sum(
                n
                for path, n in counts.items()
                if path == prefix or path.startswith(prefix + PATH_SEPARATOR)
            )
        return facets


class GroupFilter(admin.RelatedFieldListFilter):
    """The groups that have visible cases (as RelatedOnlyFieldListFilter), asked group by
    group — an index probe each (EXISTS) — instead of a DISTINCT over every case."""

    def field_choices(self, field, request, model_admin):
        visible = selectors.cases_visible_to(request.user).order_by()
        with_cases = Q(Exists(visible.filter(group=OuterRef("pk"))))
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to=with_cases
        )


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


class OccurredMonthFilter(admin.SimpleListFilter):
    """发生月份, newest first: every month from the first case's to the last one's — two index
    probes — where a date hierarchy read every case for its links. Months are the company's
    local months, as the appraisal's periods are."""

    title = "发生月份"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        # Two queries, each one end of the occurred_at index: SQLite reads the whole index
        # for a MIN and a MAX asked together.
        # The viewer's own cases: a month that only others' cases fill is not theirs to see.
        times = (
            selectors.cases_visible_to(request.user)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
        )
        first, last = times.first(), times.last()
        if first is None or last is None:
            return []
        first = timezone.localdate(first).replace(day=1)
        month = timezone.localdate(last).replace(day=1)
        choices = []
        while month >= first:
            choices.append((f"{month:%Y-%m}", f"{month.year}年{month.month}月"))
            month = _previous_month(month)
        return choices

    @staticmethod
    def month_q(value: str) -> Q | None:
        """The local month ``value`` ("2026-10") as a range of occurred_at; None if no month."""
        year, _, month = value.partition("-")
        try:
            start = dt.date(int(year), int(month), 1)
            end = _next_month(start)
        except (ValueError, OverflowError):  # not a month, or past the calendar's last (9999-12)
            return None
        zone = timezone.get_current_timezone()
        return Q(
            occurred_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=zone),
            occurred_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=zone),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        month = self.month_q(value)
        return queryset.none() if month is None else queryset.filter(month)

    def get_facet_counts(self, pk_attname, filtered_qs):
        """The counts of 显示计数: a range test per month in the one aggregate, not a subquery
        per month (Django's) nor a month computed per case (a Python function on SQLite)."""
        return {
            f"{i}__c": Count(pk_attname, filter=self.month_q(value))
            for i, (value, _) in enumerate(self.lookup_choices)
        }
