"""The demo company written to the database: ``demo_company_apply`` upserts what
company.demo.build made by natural keys (department path, position name, 工号) and
writes only what differs: a second run changes nothing, and a larger run only adds
people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Q
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from company import roles
from company.demo.build import DemoCompany, DemoDepartment, DemoEmployee, DemoPersona
from groups.models import ChatGroup
from groups.services import (
    chat_group_assign_default_staff,
    chat_group_sync_all_permissions,
    seed_groups,
)
from members.models import Department, Employee, Position
from members.services import department_get_or_create_by_path, department_set_head, seed_org_chart

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

CHANGE_REASON = "演示数据（manage.py demo）"
BATCH_SIZE = 1000  # Django lowers it further to the database's parameter limit


@dataclass(frozen=True)
class DemoSummary:
    departments: int
    employees: int
    active: int
    left: int
    production: int
    admin: int
    namesake_groups: int
    created: int
    updated: int
    personas: tuple[str, ...]  # usernames created or changed in this run


@transaction.atomic
def demo_company_apply(*, company: DemoCompany, password: str | None) -> DemoSummary:
    """Make the database hold ``company``, in one transaction.

    Guarantees: the policy's seed data exists (roles, org chart, four groups);
    departments, positions and employees match the company (by path, name,
    工号), writing only what differs, with history rows for what it writes;
    each department has its head; each group has its default creator and
    admins (§5.1, §5.2), except 俊马欢乐谷, created by the 生产部 head (the
    "creator" persona); persona logins exist only when ``password`` is given;
    groups' object permissions match their creator and admins.
    """
    role_groups = roles.seed_roles()
    seed_org_chart()
    seed_groups()
    positions = _apply_positions(company.positions)
    departments = _apply_departments(company.departments)
    created, updated, by_no = _apply_employees(company.employees, departments, positions)
    for spec in company.departments:
        department, head = departments[spec.path], by_no[spec.head]
        if department.head_id != head.pk:
            department_set_head(department=department, head=head)
    personas: tuple[str, ...] = ()
    if password:
        personas = _apply_personas(company.personas, by_no, role_groups, password)
    for group in ChatGroup.objects.all():
        chat_group_assign_default_staff(group=group)
    _apply_group_creators(company.group_creators, by_no)
    # Bulk writes send no signals: sync the groups' object permissions here.
    chat_group_sync_all_permissions()
    return _summary(created, updated, personas)


def _apply_group_creators(
    creators: tuple[tuple[str, str], ...], by_no: dict[str, Employee]
) -> None:
    """§5.1: a group created by someone other than the HR head (so a creator who is not HR
    can be tried); the object permissions follow in chat_group_sync_all_permissions."""
    groups = ChatGroup.objects.in_bulk([code for code, _ in creators], field_name="code")
    for code, employee_no in creators:
        group, creator = groups.get(code), by_no[employee_no]
        if group is not None and group.creator_id != creator.pk:
            group.creator = creator
            group.save(update_fields=["creator"])


def _apply_positions(specs: tuple[tuple[str, int], ...]) -> dict[str, Position]:
    positions = {p.name: p for p in Position.objects.all()}
    for name, rank in specs:
        position = positions.get(name) or Position(name=name)
        if position.pk is None or position.rank != rank:
            position.rank = rank
            position.full_clean()
            position.save()
            positions[name] = position
    return positions


def _apply_departments(specs: tuple[DemoDepartment, ...]) -> dict[str, Department]:
    departments = {d.path: d for d in Department.objects.select_related("parent")}
    for spec in specs:
        if spec.path not in departments:
            departments[spec.path] = department_get_or_create_by_path(path=spec.path)
    return departments


def _apply_employees(
    specs: tuple[DemoEmployee, ...],
    departments: dict[str, Department],
    positions: dict[str, Position],
) -> tuple[int, int, dict[str, Employee]]:
    by_no = {e.employee_no: e for e in Employee.objects.all()}
    new: list[Employee] = []
    changed: list[Employee] = []
    changed_fields: set[str] = set()
    for spec in specs:
        values = {
            "name": spec.name,
            "department_id": departments[spec.department].pk,
            "position_id": positions[spec.position].pk,
            "rank": spec.rank,
            "category": spec.category,
            "status": spec.status,
            "left_on": spec.left_on,
            "wechat_id": spec.wechat_id,
            "phone": spec.phone,
        }
        employee = by_no.get(spec.employee_no)
        if employee is None:
            new.append(Employee(employee_no=spec.employee_no, **values))
            continue
        if employee.status == spec.status == Employee.Status.LEFT:
            # A leaving date is a fact: a run on a later day does not move it.
            values["left_on"] = employee.left_on
        diff = [field for field, value in values.items() if getattr(employee, field) != value]
        for field in diff:
            setattr(employee, field, values[field])
        if diff:
            changed.append(employee)
            changed_fields.update(diff)
    for employee in new + changed:
        # Foreign keys come from the dicts above; skip their one-query-per-row check.
        employee.full_clean(
            exclude=["department", "position", "user"],
            validate_unique=False,
            validate_constraints=False,
        )
    created = bulk_create_with_history(
        new, Employee, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON
    )
    by_no.update((e.employee_no, e) for e in created)
    if changed:
        bulk_update_with_history(
            changed,
            Employee,
            sorted(changed_fields),  # attnames: bulk_update accepts "department_id"
            batch_size=BATCH_SIZE,
            default_change_reason=CHANGE_REASON,
        )
    return len(new), len(changed), by_no


def _apply_personas(
    personas: tuple[DemoPersona, ...],
    by_no: dict[str, Employee],
    role_groups: dict[str, Group],
    password: str,
) -> tuple[str, ...]:
    user_model = get_user_model()
    users = {
        u.username: u
        for u in user_model.objects.filter(username__in=[p.username for p in personas])
    }
    passwords = _Passwords(password)
    touched = []
    for persona in personas:
        user, changed = _persona_login(user_model, users.get(persona.username), persona, passwords)
        role = role_groups[persona.role] if persona.role else None
        if role is not None and not user.groups.filter(pk=role.pk).exists():
            user.groups.add(role)
            changed = True
        if _link_employee(by_no[persona.employee_no], user):
            changed = True
        if changed:
            touched.append(persona.username)
    return tuple(touched)


class _Passwords:
    """Hashing is slow on purpose: hash once for all personas, check each stored hash once."""

    def __init__(self, password: str) -> None:
        self.password = password
        self._hash: str | None = None
        self._verified: dict[str, bool] = {}

    def hash(self) -> str:
        if self._hash is None:
            self._hash = make_password(self.password)
        return self._hash

    def matches(self, stored: str) -> bool:
        if stored not in self._verified:
            self._verified[stored] = check_password(self.password, stored)
        return self._verified[stored]


def _persona_login(
    user_model: type[AbstractUser],
    user: AbstractUser | None,
    persona: DemoPersona,
    passwords: _Passwords,
) -> tuple[AbstractUser, bool]:
    """(the persona's login, whether this run created or changed it)."""
    is_staff = persona.role is not None
    if user is None:
        user = user_model(username=persona.username, is_staff=is_staff, password=passwords.hash())
        user.full_clean()
        user.save()
        return user, True
    update_fields = []
    if not passwords.matches(user.password):
        user.password = passwords.hash()
        update_fields.append("password")
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        update_fields.append("is_staff")
    if update_fields:
        user.save(update_fields=update_fields)
    return user, bool(update_fields)


def _link_employee(employee: Employee, user: AbstractUser) -> bool:
    """Link the persona's employee to its login (and no other employee); True if it changed."""
    if employee.user_id == user.pk:
        return False
    for other in Employee.objects.filter(user=user):
        other.user = None
        other.save(update_fields=["user"])
    employee.user = user
    employee.save(update_fields=["user"])
    return True


def _summary(created: int, updated: int, personas: tuple[str, ...]) -> DemoSummary:
    counts = Employee.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=Employee.Status.ACTIVE)),
        production=Count("pk", filter=Q(category=Employee.Category.PRODUCTION)),
    )
    namesakes = Employee.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1).count()
    return DemoSummary(
        departments=Department.objects.count(),
        employees=counts["total"],
        active=counts["active"],
        left=counts["total"] - counts["active"],
        production=counts["production"],
        admin=counts["total"] - counts["production"],
        namesake_groups=namesakes,
        created=created,
        updated=updated,
        personas=personas,
    )
