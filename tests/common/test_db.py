"""The set-based writes of common.db: same rows as the ORM would write, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from common.db import analyze_when_outgrown, insert_many, update_from_values
from groups.models import RosterSnapshot
from members.models import Position
from tests.factories import EmployeeFactory, PositionFactory

pytestmark = pytest.mark.django_db


def test_insert_many_writes_plain_rows(unseeded):
    insert_many(Position, [Position(name=f"岗位{i}", rank=i) for i in range(1, 4)], batch=2)
    assert list(Position.objects.order_by("rank").values_list("name", "rank")) == [
        ("岗位1", 1),
        ("岗位2", 2),
        ("岗位3", 3),
    ]


def test_insert_many_refuses_fields_it_cannot_bind_as_they_are():
    with pytest.raises(TypeError, match="taken_at"):
        insert_many(RosterSnapshot, [])


def test_update_from_values_writes_the_named_fields_only(unseeded):
    positions = [PositionFactory(rank=1), PositionFactory(rank=1)]
    employee = EmployeeFactory(wechat_id="old")
    for position in positions:
        position.rank = 7
        position.name = "不该写入"
    update_from_values(Position, positions, ["rank"], batch=1)
    assert set(Position.objects.values_list("rank", flat=True)) == {7}
    assert not Position.objects.filter(name="不该写入").exists()
    employee.wechat_id = ""
    employee.position = None
    update_from_values(type(employee), [employee], ["wechat_id", "position"])
    employee.refresh_from_db()
    assert (employee.wechat_id, employee.position) == ("", None)


# -- exact round trips, on whichever database the suite runs (PostgreSQL's COPY and unnest
# paths in CI, SQLite's executemany and VALUES locally): the statement used is asserted too.

# Text that COPY's text format and array literals must escape, or could mistake for a NULL
# or for the end of the data: tab, newlines, backslashes, quotes, \N, \., braces, commas.
AWKWARD_TEXT = [
    "制度\t第 5.3 条",
    "第一行\n第二行\r\n",
    "C:\\path\\N",
    "\\N",
    "\\.",
    '它\'s "引号"',
    "{a,b}",
    "NULL",
    "",
    "郭杰华",
]
LINE_COLUMNS = (
    "period_id",
    "employee_id",
    "case_id",
    "clause",
    "rule_title",
    "sanction",
    "occurred_on",
    "points",
    "is_joint",
    "corrects_id",
)


@pytest.fixture
def line_refs():
    """What a Line points at: two periods, an employee, one case per awkward text."""
    from appraisal.services import period_get_or_create
    from tests.factories import CaseFactory

    employee = EmployeeFactory()
    return {
        "period": period_get_or_create(code="2026-10"),
        "earlier": period_get_or_create(code="2026-09"),
        "employee": employee,
        "cases": [CaseFactory(employee=employee) for _ in AWKWARD_TEXT],
    }


def awkward_lines(refs) -> list[tuple]:
    points = [Decimal("-3.50"), Decimal("0.00"), Decimal("123456.78"), Decimal("0.01")]
    return [
        (
            refs["period"].pk,
            refs["employee"].pk,
            case.pk,
            text[:16],
            text,
            text[:16],
            dt.date(2026, 10, 1) + dt.timedelta(days=index),
            points[index % len(points)],
            index % 2 == 0,
            refs["earlier"].pk if index % 3 == 0 else None,
        )
        for index, (case, text) in enumerate(zip(refs["cases"], AWKWARD_TEXT, strict=True))
    ]


def stored_lines() -> list[tuple]:
    from appraisal.models import Line

    return list(Line.objects.order_by("case_id").values_list(*LINE_COLUMNS))


def test_insert_many_round_trips_text_nulls_decimals_dates_and_booleans_exactly(line_refs):
    from appraisal.models import Line

    rows = awkward_lines(line_refs)
    with CaptureQueriesContext(connection) as ctx:
        insert_many(Line, rows, fields=LINE_COLUMNS, batch=3)
    assert stored_lines() == rows
    statements = " ".join(q["sql"] for q in ctx.captured_queries)
    # PostgreSQL writes with one COPY; SQLite with INSERT (executemany per batch).
    assert ("COPY" in statements) == (connection.vendor == "postgresql")
    assert ("INSERT" in statements) == (connection.vendor != "postgresql")


def test_insert_many_takes_model_instances_as_well(line_refs):
    from appraisal.models import Line

    rows = awkward_lines(line_refs)
    insert_many(Line, [Line(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows])
    assert stored_lines() == rows


def test_insert_many_of_nothing_writes_nothing(line_refs):
    from appraisal.models import Line

    with CaptureQueriesContext(connection) as ctx:
        insert_many(Line, [], fields=LINE_COLUMNS)
    assert ctx.captured_queries == []


def test_insert_many_refuses_a_column_the_model_does_not_have():
    from appraisal.models import Line

    with pytest.raises(ValueError, match="employee_no"):
        insert_many(Line, [], fields=["period_id", "employee_no"])


def test_insert_many_violating_a_constraint_raises_djangos_integrity_error(line_refs):
    """Also from COPY, whose psycopg error Django does not wrap by itself."""
    from appraisal.models import Line

    rows = awkward_lines(line_refs)[:1]
    insert_many(Line, rows, fields=LINE_COLUMNS)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(Line, rows, fields=LINE_COLUMNS)  # line_once_per_case
    assert stored_lines() == rows


EXPECTED_ATTRS = ("rule_title", "clause", "points", "occurred_on", "is_joint", "corrects_id")


def test_update_from_values_round_trips_awkward_values_and_nulls_both_ways(line_refs):
    from appraisal.models import Line

    rows = awkward_lines(line_refs)
    insert_many(Line, rows, fields=LINE_COLUMNS)
    lines = list(Line.objects.order_by("case_id"))
    expected = []
    for line, text in zip(lines, reversed(AWKWARD_TEXT), strict=True):
        line.rule_title = text
        line.clause = text[:16]
        line.points = -line.points if line.points else Decimal("9.99")
        line.occurred_on = line.occurred_on + dt.timedelta(days=40)  # into November
        line.is_joint = not line.is_joint
        # NULL to a period and a period to NULL
        line.corrects_id = None if line.corrects_id else line_refs["earlier"].pk
        line.sanction = "不该写入"  # not among the fields written
        expected.append(tuple(getattr(line, name) for name in EXPECTED_ATTRS))
    fields = ["rule_title", "clause", "points", "occurred_on", "is_joint", "corrects"]
    with CaptureQueriesContext(connection) as ctx:
        update_from_values(Line, lines, fields, batch=4)
    stored = Line.objects.order_by("case_id")
    assert list(stored.values_list(*fields[:-1], "corrects_id")) == expected
    assert not Line.objects.filter(sanction="不该写入").exists()
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    # PostgreSQL: one statement binding an array per column; SQLite: VALUES per batch of 4.
    if connection.vendor == "postgresql":
        assert len(updates) == 1
        assert "unnest(" in updates[0]
    else:
        assert len(updates) == 3
        assert "VALUES" in updates[0]


def test_update_from_values_never_cuts_a_long_text_short(unseeded):
    """PostgreSQL: a text longer than its column is refused, as an UPDATE or COPY refuses it —
    a cast of the array to varchar(n)[] would store it cut short without a word. (SQLite has
    no lengths: it keeps the whole text.)"""
    employee = EmployeeFactory(wechat_id="short")
    limit = type(employee)._meta.get_field("wechat_id").max_length
    employee.wechat_id = "w" * (limit + 5)
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            update_from_values(type(employee), [employee], ["wechat_id"])
        employee.refresh_from_db()
        assert employee.wechat_id == "short"
    else:
        update_from_values(type(employee), [employee], ["wechat_id"])
        employee.refresh_from_db()
        assert employee.wechat_id == "w" * (limit + 5)


def test_update_from_values_takes_an_int_set_on_a_decimal_field(line_refs):
    """Arrays hold one type: the odd int among Decimals goes through the field's to_python."""
    from appraisal.models import Line

    insert_many(Line, awkward_lines(line_refs)[:3], fields=LINE_COLUMNS)
    lines = list(Line.objects.order_by("case_id"))
    lines[0].points, lines[1].points, lines[2].points = 2, Decimal("1.25"), Decimal("0")
    update_from_values(Line, lines, ["points"])
    assert list(Line.objects.order_by("case_id").values_list("points", flat=True)) == [
        Decimal("2.00"),
        Decimal("1.25"),
        Decimal("0.00"),
    ]


def test_delete_many_deletes_those_keys_only_in_one_statement(line_refs):
    from appraisal.models import Line
    from common.db import delete_many

    insert_many(Line, awkward_lines(line_refs), fields=LINE_COLUMNS)
    pks = list(Line.objects.order_by("pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        delete_many(Line, pks[:3])
        delete_many(Line, [])
    assert list(Line.objects.order_by("pk").values_list("pk", flat=True)) == pks[3:]
    assert len(ctx.captured_queries) == 2


@pytest.mark.django_db(transaction=True)
def test_analyze_when_outgrown_refreshes_a_tables_statistics_once_it_doubled():
    """A foreign-key check's plan, kept by the connection, was made from a table of a page or
    two; statistics taken again once the table doubled let the next check use the index."""
    if connection.vendor == "postgresql":  # a table of no pages, whatever earlier tests left
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Position._meta.db_table} CASCADE")
    with CaptureQueriesContext(connection) as small:
        analyze_when_outgrown(Position)  # a page or two: nothing to refresh
    insert_many(Position, [(f"岗位{i:05d}", i) for i in range(3000)], fields=["name", "rank"])
    with CaptureQueriesContext(connection) as grown:
        analyze_when_outgrown(Position)
    with CaptureQueriesContext(connection) as again:
        analyze_when_outgrown(Position)
    if connection.vendor != "postgresql":  # SQLite plans every statement afresh
        assert not small.captured_queries
        assert not grown.captured_queries
        return
    assert [q["sql"].split()[0] for q in small.captured_queries] == ["SELECT"]
    assert [q["sql"].split()[0] for q in grown.captured_queries] == ["SELECT", "ANALYZE"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, reltuples FROM pg_class WHERE oid = %s::regclass",
            [Position._meta.db_table],
        )
        pages, rows = cursor.fetchone()
    assert pages >= 8
    assert rows == Position.objects.count()
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["SELECT"]  # known now


def test_analyze_when_outgrown_waits_for_the_end_of_a_transaction(unseeded):
    # Its lock would be held to the end of the caller's transaction, an error would spoil it.
    insert_many(Position, [(f"岗位{i:05d}", i) for i in range(3000)], fields=["name", "rank"])
    with CaptureQueriesContext(connection) as inside:
        analyze_when_outgrown(Position)
    assert not inside.captured_queries
