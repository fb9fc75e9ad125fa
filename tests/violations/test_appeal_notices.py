"""An appeal arrived (issue 14, point 3): the HR clerks who may decide it are told — never
whoever confirmed the case, filed the appeal, or is party to it (§7.1's four eyes,
violations.services.guards) — and superusers are no clerks to tell."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from common.actors import SystemActor
from company.roles import HR
from notices.models import Notice
from tests.factories import EmployeeFactory, UserFactory
from violations.models import Case
from violations.services import case_appeal, case_confirm, case_propose

pytestmark = pytest.mark.django_db
Kind = Notice.Kind


def confirmed_case(employee, hr) -> Case:
    case, _ = case_propose(
        rule_code="9.4",
        employee=employee,
        group=None,
        source=Case.Source.SCREENING,
        source_key="screening:appeal",
        description="群内发布赌博链接",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        actor=SystemActor("test"),
    )
    return case_confirm(case=case, actor=hr, comment="属实")


def told(user) -> list[Notice]:
    return list(Notice.objects.filter(recipient=user, kind=Kind.APPEAL_ARRIVED))


def test_hr_other_than_the_confirmer_hears_of_the_appeal(employee, hr, hr2, superuser):
    case = confirmed_case(employee.employee, hr)
    case_appeal(case=case, actor=employee, comment="不是我发的")

    [notice] = told(hr2)
    assert notice.title == f"新的申诉：李娜 对案件 #{case.pk} 提出申诉，等待裁决"
    assert notice.url == f"/admin/violations/case/{case.pk}/change/"
    assert notice.subject_key == f"case:{case.pk}:appealed"
    assert not told(hr)  # confirmed it: may not decide the appeal
    assert not told(employee)
    assert not told(superuser)


def test_the_clerk_who_filed_the_appeal_for_the_employee_is_not_told(employee, hr, hr2, seeded):
    hr3 = UserFactory(username="hr3", roles=[HR])
    case = confirmed_case(employee.employee, hr)
    case_appeal(case=case, actor=hr2, comment="员工口头申诉，代为提出")

    assert not told(hr2)
    assert not told(hr)
    assert len(told(hr3)) == 1


def test_a_clerk_appealing_their_own_case_is_not_asked_to_decide_it(hr, hr2, seeded):
    hr3 = UserFactory(username="hr3", roles=[HR])
    EmployeeFactory(name="王芳", user=hr3)
    case = confirmed_case(hr3.employee, hr)
    case_appeal(case=case, actor=hr3, comment="我没有发")

    assert not told(hr3)
    assert not told(hr)
    assert len(told(hr2)) == 1


def test_when_no_clerk_may_decide_the_superusers_are_told_and_a_warning_logged(
    employee, hr, superuser, seeded, caplog
):
    # hr confirmed the case; no other clerk holds the decide permission.
    case = confirmed_case(employee.employee, hr)
    with caplog.at_level(logging.WARNING, logger="violations.services.notify"):
        case_appeal(case=case, actor=employee, comment="不是我发的")

    [notice] = told(superuser)
    assert notice.url == f"/admin/violations/case/{case.pk}/change/"
    assert not told(hr)
    assert f"no HR clerk may decide the appeal of case {case.pk}" in caplog.text


def test_a_superuser_who_confirmed_is_not_told_either(employee, superuser, seeded, caplog):
    case = confirmed_case(employee.employee, superuser)
    with caplog.at_level(logging.WARNING, logger="violations.services.notify"):
        case_appeal(case=case, actor=employee, comment="不是我发的")

    assert not Notice.objects.filter(kind=Kind.APPEAL_ARRIVED).exists()
    assert "told 0 superuser(s)" in caplog.text
