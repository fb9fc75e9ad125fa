"""What each kind of job runs: a function in the app that owns the work.

The apps that start jobs (appraisal, members) sit above this one (docs/architecture.md),
so their functions are named here by their dotted path and imported when a job runs,
never at import time: the layers hold, and the worker finds each function the same way
the web process does.

A runner is called as ``runner(params=job.params, actor=job.owner, progress=report)`` and
returns a ``JobOutcome``. It refuses with a ``common.exceptions.ServiceError`` (or
Django's ``PermissionDenied``), whose Chinese message the owner reads on the job's page;
anything else it raises is a bug, logged with its traceback, and the owner is told so in
Chinese too. ``report(percent)`` records how far it is; called inside a transaction, the
page sees it only once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from jobs.models import Job

Progress = Callable[[int], None]

RUNNERS: dict[str, str] = {
    Job.Kind.PERIOD_COMPUTE: "appraisal.jobs.period_compute_job",
    Job.Kind.PERIOD_EXPORT: "appraisal.jobs.period_export_job",
    Job.Kind.SETTLEMENT_IMPORT: "appraisal.jobs.settlement_import_job",
    Job.Kind.EMPLOYEE_IMPORT: "members.jobs.employee_import_job",
    # In this app: it finds the list's ModelAdmin by the model's label, imports no app.
    Job.Kind.LIST_EXPORT: "jobs.list_export.list_export_job",
    Job.Kind.CHATLOG_IMPORT: "screening.jobs.chatlog_import_job",
    Job.Kind.CHATLOG_RESCREEN: "screening.jobs.chatlog_rescreen_job",
}

# Who may still download a kind's file, asked at each download with the request: the right
# the runner needed (its owner may have lost it since; the file is kept JOBS_RESULT_DAYS).
# ``check(request, job) -> bool``, named by dotted path as the runners are.
FILE_ACCESS: dict[str, str] = {
    Job.Kind.PERIOD_EXPORT: "appraisal.jobs.period_export_file_allowed",
    Job.Kind.LIST_EXPORT: "jobs.list_export.list_export_file_allowed",
}

# The notice's title when a job of each kind ends ("计算完成：考核期间 2026-09").
DONE_TITLES: dict[str, str] = {
    Job.Kind.PERIOD_COMPUTE: "计算完成",
    Job.Kind.PERIOD_EXPORT: "导出完成",
    Job.Kind.SETTLEMENT_IMPORT: "导入完成",
    Job.Kind.EMPLOYEE_IMPORT: "导入完成",
    Job.Kind.LIST_EXPORT: "导出完成",
    Job.Kind.CHATLOG_IMPORT: "导入完成",
    Job.Kind.CHATLOG_RESCREEN: "筛查完成",
}
FAILED_TITLES: dict[str, str] = {
    Job.Kind.PERIOD_COMPUTE: "计算失败",
    Job.Kind.PERIOD_EXPORT: "导出失败",
    Job.Kind.SETTLEMENT_IMPORT: "导入失败",
    Job.Kind.EMPLOYEE_IMPORT: "导入失败",
    Job.Kind.LIST_EXPORT: "导出失败",
    Job.Kind.CHATLOG_IMPORT: "导入失败",
    Job.Kind.CHATLOG_RESCREEN: "筛查失败",
}


@dataclass
class JobOutcome:
    """What a job came to: ``text`` for people, ``result`` for programs (JSON), and an
    optional file (an open binary file, read from its start) downloaded as ``file_name``."""

    text: str
    result: dict = field(default_factory=dict)
    file: IO[bytes] | None = None
    file_name: str = ""
