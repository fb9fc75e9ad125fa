"""The employee list and 人事变动 under load (issue 13, docs/performance.md): as many queries
for many employees as for a few, counts (显示计数) included, no filter reading every employee
for its choices, and each list's order and filters indexed in the migrated database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Employee, PersonnelEvent
from members.services import department_get_or_create_by_path
from tests.factories import EmployeeFactory, UserFactory

URLS = [
    reverse("admin:members_employee_changelist"),
    reverse("admin:members_employee_changelist") + "?_facets=True",
    reverse("admin:members_employee_changelist") + "?rank=5&has_login=yes",
    reverse("admin:members_personnelevent_changelist"),
    reverse("admin:members_personnelevent_changelist") + "?_facets=True",
]


def _hire(n: int, start: int) -> None:
    departments = [department_get_or_create_by_path(path=f"生产部/{i}车间") for i in range(1, 4)]
    for i in range(start, start + n):
        employee = EmployeeFactory(
            employee_no=f"JM9{i:04d}",
            department=departments[i % 3],
            rank=1 + i % 6,
            user=UserFactory() if i % 4 == 0 else None,
        )
        PersonnelEvent.objects.create(employee=employee, kind=PersonnelEvent.Kind.JOINER)


def _queries(client) -> dict[str, int]:
    counts = {}
    for url in URLS:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(queries)
        assert not any(
            "DISTINCT" in q["sql"] and "members_employee" in q["sql"]
            for q in queries.captured_queries
        ), url
    return counts


def test_employee_lists_run_as_many_queries_for_sixty_employees_as_for_six(client, hr):
    _hire(6, 0)
    client.force_login(hr)
    small = _queries(client)
    _hire(54, 6)
    assert Employee.objects.count() >= 60
    assert _queries(client) == small


def test_the_rank_filter_offers_every_rank_up_to_the_highest_and_filters(client, hr):
    _hire(12, 0)  # ranks 1 to 6
    client.force_login(hr)
    response = client.get(reverse("admin:members_employee_changelist") + "?rank=5&_facets=True")
    (rank_filter,) = [f for f in response.context["cl"].filter_specs if f.title == "职级"]
    assert [value for value, _ in rank_filter.lookup_choices] == [str(r) for r in range(1, 7)]
    shown = response.context["cl"].result_list
    assert shown
    assert all(e.rank == 5 for e in shown)
    assert "5 级 (2)" in response.content.decode()  # the facet count: JM90004, JM90010


def test_the_login_filters_counts_match_its_rows(client, hr):
    _hire(8, 0)  # logins for JM90000 and JM90004
    client.force_login(hr)
    response = client.get(
        reverse("admin:members_employee_changelist") + "?has_login=yes&_facets=True"
    )
    shown = {e.employee_no for e in response.context["cl"].result_list}
    assert {"JM90000", "JM90004"} <= shown
    assert all(e.user_id for e in response.context["cl"].result_list)
    html = response.content.decode()
    with_login = Employee.objects.filter(user__isnull=False).count()
    assert f"已开通 ({with_login})" in html
    assert f"未开通 ({Employee.objects.count() - with_login})" in html


INDEXED = [
    (Employee, ["employee_no"]),  # the list's order
    (Employee, ["status"]),
    (Employee, ["department_id"]),
    (PersonnelEvent, ["at"]),  # the list's order (-at, -id) and its 时间 filter
    (PersonnelEvent, ["employee_id"]),
]


@pytest.mark.parametrize(("model", "columns"), INDEXED)
@pytest.mark.django_db
def test_each_list_order_and_filter_has_its_index(model, columns):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = [
        c["columns"] for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"]
    ]
    assert any(index[: len(columns)] == columns for index in indexes), indexes
