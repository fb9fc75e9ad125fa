"""Set-based writes for the hot paths where Django's bulk helpers cost more than the database.

QuerySet.bulk_update builds a CASE expression per row and field, and bulk_create
compiles every value into SQL, both in Python: on 500 roster members, 20,000
settlements or 120,000 appraisal rows that was most of the time
(docs/performance.md). These send the same rows as plain bound parameters.
Both work on PostgreSQL and on SQLite ≥ 3.33 (UPDATE … FROM).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from django.db import connection, models
from django.db.models import Model

DEFAULT_BATCH = 1000
# Fields whose Python values the drivers would not store right without the field's
# own preparation (aware datetimes on SQLite, JSON): insert_many refuses them.
UNPREPARED_FIELDS = (models.DateTimeField, models.JSONField, models.FileField)


def update_from_values(
    model: type[Model],
    objects: Sequence[Model],
    fields: Sequence[str],
    *,
    batch: int = DEFAULT_BATCH,
) -> None:
    """Write ``fields`` of ``objects`` (found by primary key): one UPDATE … FROM (VALUES …)
    per batch. The casts type the parameters for PostgreSQL, where a NULL is otherwise text."""
    # ``fields`` name concrete columns, for which get_field returns a Field (never a relation's
    # reverse side or a generic key): the cast says so to the type checker.
    columns = cast(
        "list[models.Field]", [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    )
    pk = columns[0]
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    row = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in columns) + ")"
    assignments = ", ".join(
        f"{q(f.column)} = v.column{index}" for index, f in enumerate(columns[1:], start=2)
    )
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        params = [
            f.get_db_prep_save(getattr(obj, f.attname), connection)
            for obj in chunk
            for f in columns
        ]
        sql = (
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) AS v "  # noqa: S608 — names from our model, values bound
            f"WHERE {table}.{q(pk.column)} = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def insert_many(model: type[Model], objects: Sequence[Model], *, batch: int = 2000) -> None:
    """INSERT ``objects`` (without primary keys) with the driver's executemany, in batches.

    The values go as they are (ids, Decimals, dates, text, booleans), which sqlite3
    (with Django's adapters) and psycopg bind natively; no signals, no pk set back.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unsafe = [f.name for f in fields if isinstance(f, UNPREPARED_FIELDS)]
    if unsafe:  # their values need the field's own preparation: use bulk_create
        raise TypeError(f"insert_many cannot bind {model.__name__}.{', '.join(unsafe)} as is")
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608 — names from our model, values bound
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch):
            chunk = objects[start : start + batch]
            cursor.executemany(sql, [tuple(getattr(o, a) for a in attnames) for o in chunk])
