"""directives.follow_up through a real worker on Redis and PostgreSQL: two runs at once and a
third after them propose each overdue directive and question once (§7.2, §9.9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from directives.services import directive_create, question_raise
from directives.tasks import follow_up
from members.services import department_get_or_create_by_path
from tests.factories import EmployeeFactory
from violations.models import Case

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overdue(hr, leader, department_head, office):
    """A directive to two salespeople and a question to 销售部, both long overdue (two
    working days from three weeks ago: past even across the longest holiday)."""
    sales = department_get_or_create_by_path(path="销售部")
    staff = [EmployeeFactory(department=sales) for _ in range(2)]
    boss = EmployeeFactory(name="陈总", user=leader)
    given = timezone.now() - dt.timedelta(days=21)
    directive_create(
        text="提交销售报表", issuer=boss, group=office, given_at=given, now=given,
        working_days=2, employees=staff, actor=hr,
    )  # fmt: skip
    question_raise(
        text="退货找谁？", group=office, department=sales, raised_by=staff[0], raised_at=given, now=given,
        actor=hr,
    )  # fmt: skip


def test_follow_up_twice_at_once_then_again_proposes_each_once(celery_worker, overdue):
    runs = [follow_up.delay(), follow_up.delay()]
    reports = [run.get(timeout=60) for run in runs]
    assert sum(r["directives_proposed"] for r in reports) == 2
    assert sum(r["questions_proposed"] for r in reports) == 1
    again = follow_up.delay().get(timeout=60)
    assert (again["directives_proposed"], again["questions_proposed"]) == (0, 0)
    cases = Case.objects.filter(source__in=[Case.Source.DIRECTIVE, Case.Source.QUESTION])
    assert cases.count() == 3
    assert set(cases.values_list("state", flat=True)) == {Case.State.PROPOSED}
