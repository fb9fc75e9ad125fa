"""Writes to the org chart. Each function is one business action, in one transaction."""

from __future__ import annotations

from django.db import transaction

from members.models import PATH_SEPARATOR, Department, Employee, Position

# Created by seed_policy: the departments the policy names (§4) plus HR and
# finance, which run the groups (§5.2) and pay (§7.1).
STANDARD_DEPARTMENTS = [
    "总经办",
    "人力资源部",
    "财务部",
    "销售部",
    "生产部",
    "品质部",
    "技术部",
    "PMC部",
]
# Positions whose rank the policy relies on: 车间主任 and above belong in the
# management group (§4).
STANDARD_POSITIONS = {"总经理": 9, "副总经理": 8, "总监": 7, "经理": 6, "车间主任": 5}

ERROR_EMPTY_DEPARTMENT_PATH = "部门不能为空。"
ERROR_EMPTY_DEPARTMENT_SEGMENT = "部门路径“{path}”中有空的层级。"


def split_department_path(path: str) -> list[str]:
    """ "生产部 / 一车间" -> ["生产部", "一车间"]; full-width slashes count too."""
    normalised = path.replace("／", PATH_SEPARATOR).replace("\\", PATH_SEPARATOR).strip()
    if not normalised:
        raise ValueError(ERROR_EMPTY_DEPARTMENT_PATH)
    parts = [part.strip() for part in normalised.split(PATH_SEPARATOR)]
    if any(not part for part in parts):
        raise ValueError(ERROR_EMPTY_DEPARTMENT_SEGMENT.format(path=path))
    return parts


@transaction.atomic
def department_get_or_create_by_path(*, path: str) -> Department:
    """Return the department at ``path`` ("生产部/一车间"), creating missing levels."""
    parent: Department | None = None
    for name in split_department_path(path):
        department = Department.objects.filter(parent=parent, name=name).first()
        if department is None:
            department = Department(parent=parent, name=name)
            department.full_clean()
            department.save()
        parent = department
    return parent


@transaction.atomic
def department_set_head(*, department: Department, head: Employee | None) -> Department:
    """Make ``head`` the department's head (部门负责人); one head per department."""
    if department.head_id != (head.pk if head else None):
        department.head = head
        department.save(update_fields=["head"])
    return department


@transaction.atomic
def position_get_or_create(*, name: str) -> Position:
    position, _ = Position.objects.get_or_create(
        name=name.strip(), defaults={"rank": STANDARD_POSITIONS.get(name.strip(), 1)}
    )
    return position


@transaction.atomic
def seed_org_chart() -> None:
    """Create the standard departments and positions; leave existing ones as HR edited them."""
    for name in STANDARD_DEPARTMENTS:
        department_get_or_create_by_path(path=name)
    for name, rank in STANDARD_POSITIONS.items():
        Position.objects.get_or_create(name=name, defaults={"rank": rank})
