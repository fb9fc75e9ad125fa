"""Set-based writes for the hot paths where Django's bulk helpers cost more than the database.

QuerySet.bulk_update builds a CASE expression per row and field, and bulk_create
compiles every value into SQL, both in Python: on 500 roster members, 20,000
settlements or 120,000 appraisal rows that was most of the time
(docs/performance.md). These send the same rows as plain bound parameters, in the
form each database takes fastest:

- PostgreSQL: ``insert_many`` is one ``COPY … FROM STDIN`` (psycopg 3's ``copy``), and
  ``update_from_values`` binds one array per column (``FROM unnest(…)``) — no statement
  per row, no parameter per value for the server to parse and plan;
- SQLite (≥ 3.33, for UPDATE … FROM): ``executemany`` and ``UPDATE … FROM (VALUES …)``
  in batches, which is what it does fastest in process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from django.db import DatabaseError, connection, models
from django.db.models import Model

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 1000
# Rows per statement of update_from_values on PostgreSQL: its arrays cost a parameter per
# column, not per value, so the batch only bounds the statement's size.
PG_UPDATE_BATCH = 50_000
# Fields whose Python values the drivers would not store right without the field's
# own preparation (aware datetimes on SQLite, JSON): insert_many refuses them.
UNPREPARED_FIELDS = (models.DateTimeField, models.JSONField, models.FileField)


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def update_from_values(
    model: type[Model],
    objects: Sequence[Model],
    fields: Sequence[str],
    *,
    batch: int = DEFAULT_BATCH,
) -> None:
    """Write ``fields`` of ``objects`` (found by primary key), nothing else.

    PostgreSQL: ``UPDATE … FROM unnest(%s::type[], …)``, one array per column, up to
    PG_UPDATE_BATCH rows a statement (``batch`` is SQLite's). SQLite: one
    ``UPDATE … FROM (VALUES …)`` per ``batch`` rows. Values go through each field's
    ``get_db_prep_save``, as Model.save() would send them."""
    # ``fields`` name concrete columns, for which get_field returns a Field (never a relation's
    # reverse side or a generic key): the cast says so to the type checker.
    columns = cast(
        "list[models.Field]", [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    )
    if _on_postgresql():
        _update_from_arrays(model, objects, columns)
        return
    pk = columns[0]
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    # No CASTs here: SQLite stores each value by its column's affinity, and a CAST to
    # "date" (NUMERIC affinity) turned '2026-11-10' into a NULL date.
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    assignments = ", ".join(
        f"{q(f.column)} = v.column{index}" for index, f in enumerate(columns[1:], start=2)
    )
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        by_column = [_column_values(f, chunk) for f in columns]
        params = [value for values in zip(*by_column, strict=True) for value in values]
        sql = (
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) AS v "  # noqa: S608 — names from our model, values bound
            f"WHERE {table}.{q(pk.column)} = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# Text columns take a text[] (varchar compares to text with its own index); a cast to
# varchar(n)[] would cut a longer value short without a word.
TEXT_FIELDS = frozenset({"CharField", "TextField", "SlugField", "EmailField"})


def array_type(field: models.Field) -> str:
    """The PostgreSQL element type to bind ``field``'s values as one array (update_from_values,
    groups.lookups' any_of): text for text, else the type the column holds."""
    if field.get_internal_type() in TEXT_FIELDS:
        return "text"
    # rel_db_type: an id column as the key it holds (django-stubs lacks it on Field).
    return str(field.rel_db_type(connection))  # type: ignore[attr-defined]


def _update_from_arrays(
    model: type[Model], objects: Sequence[Model], columns: list[models.Field]
) -> None:
    """PostgreSQL's update_from_values: the VALUES form made the server parse and plan
    a cast per value (20,000 settlements × 4 columns = 80,000 parameters)."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    names = [f"c{index}" for index in range(len(columns))]
    # Text as text[] (array_type): the assignment to the column then refuses a longer value.
    arrays = ", ".join(f"%s::{array_type(f)}[]" for f in columns)
    assignments = ", ".join(
        f"{q(f.column)} = v.{name}" for f, name in zip(columns[1:], names[1:], strict=True)
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "  # noqa: S608 — names from our model, values bound
        f"WHERE {table}.{q(columns[0].column)} = v.c0"
    )
    for start in range(0, len(objects), PG_UPDATE_BATCH):
        chunk = objects[start : start + PG_UPDATE_BATCH]
        params = [_one_type(f, _column_values(f, chunk)) for f in columns]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


INTEGER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


def _column_values(field: models.Field, objects: Sequence[Model]) -> list[Any]:
    """One column's values as the field would save them. A key, a number or a text that is
    already a plain int or str is what get_db_prep_save would give back: those columns are
    sent as they are (45,000 roster members' matches were 135,000 calls, a tenth of a
    reconciliation's Python); anything else — a Decimal, a date, a choice's enum member,
    a mixed column — goes through the field, as Model.save() sends it."""
    values = [getattr(obj, field.attname) for obj in objects]
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    internal = target.get_internal_type()
    plain = int if internal in INTEGER_FIELDS else str if internal in TEXT_FIELDS else None
    if plain is not None and all(v is None or type(v) is plain for v in values):
        return values
    return [field.get_db_prep_save(v, connection) for v in values]


def _one_type(field: models.Field, values: list[Any]) -> list[Any]:
    """``values`` of one column, all of one Python type: psycopg dumps a list with one
    element type (it refuses ``[Decimal("1.50"), 2]``), which the field's to_python gives
    the few mixed ones (an int set on a DecimalField, a bool on an IntegerField)."""
    if len({type(v) for v in values if v is not None}) <= 1:
        return values
    values = [None if v is None else field.to_python(v) for v in values]
    kinds = {type(v) for v in values if v is not None}
    if len(kinds) > 1:
        raise TypeError(f"{field.name}: values of several types ({kinds}) in one column")
    return values


def insert_many(
    model: type[Model],
    objects: Sequence[Any],
    *,
    fields: Sequence[str] | None = None,
    batch: int = 2000,
) -> None:
    """INSERT rows without primary keys; no signals, no pk set back.

    ``objects`` are model instances, or — with ``fields``, the attnames (``employee_id``)
    of the columns to write — tuples of those values in that order, which spares the
    caller building a model instance per row (120,000 of them cost a second). Columns
    not named take their database default, if any (Django sets none: name them all).

    PostgreSQL: one COPY … FROM STDIN in text format, where the server parses each
    value as its column's type (a wrong value is an error, never a wrapped-around
    number, as binary COPY gives). SQLite: ``executemany`` per ``batch`` rows. The
    values go as they are (ids, Decimals, dates, text, booleans), which psycopg and
    sqlite3 (with Django's adapters) store exactly.
    """
    if fields is None:
        columns = [f for f in model._meta.concrete_fields if not f.primary_key]
        attnames = [f.attname for f in columns]
        rows: Sequence[Sequence[Any]] = [tuple(getattr(o, a) for a in attnames) for o in objects]
    else:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in fields if name not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no column {', '.join(unknown)}")
        columns = [by_attname[name] for name in fields]
        rows = objects
    unsafe = [f.name for f in columns if isinstance(f, UNPREPARED_FIELDS)]
    if unsafe:  # their values need the field's own preparation: use bulk_create
        raise TypeError(f"insert_many cannot bind {model.__name__}.{', '.join(unsafe)} as is")
    if not rows:
        return
    q = connection.ops.quote_name
    target = f"{q(model._meta.db_table)} ({', '.join(q(f.column) for f in columns)})"
    with connection.cursor() as cursor:
        if _on_postgresql():
            # Django's cursor wrapper passes copy() to psycopg's cursor (and logs it when
            # queries are captured); wrap_database_errors turns psycopg's errors into
            # Django's (an IntegrityError is django.db's, as from any other write).
            with connection.wrap_database_errors, cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 — names from our model, values bound
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])


# analyze_when_outgrown: below this many pages a table is read whole faster than through an
# index, and PostgreSQL's plans say so.
ANALYZE_FROM_PAGES = 8


def analyze_when_outgrown(model: type[Model]) -> None:
    """ANALYZE ``model``'s table when it has grown to more than twice the pages its statistics
    know of (PostgreSQL; nothing on SQLite).

    PostgreSQL plans a foreign-key check once per connection and keeps the plan. Planned while
    the referenced table was a page or two — a new deployment's first reconciliation, whose
    findings table starts empty —, the check reads the whole table for every row it checks
    afterwards: the first run over 50,000 employees spent 16 s of its 41 s committing the
    to-dos' references to their findings (docs/performance.md). New statistics invalidate the
    kept plans, and the next check is planned on the index. Doubling keeps it to a handful of
    ANALYZEs while a table fills up and none once it is large.

    Only between transactions: inside one, its lock would be held to the end, and an error
    would spoil the caller's work — statistics are an optimisation, so a failure is logged,
    never raised. A login that does not own the table gets PostgreSQL's warning, not an error."""
    if not _on_postgresql() or connection.in_atomic_block:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relpages, pg_relation_size(oid) / current_setting('block_size')::int "
                "FROM pg_class WHERE oid = %s::regclass",
                [table],
            )
            known, pages = cursor.fetchone()
            if pages > 2 * max(known, ANALYZE_FROM_PAGES // 2):
                cursor.execute(f"ANALYZE {table}")
    except DatabaseError:
        logger.warning("could not ANALYZE %s", table, exc_info=True)


def delete_many(model: type[Model], pks: Sequence[Any]) -> None:
    """DELETE the rows of ``model`` with these primary keys, in one statement whatever their
    number (PostgreSQL: ``= ANY(%s)``, one array; SQLite: executemany), without Django's
    cascade collection: for tables nothing points at, or whose referrers the database
    guards itself. Issued even for no keys, so that a caller's query count stays flat."""
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), model._meta.pk
    with connection.cursor() as cursor:
        if _on_postgresql():
            cursor.execute(
                f"DELETE FROM {table} WHERE {q(pk.column)} = ANY(%s::{array_type(pk)}[])",  # noqa: S608 — names from our model, values bound
                [list(pks)],
            )
        else:
            cursor.executemany(
                f"DELETE FROM {table} WHERE {q(pk.column)} = %s",  # noqa: S608 — names from our model, values bound
                [(value,) for value in pks],
            )
