"""Personas and a small company for the case tests (§5.2, §7.1, §9.12)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from company.roles import FINANCE
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import CaseFactory, ChatGroupFactory, EmployeeFactory, UserFactory, login
from violations.models import Case, Rule
from violations.services import case_appeal, case_confirm, case_file


@pytest.fixture
def people(seeded):
    """Two 销售部 employees for the explanation step (issue 12, point 6): 李娜 with a login
    (a notice tells her), 刘洋 without (nobody can tell him)."""
    sales = department_get_or_create_by_path(path="销售部")
    lina = EmployeeFactory(
        name="李娜", department=sales, user=UserFactory(username="lina", is_staff=False)
    )
    nologin = EmployeeFactory(name="刘洋", department=sales)
    return {"lina": lina, "nologin": nologin}


@pytest.fixture
def world(seeded, hr, hr2, outsider):
    """Sales (head 郭杰华, offender 李娜), production (刘洋); 办公群 run by 赵敏 (creator)
    and 王芳 (admin), 别的群 run by nobody with a login; HR ×2, Finance, an outsider."""
    sales = department_get_or_create_by_path(path="销售部")
    production = department_get_or_create_by_path(path="生产部")
    head = EmployeeFactory(name="郭杰华", department=sales, user=login("head"))
    department_set_head(department=sales, head=head)
    offender = EmployeeFactory(
        name="李娜",
        employee_no="JM004",
        department=sales,
        user=login("lina", is_staff=False),
    )
    worker = EmployeeFactory(name="刘洋", employee_no="JM007", department=production)
    creator = EmployeeFactory(name="赵敏", department=production, user=login("creator"))
    group_admin = EmployeeFactory(name="王芳", department=production, user=login("groupadmin"))
    mine = ChatGroupFactory(code="office", name="办公群", creator=creator)
    mine.admins.add(group_admin)
    other = ChatGroupFactory(code="other", name="别的群")
    return {
        "sales": sales,
        "production": production,
        "offender": offender,
        "worker": worker,
        "mine": mine,
        "other": other,
        "rule": Rule.objects.get(code="9.4"),
        "hr": hr,
        "hr2": hr2,
        "finance": login("finance", FINANCE),
        "head": head.user,
        "creator": creator.user,
        "groupadmin": group_admin.user,
        "outsider": outsider,
    }


@pytest.fixture
def cases(world):
    """One case per visibility boundary."""
    return {
        "offender_in_mine": CaseFactory(
            rule=world["rule"], employee=world["offender"], group=world["mine"]
        ),
        "offender_in_other": CaseFactory(
            rule=world["rule"], employee=world["offender"], group=world["other"]
        ),
        "worker_in_other": CaseFactory(
            rule=world["rule"], employee=world["worker"], group=world["other"]
        ),
    }


def filed(world, *, by="groupadmin", group="mine", employee="offender") -> Case:
    """A case filed through the service (with its first transition), reported by ``by``."""
    return case_file(
        rule=world["rule"],
        employee=world[employee],
        group=world[group],
        occurred_at=timezone.now() - dt.timedelta(days=1),
        description="群内发布赌博链接",
        actor=world[by],
    )


@pytest.fixture
def appealed(world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr2"], comment="确认")
    return case_appeal(case=case, actor=world["offender"].user, comment="我没有发过")
