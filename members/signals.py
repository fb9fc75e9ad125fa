"""When to apply the security rules of docs/security.md (6 and 7) and to record joiners, movers
and leavers (人事变动); the rules are in services, the groups' reaction in groups.signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from common.actors import SystemActor
from members import services
from members.models import Department, Employee, PersonnelEvent, Position

security_log = logging.getLogger("security")

# The words PersonnelEvent.changes uses, as the employee sheet's columns name them.
FIELD_DEPARTMENT, FIELD_POSITION, FIELD_CATEGORY, FIELD_RANK, FIELD_STATUS = (
    "部门",
    "岗位",
    "人员类别",
    "职级",
    "状态",
)

# Sent with ``events`` (a list of PersonnelEvent) once they are recorded, in the transaction
# that changed the employees: at each save, or once for a whole employee sheet (batched).
# groups.signals makes the groups follow; members knows nothing of groups (the app layers).
personnel_events_recorded = Signal()
_batch = threading.local()


@contextmanager
def personnel_events_batched() -> Iterator[None]:
    """Hold the events recorded inside until personnel_events_flush() (the employee sheet: one
    set-based pass for thousands of rows, docs/performance.md). Whatever happens inside, the
    hold ends with the block: events never flushed belong to an import that was rolled back."""
    previous = getattr(_batch, "events", None)
    _batch.events = []
    try:
        yield
    finally:
        _batch.events = previous


def personnel_events_flush() -> None:
    """Send the held events now (inside the transaction that recorded them)."""
    events = getattr(_batch, "events", None)
    if events:
        _batch.events = []
        personnel_events_recorded.send(sender=PersonnelEvent, events=events)


@receiver(post_save, sender=Employee)
def employee_saved(sender, instance: Employee, created: bool, raw: bool = False, **kwargs) -> None:
    """Whatever door saved the employee (the admin form, the employee sheet, code): a leaver's
    login goes at once (docs/security.md, 7), then the joiner, mover or leaver is recorded in
    the same transaction (groups.signals makes the groups follow). Re-saving without such a
    change records nothing, so re-importing the same sheet creates nothing twice."""
    if raw:
        return
    # Whoever saved the record (the admin and the employee sheet set _history_user), else the
    # system.
    person = getattr(instance, "_history_user", None)
    leaving = not instance.is_active and (created or instance.loaded_status != Employee.Status.LEFT)
    if leaving and instance.user_id is not None:
        services.employee_access_revoke(
            employee=instance, actor=person or SystemActor("signal:employee_left")
        )
    kind, changes = personnel_change(instance, created=created)
    instance.remember_loaded()
    if kind is not None:
        event = PersonnelEvent.objects.create(
            employee=instance, kind=kind, changes=changes, actor=person
        )
        held = getattr(_batch, "events", None)
        if held is not None:
            held.append(event)
        else:
            personnel_events_recorded.send(sender=PersonnelEvent, events=[event])


def personnel_change(instance: Employee, *, created: bool) -> tuple[str | None, dict]:
    """(kind, changes in words) of the save that just happened, or (None, {}): created and
    active is a joiner; active -> 离职 a leaver; 离职 -> active a joiner again (rehired); while
    active, a new department, position, category or rank a mover."""
    kind = _event_kind(instance, created=created)
    if kind is None:
        return None, {}
    before = {
        "department_id": None if created else instance.loaded_department_id,
        "position_id": None if created else instance.loaded_position_id,
        "category": None if created else instance.loaded_category,
        "rank": None if created else instance.loaded_rank,
    }
    moved = [name for name, value in before.items() if created or value != getattr(instance, name)]
    if kind == PersonnelEvent.Kind.MOVER and not moved:
        return None, {}
    return kind, _changes_in_words(instance, created=created, before=before, moved=moved)


def _event_kind(instance: Employee, *, created: bool) -> str | None:
    status = Employee.Status
    if created:
        # Entered as a leaver (history): nothing joins or leaves.
        return PersonnelEvent.Kind.JOINER if instance.is_active else None
    was = instance.loaded_status
    if was is None:
        # Not loaded from the database (made by bulk_create, as the demo does, or built by
        # hand): what it was is unknown, so no move can be named — never a "— → …" event.
        return None
    if was == status.ACTIVE and instance.status == status.LEFT:
        return PersonnelEvent.Kind.LEAVER
    if was == status.LEFT and instance.status == status.ACTIVE:
        return PersonnelEvent.Kind.JOINER
    if instance.status == status.ACTIVE:
        return PersonnelEvent.Kind.MOVER
    return None  # a leaver's record edited: they are gone already


def _changes_in_words(
    instance: Employee, *, created: bool, before: dict, moved: list[str]
) -> dict[str, list]:
    was = None if created else instance.loaded_status
    changes: dict[str, list] = {}
    if was != instance.status:
        labels = dict(Employee.Status.choices)
        changes[FIELD_STATUS] = [labels.get(was) if was else None, labels[instance.status]]
    if "department_id" in moved:
        paths = dict(
            Department.objects.filter(
                pk__in=[before["department_id"], instance.department_id]
            ).values_list("pk", "path")
        )
        changes[FIELD_DEPARTMENT] = [
            paths.get(before["department_id"]),
            paths.get(instance.department_id),
        ]
    if "position_id" in moved:
        names = dict(
            Position.objects.filter(
                pk__in=[before["position_id"], instance.position_id]
            ).values_list("pk", "name")
        )
        changes[FIELD_POSITION] = [
            names.get(before["position_id"]),
            names.get(instance.position_id),
        ]
    if "category" in moved:
        labels = dict(Employee.Category.choices)
        changes[FIELD_CATEGORY] = [labels.get(before["category"]), labels.get(instance.category)]
    if "rank" in moved:
        changes[FIELD_RANK] = [before["rank"], instance.rank]
    return changes


@receiver(user_login_failed)
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    # docs/security.md, 6: who (the username tried, never the password), when (the record's
    # time), from where (address and page). django-axes keeps the same as rows (登录失败记录).
    security_log.warning(
        "login failed username=%s ip=%s path=%s",
        credentials.get("username", "-"),
        get_client_ip_address(request) if request is not None else "-",
        request.path if request is not None else "-",
    )
