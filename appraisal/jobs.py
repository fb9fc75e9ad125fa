"""The appraisal's background jobs (jobs.runners names them): computing a period and
exporting its workbook, run on the worker with the permissions of the person who started
them (docs/background-jobs.md)."""

from __future__ import annotations

import tempfile

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.urls import reverse

from appraisal.exceptions import AppraisalError
from appraisal.exports import period_workbook, period_workbook_filename
from appraisal.models import Period
from appraisal.services import period_compute, settlement_import
from common.actors import Actor, actor_may
from jobs.runners import JobOutcome, Progress

COMPUTED = (
    "{period} 已计算：{employees} 名员工，扣分明细 {lines} 条，调整 {adjustments} 条，"
    "扣分合计 {deducted}。"
)
IMPORTED = "导入完成（导入记录 #{record}）：{summary}。"
EXPORTED = "{period} 已导出：汇总 {results} 行，明细 {lines} 行，部门 {departments} 行。"
ERROR_PERIOD_GONE = "考核期间已被删除，任务无法执行。"
EXPORT_PERMISSION = "appraisal.export_period"


def _period(params: dict) -> Period:
    period = Period.objects.filter(pk=params.get("period_id", 0)).first()
    if period is None:
        raise AppraisalError(ERROR_PERIOD_GONE)
    return period


def _period_link(period: Period) -> dict:
    return {
        "url": reverse("admin:appraisal_period_change", args=[period.pk]),
        "url_text": f"打开考核期间 {period.code}",
    }


def period_compute_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """period_compute as ``actor`` (the period records them as who computed it). One
    transaction, all or nothing: its progress shows started and done, nothing between."""
    period = _period(params)
    progress(5)
    summary = period_compute(period=period, actor=actor)
    return JobOutcome(
        text=COMPUTED.format(**vars(summary)),
        result={
            "period": summary.period,
            "employees": summary.employees,
            "lines": summary.lines,
            "adjustments": summary.adjustments,
            "deducted": str(summary.deducted),
            **_period_link(period),
        },
    )


def period_export_file_allowed(request, job) -> bool:
    """The workbook's download (jobs.views.download): only while its owner may export."""
    return request.user.has_perm(EXPORT_PERMISSION)


def period_export_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """The period's workbook (appraisal.exports), to a file the job keeps for its owner."""
    if not actor_may(actor, EXPORT_PERMISSION):  # asked again: the job may run much later
        raise PermissionDenied
    period = _period(params)
    out = tempfile.TemporaryFile()  # the job stores it, then closes it
    summary = period_workbook(period, out, progress=progress)
    return JobOutcome(
        text=EXPORTED.format(
            period=summary.period,
            results=summary.results,
            lines=summary.lines,
            departments=summary.departments,
        ),
        result={"period": summary.period, "results": summary.results, "lines": summary.lines},
        file=out,
        file_name=period_workbook_filename(period),
    )


def settlement_import_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """Finance's sheet committed (appraisal.services.settlement_import, all or nothing: a
    sheet with any error imports nothing and the job fails with every error, one a line).
    The upload was moved to private storage for the job (``params["upload"]``) and is
    deleted here, whatever the outcome; the import keeps its own copy (SettlementImport)."""
    upload = params["upload"]
    try:
        period = _period(params)
        with default_storage.open(upload, "rb") as file:
            data = file.read()
        progress(5)
        report = settlement_import(
            period=period, data=data, filename=params["file_name"], actor=actor, dry_run=False
        )
    finally:
        default_storage.delete(upload)
    if report.errors:
        raise AppraisalError("\n".join(report.errors))
    record = report.settlement_import.pk if report.settlement_import is not None else None
    return JobOutcome(
        text=IMPORTED.format(record=record, summary=report.summary),
        result={"settlement_import": record, "new": report.new, "updated": report.updated},
    )
