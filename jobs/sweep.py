"""No job waits forever, no result file is kept forever (docs/background-jobs.md, 清理).

``jobs_sweep`` (Celery task ``jobs.sweep``, beat entry ``jobs-sweep``, every 5 minutes), as
groups.services.runs.runs_sweep_stale does for the reconciliation runs (docs/security.md, 5):

- a job 排队中 longer than JOBS_STALE_AFTER_SECONDS (the broker lost it, or no worker ran)
  is sent once more; still 排队中 that long after, it is marked 失败 with a Chinese reason;
- a job 运行中 that long (its worker died: a redelivered task finds it claimed and leaves it) is
  marked 失败: imports and computations are not re-run behind their owner's back;
- either way the owner gets the usual notice, and an upload kept for the job is deleted;
- result files older than JOBS_RESULT_DAYS days are deleted; the job stays in 我的任务 with
  its result, saying 文件已过期.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import Job
from jobs.services import job_discard_upload, job_fail, job_send

logger = logging.getLogger(__name__)

# What the owner reads; the tests reuse these.
STALE_PENDING = "排队超过 {minutes} 分钟仍未开始（任务队列或执行进程中断），已重新发送一次仍未执行，任务已标记失败，请重新发起。"
STALE_RUNNING = "运行超过 {minutes} 分钟未完成（执行进程中断），任务已标记失败，请重新发起。"
FILE_EXPIRED = "文件已过期（结果文件保留 {days} 天），请重新导出。"


@dataclass
class JobSweep:
    resent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


@transaction.atomic
def jobs_sweep(*, now: dt.datetime | None = None) -> JobSweep:
    """Send again, give up, expire (see the module docstring). Guarantees: a job is sent
    again at most once (``resent_at``); rows another sweep holds are skipped (two sweeps at
    once send nothing twice); the sends happen after commit; a finished job is never
    touched but for its expired file."""
    now = now or timezone.now()
    limit = dt.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)
    minutes = max(1, settings.JOBS_STALE_AFTER_SECONDS // 60)
    swept = JobSweep()
    stuck = (
        Job.objects.select_for_update(skip_locked=True)
        .select_related("owner")
        .filter(status__in=[Job.Status.PENDING, Job.Status.RUNNING])
        .order_by("pk")
    )
    for job in stuck:
        if job.status == Job.Status.RUNNING:
            if job.started_at is not None and job.started_at < now - limit:
                _give_up(job, STALE_RUNNING.format(minutes=minutes), swept)
        elif job.resent_at is None:
            if job.created_at < now - limit:
                job.resent_at = now
                job.save(update_fields=["resent_at"])
                transaction.on_commit(partial(job_send, job))
                swept.resent.append(job.pk)
        elif job.resent_at < now - limit:
            _give_up(job, STALE_PENDING.format(minutes=minutes), swept)
    _expire_files(now=now, swept=swept)
    return swept


def _give_up(job: Job, message: str, swept: JobSweep) -> None:
    logger.warning("job %s (%s) stuck %s: %s", job.pk, job.kind, job.status, message)
    job_fail(job, message)
    job_discard_upload(job)  # no runner will read it now
    swept.failed.append(job.pk)


def _expire_files(*, now: dt.datetime, swept: JobSweep) -> None:
    days = settings.JOBS_RESULT_DAYS
    expired = (
        Job.objects.select_for_update(skip_locked=True)
        .filter(finished_at__lt=now - dt.timedelta(days=days))
        .exclude(result_file="")
        .order_by("pk")
    )
    for job in expired:
        job.result_file.delete(save=False)
        job.result_text = "\n".join(filter(None, [job.result_text, FILE_EXPIRED.format(days=days)]))
        job.result = {**job.result, "file_expired": True}
        job.save(update_fields=["result_file", "result_text", "result"])
        swept.expired.append(job.pk)
