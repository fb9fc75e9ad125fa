"""Logins shown as the people behind them, for every app (below members, which links them)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist


def person_label(user) -> str:
    """A login shown as the person behind it: 姓名（工号）, never the login name when
    an employee is linked; "—" for nobody. Callers select_related("<fk>__employee")
    so that lists stay one query."""
    if user is None:
        return "—"
    try:
        employee = user.employee  # members.Employee.user's reverse one-to-one
    except ObjectDoesNotExist:
        employee = None
    if employee is not None:
        return str(employee)
    return user.get_full_name() or user.get_username()
