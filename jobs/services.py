"""Starting a job and running it (docs/background-jobs.md).

- ``job_start(kind=, actor=, params=, subject=)`` — records the job for its owner and hands it
  to the worker once the caller's transaction commits; with no broker configured (the
  embedded default, ``CELERY_TASK_ALWAYS_EAGER``) it runs here and now instead, so the page
  the caller shows next already has the result.
- ``job_execute(job_id)`` — the worker's side (jobs.tasks.run_job): runs the kind's function
  (jobs.runners) with a progress callback, records the result or the error, tells the owner.
"""

from __future__ import annotations

import logging
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from common.exceptions import ServiceError
from common.import_files import JOB_UPLOADS_DIR
from jobs.models import Job
from jobs.runners import DONE_TITLES, FAILED_TITLES, RUNNERS, JobOutcome
from notices.models import Notice
from notices.services import notice_post

logger = logging.getLogger(__name__)

# What the owner reads; the tests reuse these.
QUEUE_DOWN = "任务队列暂不可用，任务未能开始，请稍后重试。"
ERROR_UNEXPECTED = "任务执行出错（任务 #{pk}），详细信息已记入系统日志，请联系系统管理员。"
ERROR_FORBIDDEN = "你没有执行此任务的权限。"
ERROR_NO_OWNER = "后台任务须由登录的用户发起。"


class JobError(ServiceError):
    """A job that cannot be started."""


def job_url(job: Job) -> str:
    return reverse("jobs:detail", args=[job.pk])


def job_start(*, kind: str, actor: User, params: dict, subject: str = "") -> Job:
    """Record a job of ``kind`` for ``actor`` (a person: the job is theirs, only they see it,
    and the work runs with their permissions) and run it: on the worker after the caller's
    transaction commits, or here and now when no broker is configured.

    A broker that refuses the task leaves the job FAILED with ``QUEUE_DOWN`` on its page
    (``dispatch_failed``), never a bare 500 for the request that started it."""
    if not getattr(actor, "is_authenticated", False) or not actor.pk:
        raise JobError(ERROR_NO_OWNER)
    job = Job(owner=actor, kind=kind, params=params, subject=subject)
    job.full_clean()
    job.save()
    from jobs.tasks import run_job  # the task module imports this one

    if run_job.app.conf.task_always_eager:
        # In-process there is no other process to wait for: run it now, inside the caller's
        # transaction (it sees the row, and a caller that rolls back takes the job with it).
        run_job.delay(job.pk)
        job.refresh_from_db()
    else:
        transaction.on_commit(partial(job_send, job))
    return job


def job_send(job: Job) -> None:
    """Queue the job's task; if the broker cannot take it, the job fails with QUEUE_DOWN —
    on its row and on ``job`` itself (the caller's page says so, not "started") — its owner
    is told, and an upload kept for it is deleted (no runner will read it)."""
    from jobs.tasks import run_job

    try:
        run_job.delay(job.pk)
    except (KombuOperationalError, RedisError, OSError):  # what an unreachable broker raises
        logger.exception("could not queue job %s", job.pk)
        now = timezone.now()
        failed = Job.objects.filter(pk=job.pk, status=Job.Status.PENDING).update(
            status=Job.Status.FAILED, dispatch_failed=True, error=QUEUE_DOWN, finished_at=now
        )
        if failed:
            job.status, job.dispatch_failed, job.error = Job.Status.FAILED, True, QUEUE_DOWN
            job.finished_at = now
            _tell(job, FAILED_TITLES.get(job.kind, "后台任务失败"), QUEUE_DOWN)
            job_discard_upload(job)


def job_discard_upload(job: Job) -> None:
    """Delete the file an import moved to private media for its job (``params["upload"]``),
    once no runner will read it."""
    upload = job.params.get("upload") if isinstance(job.params, dict) else None
    if isinstance(upload, str) and upload.startswith(JOB_UPLOADS_DIR):
        default_storage.delete(upload)


def job_progress(job_id: int, percent: int) -> None:
    """Record how far a running job is (0–99: 100 is for the end, with its result)."""
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        progress=max(0, min(99, int(percent)))
    )


def job_execute(job_id: int) -> Job | None:
    """Run a recorded job (the task's body). Guarantees: a job already finished is left as
    it is (a task delivered twice); a refusal (ServiceError, PermissionDenied) is stored as
    its Chinese message, any other error as ``ERROR_UNEXPECTED`` with the traceback in the
    log; either way the job ends DONE or FAILED and its owner gets a notice linking to it."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.finished:
        return job
    try:
        runner = import_string(RUNNERS[job.kind])
    except (KeyError, ImportError):
        logger.exception("job %s: no runner for its kind %r", job.pk, job.kind)
        job_fail(job, ERROR_UNEXPECTED.format(pk=job.pk))
        return job
    # Claimed by one worker only: a task delivered twice (the broker's redelivery, or the
    # sweep's resend racing the original) finds the job no longer PENDING and leaves it.
    started = timezone.now()
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.PENDING).update(
        status=Job.Status.RUNNING, started_at=started, progress=0
    )
    if not claimed:
        return job
    job.status, job.started_at, job.progress = Job.Status.RUNNING, started, 0
    try:
        if connection.in_atomic_block:
            # In-process, inside the caller's transaction: a savepoint, so that a runner
            # that fails midway leaves that transaction usable for recording the failure.
            with transaction.atomic():
                outcome = _run(runner, job)
        else:
            outcome = _run(runner, job)
    except (ServiceError, PermissionDenied) as exc:
        job_fail(job, str(exc) or ERROR_FORBIDDEN)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job_fail(job, ERROR_UNEXPECTED.format(pk=job.pk))
    else:
        _finish(job, outcome)
    return job


def _run(runner, job: Job) -> JobOutcome:
    return runner(params=job.params, actor=job.owner, progress=partial(job_progress, job.pk))


def _finish(job: Job, outcome: JobOutcome) -> None:
    job.status, job.progress, job.finished_at = Job.Status.DONE, 100, timezone.now()
    job.result, job.result_text = outcome.result, outcome.text
    fields = ["status", "progress", "finished_at", "result", "result_text"]
    if outcome.file is not None:
        with outcome.file:
            outcome.file.seek(0)
            suffix = outcome.file_name.rsplit(".", 1)[-1] if "." in outcome.file_name else "bin"
            # An ASCII name on disk; the Chinese one (result_name) is the download's.
            job.result_file.save(f"job-{job.pk}.{suffix}", File(outcome.file), save=False)
        job.result_name = outcome.file_name
        fields += ["result_file", "result_name"]
    job.save(update_fields=fields)
    _tell(job, DONE_TITLES[job.kind], job.result_text)


def job_fail(job: Job, message: str) -> None:
    job.status, job.error, job.finished_at = Job.Status.FAILED, message, timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    _tell(job, FAILED_TITLES.get(job.kind, "后台任务失败"), message)


def _tell(job: Job, title: str, body: str) -> None:
    notice_post(
        recipient=job.owner,
        kind=Notice.Kind.JOB_FINISHED,
        title=f"{title}：{job.subject}" if job.subject else title,
        body=body,
        url=job_url(job),
        subject_key=f"job:{job.pk}",
    )
