"""Reads for the org chart, shared by the admin, commands and exports."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Employee


def employees_for_list() -> QuerySet[Employee]:
    """Employees with what a list shows (department, position, head flag) in one query."""
    return Employee.objects.select_related("department", "position", "user").with_head_flag()
