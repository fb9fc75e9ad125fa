"""Reads for the appraisal: who sees which results and lines (§7.1, §9.12).

HR, Finance and whoever else holds the model's view permission see every row; a
department head sees their department's, sub-departments included; everyone with
a login sees their own. A department is the one the result was computed with
(``Result.department_path``), so a locked period keeps its org chart: a head sees
what their department was appraised on, not who moved in since. A line goes with
its employee's result for the same period.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from appraisal.models import Line, Result
from members.models import Department
from members.selectors import headed_departments_q


def _visible_results_q(user) -> Q:
    # department_path, department_path__startswith: the department computed with.
    return Q(employee__user=user) | headed_departments_q(user, "department_")


def results_visible_to(user) -> QuerySet[Result]:
    """Every Result ``user`` may see, with what lists show (period, employee), in one query."""
    qs = Result.objects.select_related("period", "employee")
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("appraisal.view_result"):
        return qs
    return qs.filter(_visible_results_q(user))


def lines_visible_to(user) -> QuerySet[Line]:
    """Every Line ``user`` may see: those of the results they may see (same period, employee)."""
    qs = Line.objects.select_related("period", "employee", "corrects")
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("appraisal.view_line"):
        return qs
    visible = Result.objects.filter(
        _visible_results_q(user), period=OuterRef("period"), employee=OuterRef("employee")
    )
    return qs.filter(Exists(visible))


def departments_visible_to(user) -> QuerySet[Department]:
    """The departments whose results ``user`` may list (the admin's department filter)."""
    if user.has_perm("appraisal.view_result"):
        return Department.objects.all()
    return Department.objects.filter(headed_departments_q(user))
