"""Who acts and who offends in the demo cases (company.demo.cases): the two HR logins
that make four eyes possible, and the employees the cases are about.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from company import roles
from members.models import HR_DEPARTMENT, Employee
from violations.models import Case
from violations.services import case_explain, explanation_due

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

DEMO_HR_USERNAMES = ("demo-hr-1", "demo-hr-2")


def demo_hr_logins(reserved: set[str]) -> tuple[AbstractUser, AbstractUser]:
    """demo-hr-1 and demo-hr-2: HR role, unusable passwords, linked to free HR clerks."""
    user_model = get_user_model()
    hr_role = Group.objects.get(name=roles.HR)
    clerks = list(
        Employee.objects.active()
        .filter(department__path=HR_DEPARTMENT, user__isnull=True, headed_departments=None)
        .exclude(employee_no__in=reserved)
        .order_by("employee_no")
    )
    users = []
    for username in DEMO_HR_USERNAMES:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username, is_staff=True)
            user.set_unusable_password()
            user.full_clean()
            user.save()
        user.groups.add(hr_role)
        if not Employee.objects.filter(user=user).exists() and clerks:
            clerk = clerks.pop(0)
            clerk.user = user
            clerk.save(update_fields=["user"])
        users.append(user)
    return users[0], users[1]


# The "anyone" slots the employee persona takes: §9.4 proposed, §9.7 confirmed three
# times (open to appeal for CASE_APPEAL_WINDOW_DAYS after the demo ran), §9.10 upheld.
OWN_CASES_SLOTS = (0, 2, 5)


def offenders(
    rng: random.Random, own_cases_employee_no: str | None = None
) -> tuple[list[Employee], list[Employee]]:
    """(anyone, office staff): active employees who head nothing, work outside HR and have
    no login, in a seeded order; office staff (行管) are the ones in the work group (§4).
    The employee of ``own_cases_employee_no`` (login or not) takes OWN_CASES_SLOTS."""
    own = (
        Employee.objects.filter(employee_no=own_cases_employee_no).first()
        if own_cases_employee_no
        else None
    )
    candidates = list(
        Employee.objects.active()
        .filter(user__isnull=True, headed_departments=None, department__head__isnull=False)
        .exclude(department__path=HR_DEPARTMENT)
        .select_related("department")
        .order_by("employee_no")
    )
    rng.shuffle(candidates)
    if own is not None:
        candidates = [e for e in candidates if e.pk != own.pk]
    office = [e for e in candidates if e.category == Employee.Category.ADMIN]
    others = [e for e in candidates if e.category != Employee.Category.ADMIN]
    # Distinct people for the "anyone" slots, so no case becomes a repeat offence by chance
    # (the employee persona's slots are cases of different rules).
    anyone = _cycle(others or candidates, 6)
    if own is not None:
        rest = iter(anyone)
        anyone = [own if slot in OWN_CASES_SLOTS else next(rest) for slot in range(6)]
    return anyone, _cycle(office or candidates, 4)


def _cycle(people: list[Employee], n: int) -> list[Employee]:
    return [people[i % len(people)] for i in range(n)]


DEMO_EXPLANATION = "我已知悉，没有其他补充说明。"


def explained_by_employee(case: Case, text: str = DEMO_EXPLANATION) -> Case:
    """``case``, explained by its employee first when HR would wait for them (they have a
    login, so were told: violations.services.telling.explanation_due). The demo confirms the
    moment a case is proposed; in a real company the employee explains or the window of
    CASE_EXPLANATION_WORKING_DAYS passes first, and the decider's page shows either."""
    if explanation_due(case) is not None:
        case = case_explain(case=case, text=text, actor=case.employee.user)
    return case
