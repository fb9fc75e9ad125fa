"""The jobs' sweep (jobs/sweep.py; docs/background-jobs.md, 清理): a job no worker picked up
is sent once more, then failed in Chinese; one stuck running is failed; result files older than
JOBS_RESULT_DAYS are deleted while the job stays listed, saying 文件已过期."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from jobs import runners
from jobs.models import Job
from jobs.runners import JobOutcome
from jobs.sweep import FILE_EXPIRED, STALE_PENDING, STALE_RUNNING, jobs_sweep
from jobs.tasks import sweep_jobs
from notices.models import Notice

pytestmark = pytest.mark.django_db
Status = Job.Status
KIND = Job.Kind.LIST_EXPORT


def fine_runner(*, params, actor, progress):
    return JobOutcome(text="完成了。")


@pytest.fixture
def fine(monkeypatch):
    monkeypatch.setitem(runners.RUNNERS, KIND, f"{__name__}.fine_runner")


@pytest.fixture
def settings_short(settings):
    settings.JOBS_STALE_AFTER_SECONDS = 600  # 10 minutes
    settings.JOBS_RESULT_DAYS = 7
    return settings


def job(owner, *, age: dt.timedelta, **fields) -> Job:
    made = Job.objects.create(owner=owner, kind=KIND, **fields)
    Job.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    made.refresh_from_db()
    return made


MINUTES = dt.timedelta(minutes=1)


def test_a_job_waiting_too_long_is_sent_once_more_and_runs(
    hr, fine, settings_short, django_capture_on_commit_callbacks
):
    waiting = job(hr, age=11 * MINUTES)
    recent = job(hr, age=9 * MINUTES)

    with django_capture_on_commit_callbacks(execute=True):
        swept = jobs_sweep()

    assert swept.resent == [waiting.pk]
    waiting.refresh_from_db()
    recent.refresh_from_db()
    assert (waiting.status, waiting.result_text) == (Status.DONE, "完成了。")
    assert waiting.resent_at is not None
    assert (recent.status, recent.resent_at) == (Status.PENDING, None)


def test_a_job_still_waiting_after_its_second_send_fails_in_chinese(hr, settings_short, media):
    upload = default_storage.save("jobs/uploads/left.xlsx", ContentFile(b"x"))
    waiting = job(
        hr, age=30 * MINUTES, resent_at=timezone.now() - 11 * MINUTES, params={"upload": upload}
    )

    swept = jobs_sweep()

    waiting.refresh_from_db()
    assert swept.failed == [waiting.pk]
    assert (waiting.status, waiting.error) == (Status.FAILED, STALE_PENDING.format(minutes=10))
    assert Notice.objects.get(subject_key=f"job:{waiting.pk}").title.startswith("导出失败")
    assert not default_storage.exists(upload)


def test_a_job_sent_again_recently_is_left_to_run(hr, settings_short):
    waiting = job(hr, age=30 * MINUTES, resent_at=timezone.now() - 9 * MINUTES)

    assert jobs_sweep().failed == []
    waiting.refresh_from_db()
    assert waiting.status == Status.PENDING


def test_a_job_stuck_running_fails_and_is_never_run_again_behind_its_owner(
    hr, fine, settings_short, django_capture_on_commit_callbacks
):
    stuck = job(
        hr, age=30 * MINUTES, status=Status.RUNNING, started_at=timezone.now() - 11 * MINUTES
    )
    running = job(
        hr, age=30 * MINUTES, status=Status.RUNNING, started_at=timezone.now() - 2 * MINUTES
    )

    with django_capture_on_commit_callbacks(execute=True):
        swept = jobs_sweep()

    stuck.refresh_from_db()
    running.refresh_from_db()
    assert (swept.failed, swept.resent) == ([stuck.pk], [])
    assert (stuck.status, stuck.error) == (Status.FAILED, STALE_RUNNING.format(minutes=10))
    assert running.status == Status.RUNNING


def finished(owner, *, days: int) -> Job:
    done = job(owner, age=dt.timedelta(days=days), status=Status.DONE, result_text="已导出：4 行。")
    done.result_file.save(f"job-{done.pk}.xlsx", ContentFile(b"PK"), save=False)
    done.finished_at = timezone.now() - dt.timedelta(days=days)
    done.save()
    return done


def test_result_files_past_their_days_are_deleted_and_the_job_says_so(
    client, hr, settings_short, media
):
    old, new = finished(hr, days=8), finished(hr, days=6)
    old_name = old.result_file.name

    assert jobs_sweep().expired == [old.pk]

    old.refresh_from_db()
    new.refresh_from_db()
    assert not old.result_file
    assert not default_storage.exists(old_name)
    assert old.result_text == "已导出：4 行。\n" + FILE_EXPIRED.format(days=7)
    assert old.status == Status.DONE  # still listed in 我的任务, with its result
    assert default_storage.exists(new.result_file.name)
    client.force_login(hr)
    assert client.get(reverse("jobs:download", args=[old.pk])).status_code == 404
    page = client.get(reverse("jobs:detail", args=[old.pk])).content.decode()
    assert "文件已过期" in page


def test_the_sweep_is_a_beat_task_every_five_minutes(hr, settings_short):
    waiting = job(hr, age=30 * MINUTES, resent_at=timezone.now() - 11 * MINUTES)

    assert django_settings.CELERY_BEAT_SCHEDULE["jobs-sweep"]["task"] == "jobs.sweep"
    assert sweep_jobs.delay().get()["failed"] == [waiting.pk]
