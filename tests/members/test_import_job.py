"""The employee import in the background (docs/background-jobs.md): a confirmed sheet of more
than JOBS_BACKGROUND_ROWS rows is imported by a job — the same rows as in the request, all or
nothing, its errors in Chinese with their row and column, by HR only — and the job's copy of
the file is deleted afterwards."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from common.import_files import ERROR_CONFIRM_CHANGED, import_tmp_dir
from jobs.models import Job
from jobs.services import ERROR_FORBIDDEN, job_start
from members.models import Employee
from members.resources import LOCATED_ERROR
from members.widgets import ERROR_BAD_RANK
from notices.models import Notice
from tests.factories import StaffUserFactory
from tests.members.test_import_employees import admin_import, employee_row, sheet

pytestmark = pytest.mark.django_db
CONFIRM = reverse("admin:members_employee_process_import")


def three_employees(**changes) -> bytes:
    return sheet(
        employee_row(部门负责人="是"),
        employee_row(工号="E002", 姓名="李四", 岗位="操作工", 职级=1, 微信号="lisi", 手机号=""),
        employee_row(工号="E003", 姓名="王五", 微信号="wangwu", 手机号="", **changes),
    )


def imported() -> list[tuple]:
    return list(
        Employee.objects.order_by("employee_no").values_list(
            "employee_no", "name", "department__path", "position__name", "rank", "wechat_id"
        )
    )


def previews_kept() -> set[str]:
    folder = import_tmp_dir()
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def preview_and_confirm(client, data: bytes, **changed):
    preview = admin_import(client, data)
    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    return client.post(CONFIRM, {**confirm.initial, **changed}, follow=True)


@pytest.fixture
def hr_client(client, hr):
    client.force_login(hr)
    return client


def test_a_sheet_at_the_threshold_is_imported_in_the_request(hr_client, settings):
    settings.JOBS_BACKGROUND_ROWS = 3

    done = preview_and_confirm(hr_client, three_employees())

    assert not Job.objects.exists()
    assert [str(m) for m in done.context["messages"]] == ["导入完成：新增 3 / 更新 0 / 未变 0。"]
    assert len(imported()) == 3


def test_a_larger_sheet_is_a_job_that_imports_the_same_rows(
    hr_client, hr, settings, media, client, django_user_model, tmp_path
):
    # Its own previews' folder: a test importing beside it (xdist) keeps previews there too.
    settings.IMPORT_TMP_DIR = str(tmp_path / "import-previews")
    settings.JOBS_BACKGROUND_ROWS = 3
    preview_and_confirm(hr_client, three_employees())
    in_request = imported()
    Employee.objects.all().delete()
    settings.JOBS_BACKGROUND_ROWS = 2
    previews = previews_kept()

    done = preview_and_confirm(hr_client, three_employees())

    job = Job.objects.get()
    assert done.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.owner, job.status) == (Job.Kind.EMPLOYEE_IMPORT, hr, Job.Status.DONE)
    assert job.result_text == "导入完成：新增 3 / 更新 0 / 未变 0。"
    assert job.result_text in [str(m) for m in done.context["messages"]]
    assert job.subject == "员工表 员工.xlsx（3 行）"
    assert imported() == in_request
    assert Notice.objects.get(subject_key=f"job:{job.pk}").title.startswith("导入完成")
    assert not list((media / "jobs" / "uploads").iterdir())  # the job's copy is gone
    assert previews_kept() <= previews  # the preview's file and table too


def stored(data: bytes) -> str:
    """The sheet as the confirmation leaves it for the job: in private media."""
    return default_storage.save("jobs/uploads/sheet.xlsx", ContentFile(data))


def test_a_bad_row_fails_the_job_in_chinese_with_its_row_and_column(hr, media):
    # The worker's side: what a sheet that went bad after its preview comes to.
    job = job_start(
        kind=Job.Kind.EMPLOYEE_IMPORT,
        actor=hr,
        params={"upload": stored(three_employees(职级="abc")), "file_name": "员工.xlsx"},
    )

    assert job.status == Job.Status.FAILED
    assert job.error == LOCATED_ERROR.format(
        row=4, column="职级", message=ERROR_BAD_RANK.format(value="abc")
    )
    assert not Employee.objects.exists()  # rows 2 and 3 were good: all or nothing
    assert not list((media / "jobs" / "uploads").iterdir())


def test_a_clerk_who_lost_the_import_right_gets_a_chinese_refusal(media):
    clerk = StaffUserFactory(permissions=["members.view_employee"])
    job = job_start(
        kind=Job.Kind.EMPLOYEE_IMPORT,
        actor=clerk,
        params={"upload": stored(three_employees()), "file_name": "员工.xlsx"},
    )

    assert (job.status, job.error) == (Job.Status.FAILED, ERROR_FORBIDDEN)
    assert not Employee.objects.exists()
    assert not list((media / "jobs" / "uploads").iterdir())


@pytest.mark.parametrize("persona", ["finance", "department_head", "outsider"])
def test_only_hr_may_confirm(request, hr_client, settings, persona):
    settings.JOBS_BACKGROUND_ROWS = 2
    confirm = admin_import(hr_client, three_employees()).context["confirm_form"]
    hr_client.force_login(request.getfixturevalue(persona))

    response = hr_client.post(CONFIRM, confirm.initial)

    assert response.status_code == 403
    assert not Job.objects.exists()
    assert not Employee.objects.filter(employee_no__in=["E001", "E002", "E003"]).exists()


@pytest.mark.parametrize("rows", ["0", "99"])
def test_a_row_count_changed_in_the_form_is_refused(hr_client, settings, rows):
    settings.JOBS_BACKGROUND_ROWS = 2
    confirm = admin_import(hr_client, three_employees()).context["confirm_form"]

    response = hr_client.post(CONFIRM, {**confirm.initial, "rows": rows})

    assert ERROR_CONFIRM_CHANGED in response.content.decode()
    assert not Job.objects.exists()
    assert not Employee.objects.exists()
