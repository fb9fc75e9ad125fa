"""Celery tasks: a few lines each, they call a plain function."""

from __future__ import annotations

from celery import shared_task

from common.import_files import import_files_sweep


@shared_task(name="members.sweep_import_files")
def sweep_import_files() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE): delete import previews nobody confirmed
    (docs/security.md, 4). The employee and settlement imports share the folder; members holds the
    task because ``common`` is not an app."""
    return import_files_sweep()
