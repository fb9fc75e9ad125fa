"""Finance's settlement sheet written: the audit row with its file, then the settlements.

``settlement_import()`` is the one door of the command; the admin's import
(appraisal.resources) plans with ``plan.py`` and writes with ``settlement_apply()`` here.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from appraisal.exceptions import SettlementForbidden
from appraisal.models import Period, Settlement, SettlementImport
from appraisal.services.settlements.plan import (
    NEW,
    UNCHANGED,
    UPDATED,
    PlannedRow,
    SettlementPlan,
    SettlementReport,
    period_error,
    settlement_plan,
)
from common.actors import Actor, actor_may, actor_user
from common.db import insert_many, update_from_values
from common.memory import cyclic_gc_paused
from common.spreadsheets.limits import XLSX_MAGIC, SpreadsheetError
from common.spreadsheets.reading import read_table

PERMISSION = "appraisal.import_settlement"  # Finance and HR (company.roles)
ERROR_NOT_ALLOWED = "没有导入财务扣款表的权限（需要“可以导入财务扣款表”，财务部和人力资源部有）。"
CHANGE_REASON = "财务扣款表导入 #{pk}"
BATCH = 1000  # rows per bulk statement (bulk_update's CASE grows with the batch)
FILE_NAME_LIMIT = SettlementImport._meta.get_field("file_name").max_length


def settlement_check_permission(actor: Actor) -> None:
    """Finance or HR (appraisal.import_settlement); the command line without --user is the
    system (common.actors.SystemActor), which may."""
    if not actor_may(actor, PERMISSION):
        raise SettlementForbidden(ERROR_NOT_ALLOWED)


def _stored_name(filename: str, data: bytes) -> str:
    """The name the file is kept under: the user's, without any directory, with a suffix."""
    name = PurePath(filename.replace("\\", "/")).name.strip() or "扣款表"
    if not PurePath(name).suffix:
        name += ".xlsx" if data.startswith(XLSX_MAGIC) else ".csv"
    return name


UPDATED_FIELDS = ("amount", "note", "imported_in")


def _write_history(
    record: SettlementImport, *, history_type: str, user_id: int | None, ids: list[int] | None
) -> None:
    """The history rows of this import's settlements — all of them (``ids`` None), or those
    ``ids`` — copied from the table by INSERT … SELECT, as simple_history's
    ``bulk_history_create`` would write them (its fields, one date, the importer, the
    reason): no model instance nor parameter per row (20,000 new settlements and their
    history took 3.5 s of CPU through bulk_create_with_history, 0.22 s with insert_many and
    this: docs/performance.md, "Finance import")."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = Settlement.history.model
    q = connection.ops.quote_name
    tracked = [(q(history._meta.get_field(f.name).column), q(f.column)) for f in history.tracked_fields]  # fmt: skip
    columns = [target for target, _ in tracked] + [
        q(history._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    constants = [
        history._meta.get_field("history_date").get_db_prep_save(timezone.now(), connection),
        CHANGE_REASON.format(pk=record.pk),
        history_type,
        user_id,
    ]
    sql = (
        f"INSERT INTO {q(history._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 — names from our models, values bound
        f"SELECT {', '.join(source for _, source in tracked)}, %s, %s, %s, %s "
        f"FROM {q(Settlement._meta.db_table)} "
        f"WHERE {q(Settlement._meta.get_field('imported_in').column)} = %s"
    )
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute(sql, [*constants, record.pk])
            return
        pk = q(Settlement._meta.pk.column)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            cursor.execute(
                f"{sql} AND {pk} IN ({', '.join(['%s'] * len(chunk))})",
                [*constants, record.pk, *chunk],
            )


CREATED_COLUMNS = ("period_id", "employee_id", "amount", "note", "imported_in_id")


def _write_created(
    record: SettlementImport, created: list[PlannedRow], user_id: int | None
) -> None:
    """New settlements in one COPY (PostgreSQL) or executemany batches (common.db), from the
    plan's values (no model instance per row), their history copied from them; the
    instances the admin's rows already hold (PlannedRow.instance) get their ids."""
    insert_many(
        Settlement,
        [(record.period_id, r.employee_id, r.amount, r.note, record.pk) for r in created],
        fields=CREATED_COLUMNS,
    )
    # Only the new ones carry this import yet: the updates are written after.
    _write_history(record, history_type="+", user_id=user_id, ids=None)
    made = [r.settlement for r in created if r.settlement is not None]
    if made:
        ids = dict(Settlement.objects.filter(imported_in=record).values_list("employee_id", "pk"))
        for settlement in made:
            settlement.pk, settlement.imported_in = ids[settlement.employee_id], record
            settlement._state.adding = False


def _write_updated(
    record: SettlementImport, updated: list[Settlement], user_id: int | None
) -> None:
    # bulk_update_with_history took 8.1 s for 20,000 settlements; this 0.37 s of CPU
    # (docs/performance.md, "Finance import")
    update_from_values(Settlement, updated, UPDATED_FIELDS, batch=BATCH)
    _write_history(
        record, history_type="~", user_id=user_id, ids=[settlement.pk for settlement in updated]
    )


@transaction.atomic
def settlement_apply(
    *, plan: SettlementPlan, actor: Actor, data: bytes, filename: str
) -> SettlementImport:
    """Write a plan without errors: the SettlementImport with its file, then the new and
    changed settlements in bulk, with their history (unchanged ones are not touched)."""
    if plan.errors:
        # A programming error, not a refusal: callers plan first and stop on errors.
        raise RuntimeError("settlement_apply() needs a plan without errors")
    created = [r for r in plan.rows if r.change == NEW]
    # A planned UPDATED row always carries its settlement.
    updated = [r.settlement for r in plan.rows if r.change == UPDATED and r.settlement is not None]
    user = actor_user(actor)
    record = SettlementImport(
        period=plan.period,
        file_name=(filename or _stored_name(filename, data))[:FILE_NAME_LIMIT],
        imported_by=user,
        rows=len(plan.rows),
        created=len(created),
        updated=len(updated),
        unchanged=plan.count(UNCHANGED),
    )
    # The file reaches storage before the transaction commits; removed again if this fails.
    record.file.save(_stored_name(filename, data), ContentFile(data), save=False)
    try:
        record.save()
        for settlement in updated:
            settlement.imported_in = record
        user_id = user.pk if user is not None else None
        if created:
            _write_created(record, created, user_id)
        if updated:
            _write_updated(record, updated, user_id)
    except BaseException:
        record.file.delete(save=False)
        raise
    return record


def settlement_import(
    *, period: Period, data: bytes, filename: str, actor: Actor, dry_run: bool
) -> SettlementReport:
    """Import finance's sheet (xlsx or CSV bytes) for ``period``: every row, or — on any error
    — none; see the module docstring for what it guarantees.

    Raises SettlementForbidden (a PermissionDenied) for an ``actor`` without
    appraisal.import_settlement (the system, for the command line, may). File and row
    errors are returned in the report, not raised.
    """
    # The table, the plan and its rows (some hundreds of thousands of objects for 20,000
    # rows) live until the report: full collections walked them all and freed nothing
    # (common.memory; the admin's preview and confirmation, which plan through
    # appraisal.resources, pause it around their requests).
    with cyclic_gc_paused():
        return _settlement_import(
            period=period, data=data, filename=filename, actor=actor, dry_run=dry_run
        )


def _settlement_import(
    *, period: Period, data: bytes, filename: str, actor: Actor, dry_run: bool
) -> SettlementReport:
    settlement_check_permission(actor)
    period = Period.objects.get(pk=period.pk)  # its state now, not when the caller read it
    if error := period_error(period):
        return SettlementReport(period=period.code, dry_run=dry_run, errors=(error,))
    try:
        table = read_table(data, filename=filename)
    except SpreadsheetError as error:
        return SettlementReport(period=period.code, dry_run=dry_run, errors=(str(error),))
    with transaction.atomic():
        # Serialise imports of one period (PostgreSQL; SQLite takes its write lock at BEGIN).
        periods = Period.objects if dry_run else Period.objects.select_for_update()
        period = periods.get(pk=period.pk)
        plan = settlement_plan(period=period, table=table)
        if plan.errors or dry_run:
            return plan.report(dry_run=dry_run)
        record = settlement_apply(plan=plan, actor=actor, data=data, filename=filename)
        return plan.report(dry_run=False, settlement_import=record)
