"""导出 Excel of a large case or finding list in the background (docs/background-jobs.md;
jobs/list_export.py): above JOBS_BACKGROUND_ROWS the link asks first, a POST starts a job that
rebuilds the list as its owner — the same rows as the list shows them, scope included — and
a job whose owner lost the list meanwhile fails in Chinese."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.list_export import ERROR_BAD_LIST, ERROR_NO_LIST, ERROR_NO_VIEW
from jobs.models import Job
from jobs.services import job_start
from notices.models import Notice
from tests.factories import CaseFactory, StaffUserFactory
from tests.reports.test_list_export import CASES, CASES_XLSX, FINDINGS_XLSX, column, pks

pytestmark = pytest.mark.django_db


def job_sheet(client, job: Job):
    """The job's workbook, as its owner downloads it."""
    response = client.get(reverse("jobs:download", args=[job.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def test_a_list_at_the_threshold_downloads_at_once(client, hr, cases, settings):
    settings.JOBS_BACKGROUND_ROWS = len(cases)
    client.force_login(hr)

    response = client.get(CASES_XLSX)

    assert response.streaming
    assert not Job.objects.exists()


def test_a_larger_list_asks_first_and_a_get_starts_nothing(client, hr, cases, settings):
    settings.JOBS_BACKGROUND_ROWS = 3
    client.force_login(hr)

    page = client.get(CASES_XLSX, {"o": "-1"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "共 4 行" in html
    assert 'value="在后台导出"' in html
    assert f'action="{CASES_XLSX}?o=-1"' in html
    assert not Job.objects.exists()


def test_a_heads_job_exports_exactly_the_rows_their_list_shows(
    client, department_head, cases, settings, media
):
    settings.JOBS_BACKGROUND_ROWS = 1  # the head sees 2 cases
    client.force_login(department_head)
    params = "o=-1&p=2&_facets=True"  # newest first; the page on screen is not the export's

    done = client.post(f"{CASES_XLSX}?{params}", follow=True)

    job = Job.objects.get()
    assert done.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.owner, job.status) == (
        Job.Kind.LIST_EXPORT,
        department_head,
        Job.Status.DONE,
    )
    assert job.params == {"model": "violations.Case", "query": "o=-1"}
    assert job.result_text == "违规案件已导出：2 行。"
    listed = client.get(CASES, {"o": "-1"}).context["cl"].result_list
    sheet = job_sheet(client, job)
    assert column(sheet, "编号") == [case.pk for case in listed]
    assert set(column(sheet, "编号")) == pks(cases, "lina_office", "lina_other")
    today = timezone.localdate().isoformat()
    assert job.result_name == f"违规案件-{today}.xlsx"
    assert Notice.objects.get(subject_key=f"job:{job.pk}").title == "导出完成：违规案件（2 行）"


def test_a_heads_finding_export_job_leaves_out_the_confidential_inviter(
    client, department_head, findings, settings, media
):
    settings.JOBS_BACKGROUND_ROWS = 1
    client.force_login(department_head)

    client.post(FINDINGS_XLSX)

    sheet = job_sheet(client, Job.objects.get())
    assert column(sheet, "员工") == ["李娜", "李娜"]
    assert "邀请人" not in next(sheet.iter_rows(values_only=True))  # §6.1, as the list


def test_an_owner_who_lost_the_list_gets_a_chinese_refusal(cases, media):
    clerk = StaffUserFactory(permissions=["violations.view_case"])
    clerk.user_permissions.clear()  # between the click and the worker

    job = job_start(
        kind=Job.Kind.LIST_EXPORT,
        actor=clerk,
        params={"model": "violations.Case", "query": ""},
    )

    assert (job.status, job.error) == (Job.Status.FAILED, ERROR_NO_VIEW)
    assert not job.result_file


def test_a_list_file_is_not_served_once_its_owner_lost_the_list(client, cases, media):
    clerk = StaffUserFactory(permissions=["violations.view_case"])
    job = job_start(
        kind=Job.Kind.LIST_EXPORT, actor=clerk, params={"model": "violations.Case", "query": ""}
    )
    assert job.status == Job.Status.DONE
    client.force_login(clerk)
    download = reverse("jobs:download", args=[job.pk])
    assert client.get(download).status_code == 200

    clerk.user_permissions.clear()  # moved to another job since
    client.force_login(type(clerk).objects.get(pk=clerk.pk))
    assert client.get(download).status_code == 403


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"model": "violations.Case", "query": "no_such_field=1"}, ERROR_BAD_LIST),
        ({"model": "violations.NoSuchModel", "query": ""}, ERROR_NO_LIST),
        ({"model": "jobs.Job", "query": ""}, ERROR_NO_LIST),  # no list export
    ],
)
def test_a_list_that_no_longer_reads_fails_in_chinese(hr, cases, params, error):
    job = job_start(kind=Job.Kind.LIST_EXPORT, actor=hr, params=params)

    assert (job.status, job.error) == (Job.Status.FAILED, error)


def _job_queries(hr) -> int:
    with CaptureQueriesContext(connection) as queries:
        job = job_start(
            kind=Job.Kind.LIST_EXPORT, actor=hr, params={"model": "violations.Case", "query": ""}
        )
    assert job.status == Job.Status.DONE
    return len(queries)


def test_the_export_job_takes_the_same_queries_for_4_and_80_cases(hr, cases, media):
    few = _job_queries(hr)
    CaseFactory.create_batch(76, rule=cases["lina_office"].rule)

    assert _job_queries(hr) == few
