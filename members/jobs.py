"""The employee import as a background job (jobs.runners names it): a confirmed sheet larger
than JOBS_BACKGROUND_ROWS is imported on the worker, as the person who confirmed it
(docs/background-jobs.md)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from common.actors import Actor, actor_may
from jobs.runners import JobOutcome, Progress
from members.importing import employee_import_file
from members.services import MembersError

IMPORTED = "导入完成：{summary}。"
IMPORT_PERMISSION = "members.import_employee"


def employee_import_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """members.importing.employee_import_file, all or nothing (one transaction: a sheet with
    any error imports nothing, and the job fails with every error, one a line, with its row
    and column as the preview gives them). The upload was moved to private media for the job
    (``params["upload"]``) and is deleted here, whatever the outcome."""
    upload = params["upload"]
    try:
        if not actor_may(actor, IMPORT_PERMISSION):  # asked again: the job may run much later
            raise PermissionDenied
        with default_storage.open(upload, "rb") as file:
            data = file.read()
        progress(5)
        report = employee_import_file(data=data, actor=actor, filename=params["file_name"])
    finally:
        default_storage.delete(upload)
    if report.errors:
        raise MembersError("\n".join(report.errors))
    return JobOutcome(
        text=IMPORTED.format(summary=report.summary),
        result={"new": report.new, "updated": report.updated, "unchanged": report.unchanged},
    )
