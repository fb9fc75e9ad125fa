"""Background jobs (docs/background-jobs.md): started from the admin, run in-process when no
broker is configured (the unit tests' setting), their result or Chinese error on their page and
in a notice, each visible to its owner only, their files downloadable by the owner only."""

from __future__ import annotations

import io
import logging

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal import exports
from appraisal.jobs import ERROR_PERIOD_GONE
from appraisal.models import Period, Result, Settlement, SettlementImport
from appraisal.services import period_get_or_create, period_lock
from appraisal.services.periods import ERROR_LOCKED
from groups.models import ReconciliationRun
from jobs import runners
from jobs.models import Job
from jobs.services import ERROR_FORBIDDEN, ERROR_UNEXPECTED, QUEUE_DOWN, job_execute, job_start
from notices.models import Notice
from tests.appraisal.test_admin import finance_sheet, upload
from tests.appraisal.test_visibility import PERIOD
from tests.factories import ChatGroupFactory, StaffUserFactory
from tests.groups.conftest import capture

pytestmark = pytest.mark.django_db
Status = Job.Status


@pytest.fixture
def users(appraised):
    return appraised["users"]


@pytest.fixture
def hr_client(client, users):
    client.force_login(users["hr"])
    return client


def compute(client, period: Period):
    return client.post(reverse("admin:appraisal_period_compute", args=[period.pk]), follow=True)


def export(client, period: Period):
    return client.get(reverse("admin:appraisal_period_export", args=[period.pk]))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def broken_runner(*, params, actor, progress):
    progress(40)
    raise KeyError("a bug, not a refusal")


# -- computing a period: a job, finished at once without a broker ----------------------------


def test_computing_without_a_broker_shows_the_finished_result_on_the_jobs_page(hr_client, users):
    period = period_get_or_create(code="2026-09")

    response = compute(hr_client, period)

    job = Job.objects.get()
    assert (job.kind, job.owner, job.status, job.progress) == (
        Job.Kind.PERIOD_COMPUTE,
        users["hr"],
        Status.DONE,
        100,
    )
    assert job.started_at is not None
    assert job.finished_at is not None
    assert response.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert job.result_text.startswith("2026-09 已计算：4 名员工")
    assert job.result["employees"] == 4
    page = response.content.decode()
    assert job.result_text in page
    assert "完成" in page
    assert 'http-equiv="refresh"' not in page  # finished: nothing to wait for
    period.refresh_from_db()
    # The period records the person who asked, not the system that ran it.
    assert (period.state, period.computed_by) == (Period.State.COMPUTED, users["hr"])


def test_the_owner_is_told_when_the_computation_is_done(hr_client, users):
    period = period_get_or_create(code="2026-09")
    compute(hr_client, period)
    job = Job.objects.get()
    notice = Notice.objects.get(recipient=users["hr"], subject_key=f"job:{job.pk}")
    assert notice.title == "计算完成：考核期间 2026-09"
    assert notice.url == reverse("jobs:detail", args=[job.pk])
    assert notice.body == job.result_text


def test_a_locked_period_is_refused_at_once_and_starts_no_job(hr_client, users, appraised):
    period = appraised["period"]
    period_lock(period=period, actor=users["hr"])
    response = compute(hr_client, period)
    assert ERROR_LOCKED.format(code=period.code) in messages_of(response)
    assert not Job.objects.exists()


def test_the_list_action_on_two_periods_starts_two_jobs_and_shows_my_jobs(hr_client, users):
    periods = [period_get_or_create(code="2026-08"), period_get_or_create(code="2026-09")]
    response = hr_client.post(
        reverse("admin:appraisal_period_changelist"),
        {"action": "compute_periods", "_selected_action": [p.pk for p in periods]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("jobs:mine")
    assert Job.objects.filter(status=Status.DONE, owner=users["hr"]).count() == 2
    assert {j.subject for j in response.context["jobs"]} == {"考核期间 2026-08", "考核期间 2026-09"}


# -- failures reach the owner in Chinese -------------------------------------------------------


def test_a_refusal_on_the_worker_is_the_jobs_chinese_error(users):
    job = job_start(
        kind=Job.Kind.PERIOD_COMPUTE, actor=users["hr"], params={"period_id": 0}, subject="x"
    )
    assert (job.status, job.error) == (Status.FAILED, ERROR_PERIOD_GONE)
    notice = Notice.objects.get(subject_key=f"job:{job.pk}")
    assert (notice.title, notice.body) == ("计算失败：x", ERROR_PERIOD_GONE)


def test_a_bug_is_logged_with_its_traceback_and_the_owner_reads_chinese(
    client, users, monkeypatch, caplog
):
    monkeypatch.setitem(runners.RUNNERS, Job.Kind.PERIOD_COMPUTE, f"{__name__}.broken_runner")
    with caplog.at_level(logging.ERROR, logger="jobs.services"):
        job = job_start(kind=Job.Kind.PERIOD_COMPUTE, actor=users["hr"], params={})
    assert job.status == Status.FAILED
    assert job.error == ERROR_UNEXPECTED.format(pk=job.pk)
    assert "KeyError" in caplog.text  # the traceback is in the log, not on the page
    client.force_login(users["hr"])
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert job.error in page
    assert "KeyError" not in page


def test_an_export_job_of_someone_who_lost_the_right_fails_in_chinese(appraised):
    clerk = StaffUserFactory(username="clerk", permissions=["appraisal.view_period"])
    job = job_start(
        kind=Job.Kind.PERIOD_EXPORT, actor=clerk, params={"period_id": appraised["period"].pk}
    )
    assert (job.status, job.error, job.result_file.name) == (Status.FAILED, ERROR_FORBIDDEN, "")


# -- the export: immediate when small, a job with a download link when large --------------------


def test_a_small_export_answers_in_the_request(hr_client, appraised, settings):
    settings.JOBS_BACKGROUND_ROWS = 2000
    response = export(hr_client, appraised["period"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not Job.objects.exists()


def test_a_large_export_is_a_job_whose_file_its_owner_downloads(
    hr_client,
    users,
    appraised,
    settings,
):
    settings.JOBS_BACKGROUND_ROWS = 3  # the period has 4 results and 4 lines
    period = appraised["period"]

    confirm = export(hr_client, period)  # a GET starts nothing: it offers a POST
    assert confirm.status_code == 200
    assert "在后台导出" in confirm.content.decode()
    assert not Job.objects.exists()

    response = hr_client.post(reverse("admin:appraisal_period_export", args=[period.pk]))

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.status, job.result_name) == (
        Job.Kind.PERIOD_EXPORT,
        Status.DONE,
        f"考核结果-{PERIOD}.xlsx",
    )
    assert job.result_text == f"{PERIOD} 已导出：汇总 4 行，明细 4 行，部门 3 行。"
    page = hr_client.get(response["Location"]).content.decode()
    download = reverse("jobs:download", args=[job.pk])
    assert download in page
    assert Notice.objects.get(subject_key=f"job:{job.pk}").title == f"导出完成：考核期间 {PERIOD}"

    file = hr_client.get(download)
    assert file.status_code == 200
    assert "filename*=utf-8''" in file["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(file.streaming_content)))
    assert workbook.sheetnames == ["汇总", "明细", "部门"]
    assert workbook["汇总"].max_row == 1 + Result.objects.filter(period=period).count()


def test_an_export_file_is_not_served_once_its_owner_lost_the_right(client, appraised, settings):
    """The file is kept JOBS_RESULT_DAYS: who lost 导出 meanwhile no longer downloads it."""
    settings.JOBS_BACKGROUND_ROWS = 3
    clerk = StaffUserFactory(permissions=["appraisal.view_period", "appraisal.export_period"])
    client.force_login(clerk)
    client.post(reverse("admin:appraisal_period_export", args=[appraised["period"].pk]))
    job = Job.objects.get()
    download = reverse("jobs:download", args=[job.pk])
    assert client.get(download).status_code == 200

    clerk.user_permissions.remove(Permission.objects.get(codename="export_period"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # the permission cache, as a new request
    client.force_login(clerk)
    assert client.get(download).status_code == 403


def test_the_export_reports_its_progress_as_it_writes(appraised, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 1)
    seen: list[int] = []
    exports.period_workbook(appraised["period"], io.BytesIO(), progress=seen.append)
    assert len(seen) == 8  # 4 results + 4 lines
    assert seen == sorted(seen)
    assert 0 < seen[0]
    assert seen[-1] == 95


# -- nobody sees another person's job ---------------------------------------------------------


@pytest.fixture
def hr_export(users, appraised, settings):
    settings.JOBS_BACKGROUND_ROWS = 3
    return job_start(
        kind=Job.Kind.PERIOD_EXPORT, actor=users["hr"], params={"period_id": appraised["period"].pk}
    )


@pytest.mark.parametrize("who", ["finance", "leader", "superuser"])
@pytest.mark.parametrize("view", ["jobs:detail", "jobs:status", "jobs:download"])
def test_another_persons_job_is_not_found(client, users, hr_export, superuser, who, view):
    client.force_login(superuser if who == "superuser" else users[who])
    assert hr_export.result_file  # there is a file to leak
    assert client.get(reverse(view, args=[hr_export.pk])).status_code == 404


def test_my_jobs_lists_only_my_own(client, users, hr_export):
    client.force_login(users["finance"])
    mine = job_start(kind=Job.Kind.PERIOD_EXPORT, actor=users["finance"], params={"period_id": 0})
    response = client.get(reverse("jobs:mine"))
    assert [job.pk for job in response.context["jobs"]] == [mine.pk]
    assert reverse("jobs:detail", args=[hr_export.pk]) not in response.content.decode()


def test_the_pages_are_for_logged_in_staff(client, users, hr_export):
    assert client.get(reverse("jobs:mine")).status_code == 302  # to the login page
    client.force_login(users["worker"])  # an employee, not staff
    response = client.get(reverse("jobs:detail", args=[hr_export.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_job_without_a_file_has_no_download(client, users):
    job = job_start(kind=Job.Kind.PERIOD_COMPUTE, actor=users["hr"], params={"period_id": 0})
    client.force_login(users["hr"])
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


# -- the progress page and its JSON -----------------------------------------------------------


def test_a_waiting_job_polls_and_refreshes_without_script(client, users):
    job = Job.objects.create(owner=users["hr"], kind=Job.Kind.PERIOD_COMPUTE, progress=30)
    client.force_login(users["hr"])
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert reverse("jobs:status", args=[job.pk]) in page
    assert "排队中" in page
    data = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert data == {
        "status": "pending",
        "status_display": "排队中",
        "progress": 30,
        "finished": False,
        "result_text": "",
        "error": "",
        "download_url": "",
    }


# -- 我的任务: reconciliation runs too, and a bounded number of queries ---------------------------


def test_my_jobs_links_the_reconciliation_runs_i_started(client, users):
    group = ChatGroupFactory(name="销售一群")
    snapshot = capture(group, "销售部-李娜")
    mine = ReconciliationRun.objects.create(group=group, snapshot=snapshot, started_by=users["hr"])
    ReconciliationRun.objects.create(group=group, snapshot=snapshot, started_by=users["leader"])
    client.force_login(users["hr"])
    response = client.get(reverse("jobs:mine"))
    assert [run.pk for run in response.context["runs"]] == [mine.pk]
    assert reverse("admin:groups_reconciliation_run", args=[mine.pk]) in response.content.decode()


def test_my_jobs_takes_the_same_queries_however_many_jobs(
    client, users, django_assert_max_num_queries
):
    hr = users["hr"]
    group = ChatGroupFactory()
    snapshot = capture(group, "销售部-李娜")

    def add(n: int) -> None:
        for _ in range(n):
            job_start(kind=Job.Kind.PERIOD_COMPUTE, actor=hr, params={"period_id": 0})
            ReconciliationRun.objects.create(group=group, snapshot=snapshot, started_by=hr)

    client.force_login(hr)
    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("jobs:mine"))
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("jobs:mine"))
    assert len(response.context["jobs"]) == 32
    assert len(few.captured_queries) <= 12


# -- the broker refuses: the page says so ------------------------------------------------------


# Transactional: the view's own commit sends the task, as in production.
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_job_says_it_could_not_start(client, hr, broker_down):
    period = period_get_or_create(code="2026-09")
    client.force_login(hr)
    response = compute(client, period)
    job = Job.objects.get()
    assert (job.status, job.dispatch_failed, job.error) == (Status.FAILED, True, QUEUE_DOWN)
    assert response.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert QUEUE_DOWN in response.content.decode()
    # The page that started it says so too, not "started, you will be told"…
    assert messages_of(response) == [QUEUE_DOWN]
    # …and its owner is told, as of any job that ends.
    notice = Notice.objects.get(recipient=hr, subject_key=f"job:{job.pk}")
    assert (notice.kind, notice.title) == (Notice.Kind.JOB_FINISHED, "计算失败：考核期间 2026-09")
    period.refresh_from_db()
    assert period.state == Period.State.OPEN


def test_a_job_delivered_twice_runs_once(users):
    """The broker's redelivery (or the sweep's resend racing the original) finds the job
    already claimed by a worker and leaves it: the work is not done twice."""
    job = job_start(kind=Job.Kind.PERIOD_COMPUTE, actor=users["hr"], params={"period_id": 0})
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, error="", finished_at=None)
    job_execute(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (Status.RUNNING, "")


def test_a_job_of_a_kind_without_a_runner_fails_instead_of_running_forever(users, caplog):
    job = Job.objects.create(owner=users["hr"], kind="no-such-kind", params={})
    job_execute(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (Status.FAILED, ERROR_UNEXPECTED.format(pk=job.pk))
    assert "no runner" in caplog.text


# -- finance's import: a job for the sheet of a large period ------------------------------------


def test_a_large_settlement_sheet_is_imported_by_a_job(client, users, appraised, settings, media):
    settings.JOBS_BACKGROUND_ROWS = 3  # the period has 4 results: its sheet 4 rows
    period = appraised["period"]
    period_lock(period=period, actor=users["hr"])
    client.force_login(users["finance"])
    preview = upload(client, period, finance_sheet(period))
    confirm = preview.context["confirm_form"]

    done = client.post(
        reverse("admin:appraisal_settlement_process_import"),
        {name: confirm.initial[name] for name in confirm.fields},
        follow=True,
    )

    job = Job.objects.get()
    assert done.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.owner, job.status) == (
        Job.Kind.SETTLEMENT_IMPORT,
        users["finance"],
        Status.DONE,
    )
    record = SettlementImport.objects.get()
    assert (record.imported_by, record.created) == (users["finance"], 4)
    assert (
        job.result_text
        == f"导入完成（导入记录 #{record.pk}）：{PERIOD}：新增 4 / 更新 0 / 未变 0。"
    )
    assert job.result_text in messages_of(done)
    assert Settlement.objects.filter(period=period).count() == 4
    notice = Notice.objects.get(subject_key=f"job:{job.pk}")
    assert notice.title == f"导入完成：财务扣款表 {PERIOD}"
    assert not list((media / "jobs" / "uploads").iterdir())  # the job's copy is gone


def test_a_small_settlement_sheet_is_imported_in_the_request(client, users, appraised):
    period = appraised["period"]
    period_lock(period=period, actor=users["hr"])
    client.force_login(users["finance"])
    confirm = upload(client, period, finance_sheet(period)).context["confirm_form"]
    client.post(
        reverse("admin:appraisal_settlement_process_import"),
        {name: confirm.initial[name] for name in confirm.fields},
    )
    assert not Job.objects.exists()
    assert Settlement.objects.filter(period=period).count() == 4


def test_every_admin_page_links_my_jobs_for_staff(client, users):
    client.force_login(users["finance"])
    page = client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{reverse("jobs:mine")}">我的任务</a>' in page
