"""Reads for the org chart, shared by the admin, commands and exports."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from common.people import person_label  # noqa: F401 — where the apps look for it
from members.models import Department, Employee


def employees_named_by(term: str) -> QuerySet[Employee, dict[str, Any]]:
    """The employees one search word names: their name contains it (any case: Latin names
    too), or their 工号 starts with it — as ids, for a list of their rows to filter on
    (``employee_id__in``): picked on the employee table, then the rows by their employee
    index, instead of LIKE '%…%' over the list's own table joined to every employee
    (docs/performance.md, the case search)."""
    return Employee.objects.filter(
        Q(name__icontains=term) | Q(employee_no__istartswith=term)
    ).values("pk")


def employees_for_list() -> QuerySet[Employee]:
    """Employees with what a list shows (department, position, head flag) in one query."""
    return Employee.objects.select_related("department", "position", "user").with_head_flag()


def headed_departments_q(user, prefix: str = "") -> Q:
    """§9.12: the departments the user's employee heads, with their sub-departments.

    ``prefix`` is the lookup path to the department's ``path`` field
    ("employee__department__", or "department_" for Result.department_path).
    Matches nothing for a user who heads no department.
    """
    q = Q(pk__in=[])
    employee = getattr(user, "employee", None)
    if employee is None:
        return q
    for department in Department.objects.filter(head=employee):
        q |= department.subtree_q(prefix)
    return q
