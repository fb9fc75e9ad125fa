"""The employee sheet: import (resource, command, admin), export, and the template."""

from __future__ import annotations

import io
from datetime import date
from io import StringIO

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.actors import SystemActor
from common.spreadsheets.cells import ERROR_BAD_DATE
from common.spreadsheets.headers import ERROR_MISSING_COLUMNS
from common.spreadsheets.limits import ERROR_NOT_A_SPREADSHEET
from common.spreadsheets.reading import read_table
from members import importing
from members.models import Department, Employee, Position
from members.resources import (
    ERROR_DUPLICATE_EMPLOYEE_NO,
    ERROR_EMPLOYEE_NO_REQUIRED,
    ERROR_SECOND_HEAD,
    ERROR_UNKNOWN_CATEGORY,
    LOCATED_ERROR,
    EmployeeResource,
)
from members.services import department_get_or_create_by_path
from members.widgets import ERROR_BAD_RANK
from tests.factories import (
    EmployeeFactory,
    StaffUserFactory,
    csv_bytes,
    xlsx_bytes,
)

HEADERS = ["工号", "姓名", "部门", "岗位", "职级", "人员类别", "部门负责人", "状态", "离职日期", "微信号", "手机号", "登录账号"]  # fmt: skip
ENGLISH_HEADERS = ["No.", "name", "department", "position", "rank", "category", "is_head", "status", "leave_date", "wechat", "mobile"]  # fmt: skip
XLSX, CSV = "0", "1"  # the admin's format choices, in SPREADSHEET_FORMATS order


def employee_row(**values) -> list:
    row = {
        "工号": "E001",
        "姓名": "张三",
        "部门": "生产部/一车间",
        "岗位": "车间主任",
        "职级": 5,
        "人员类别": "生产",
        "部门负责人": "否",
        "状态": "在职",
        "离职日期": None,
        "微信号": "zhangsan",
        "手机号": "13800000001",
        "登录账号": None,
    }
    row.update(values)
    return [row[header] for header in HEADERS]


def sheet(*rows: list) -> bytes:
    return xlsx_bytes([HEADERS, *rows])


def two_employees() -> bytes:
    return sheet(
        employee_row(部门负责人="是"),
        employee_row(工号="E002", 姓名="李四", 岗位="操作工", 职级=1, 微信号="lisi", 手机号=""),
    )


def run_import(data: bytes, **kwargs) -> importing.ImportReport:
    """The import as the command line runs it (the system acting) unless an actor is given."""
    kwargs.setdefault("actor", SystemActor("command:import_employees"))
    return importing.employee_import_file(data=data, **kwargs)


def located(row: int, column: str, message: str) -> str:
    return LOCATED_ERROR.format(row=row, column=column, message=message)


def everything() -> tuple[int, ...]:
    """What an import may write; equal before and after means nothing was written."""
    return (
        Department.objects.count(),
        Position.objects.count(),
        Employee.objects.count(),
        Employee.history.count(),
        Department.history.count(),
    )


# --- good files -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_xlsx_import_creates_employees_with_every_column():
    report = run_import(two_employees())

    assert (report.errors, report.new, report.updated, report.unchanged) == ((), 2, 0, 0)
    zhang = Employee.objects.select_related("department__parent", "position").get(
        employee_no="E001"
    )
    assert (zhang.name, zhang.department.path, zhang.department.parent.path) == ("张三", "生产部/一车间", "生产部")  # fmt: skip
    assert (zhang.position.name, zhang.rank, zhang.category, zhang.status) == ("车间主任", 5, "production", "active")  # fmt: skip
    assert (zhang.wechat_id, zhang.phone, zhang.left_on) == ("zhangsan", "13800000001", None)


@pytest.mark.django_db
def test_department_path_creates_the_sub_department_under_an_existing_one():
    production = department_get_or_create_by_path(path="生产部")

    run_import(sheet(employee_row(部门="生产部 / 二车间")))

    workshop = Department.objects.get(path="生产部/二车间")
    assert workshop.parent == production
    assert Department.objects.filter(name="生产部").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_imports_in_utf8_with_or_without_bom_and_in_gbk(encoding):
    report = run_import(csv_bytes([HEADERS, employee_row()], encoding=encoding))

    assert report.errors == ()
    assert Employee.objects.get(employee_no="E001").department.path == "生产部/一车间"


@pytest.mark.django_db
def test_english_headers_and_values_are_accepted():
    row = ["E001", "Zhang San", "生产部", "", "", "admin", "Y", "active", "", "zs", "138"]

    report = run_import(xlsx_bytes([ENGLISH_HEADERS, row]))

    assert report.errors == ()
    employee = Employee.objects.get(employee_no="E001")
    assert (employee.category, employee.status, employee.wechat_id) == ("admin", "active", "zs")
    assert employee.headed_departments.get().path == "生产部"


@pytest.mark.django_db
def test_head_flag_makes_the_employee_the_department_head():
    run_import(two_employees())

    workshop = Department.objects.get(path="生产部/一车间")
    assert workshop.head.employee_no == "E001"


@pytest.mark.django_db
def test_head_can_be_handed_over_in_one_file():
    run_import(two_employees())

    report = run_import(
        sheet(
            employee_row(部门负责人="否"),
            employee_row(
                工号="E002",
                姓名="李四",
                岗位="操作工",
                职级=1,
                微信号="lisi",
                手机号="",
                部门负责人="是",
            ),
        )
    )

    assert (report.errors, report.updated, report.unchanged) == ((), 2, 0)
    assert Department.objects.get(path="生产部/一车间").head.employee_no == "E002"


@pytest.mark.django_db
def test_blank_head_flag_leaves_the_head_alone():
    run_import(two_employees())

    run_import(sheet(employee_row(部门负责人=None, 手机号="13900000000")))

    assert Department.objects.get(path="生产部/一车间").head.employee_no == "E001"


@pytest.mark.django_db
def test_a_head_who_moves_with_a_blank_flag_does_not_head_the_new_department():
    run_import(two_employees())

    run_import(sheet(employee_row(部门="生产部/二车间", 部门负责人=None)))

    assert Department.objects.get(path="生产部/一车间").head.employee_no == "E001"
    assert Department.objects.get(path="生产部/二车间").head is None


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing():
    data = two_employees()
    run_import(data)
    before = everything()

    report = run_import(data)

    assert (report.errors, report.new, report.updated, report.unchanged) == ((), 0, 0, 2)
    assert everything() == before  # no history rows either


@pytest.mark.django_db
def test_a_changed_row_updates_only_that_employee():
    run_import(two_employees())
    history = Employee.history.count()

    report = run_import(
        sheet(
            employee_row(部门负责人="是"),
            employee_row(
                工号="E002", 姓名="李四", 岗位="操作工", 职级=2, 微信号="lisi_new", 手机号=""
            ),
        )
    )

    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    li = Employee.objects.get(employee_no="E002")
    assert (li.rank, li.wechat_id) == (2, "lisi_new")
    assert Employee.history.count() == history + 1


@pytest.mark.django_db
def test_blank_rank_takes_the_positions_default_rank():
    run_import(sheet(employee_row(岗位="车间主任", 职级=None)))

    assert Employee.objects.get(employee_no="E001").rank == 5


@pytest.mark.django_db
@pytest.mark.parametrize("left_on", [date(2024, 3, 1), "2024-03-01", "2024/3/1", "2024年3月1日"])
def test_departed_employee_may_have_a_leave_date_in_any_common_form(left_on):
    report = run_import(sheet(employee_row(状态="离职", 离职日期=left_on)))

    assert report.errors == ()
    employee = Employee.objects.get(employee_no="E001")
    assert (employee.status, employee.left_on) == ("left", date(2024, 3, 1))


@pytest.mark.django_db
def test_departed_employee_without_a_leave_date_is_fine():
    assert run_import(sheet(employee_row(状态="离职"))).errors == ()


@pytest.mark.django_db
def test_numbers_excel_made_of_ids_become_text():
    run_import(sheet(employee_row(工号=1001, 手机号=13800000001)))

    employee = Employee.objects.get()
    assert (employee.employee_no, employee.phone) == ("1001", "13800000001")


@pytest.mark.django_db
def test_dry_run_reports_but_writes_nothing():
    before = everything()

    report = run_import(two_employees(), dry_run=True)

    assert (report.errors, report.new) == ((), 2)
    assert everything() == before


# --- bad files: the row, the column, and nothing written --------------------------------------
BAD_ROWS = [
    pytest.param(
        {"工号": None},
        located(3, "工号", ERROR_EMPLOYEE_NO_REQUIRED),
        id="missing-employee-no",
    ),
    pytest.param(
        {"人员类别": "行政"},
        located(
            3, "人员类别", ERROR_UNKNOWN_CATEGORY.format(value="行政", accepted="“行管”、“生产”")
        ),
        id="unknown-category",
    ),
    pytest.param(
        {"状态": "离职", "离职日期": "2024-13-01"},
        located(3, "离职日期", ERROR_BAD_DATE.format(value="2024-13-01")),
        id="bad-date",
    ),
    pytest.param(
        {"职级": "abc"},
        located(3, "职级", ERROR_BAD_RANK.format(value="abc")),
        id="bad-rank",
    ),
    pytest.param(
        {"职级": 0},
        located(3, "职级", ERROR_BAD_RANK.format(value="0")),
        id="rank-zero",
    ),
    pytest.param(
        {"离职日期": "2024-03-01"},
        located(3, "离职日期", "在职员工不能有离职日期。"),
        id="active-with-leave-date",
    ),
    pytest.param(
        {"工号": "E001"},
        located(3, "工号", ERROR_DUPLICATE_EMPLOYEE_NO.format(employee_no="E001", first_row=2)),
        id="duplicate-employee-no",
    ),
    pytest.param(
        {"部门负责人": "是"},
        located(3, "部门负责人", ERROR_SECOND_HEAD.format(department="新部门/新车间", first_row=2)),
        id="second-head",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "message"), BAD_ROWS)
def test_a_bad_row_is_reported_with_row_and_column_and_nothing_is_written(bad, message):
    # Row 2 is good, and creates a department, a sub-department and a position; row 3 is bad.
    good = employee_row(部门="新部门/新车间", 岗位="新岗位", 部门负责人="是")
    bad_row = employee_row(**{"工号": "E002", "部门": "新部门/新车间", **bad})
    before = everything()

    report = run_import(sheet(good, bad_row))

    assert report.errors == (message,)
    assert everything() == before
    assert not Department.objects.filter(name__startswith="新").exists()


@pytest.mark.django_db
def test_every_error_is_listed_in_row_order():
    report = run_import(
        sheet(
            employee_row(工号=None, 人员类别="行政"),
            employee_row(工号="E002"),
            employee_row(工号="E003", 职级="高"),
        )
    )

    assert report.errors == (
        located(2, "工号", ERROR_EMPLOYEE_NO_REQUIRED),
        located(
            2, "人员类别", ERROR_UNKNOWN_CATEGORY.format(value="行政", accepted="“行管”、“生产”")
        ),
        located(4, "职级", ERROR_BAD_RANK.format(value="高")),
    )


@pytest.mark.django_db
def test_row_numbers_are_the_ones_excel_shows_across_blank_rows():
    data = xlsx_bytes([HEADERS, [None] * 12, employee_row(), [None] * 12, employee_row(工号="E2", 人员类别="?")])  # fmt: skip

    report = run_import(data)

    assert report.errors[0].startswith("第5行「人员类别」")


@pytest.mark.django_db
def test_missing_required_columns_are_named_in_one_message():
    before = everything()

    report = run_import(xlsx_bytes([["岗位", "微信号"], ["车间主任", "zs"]]))

    assert report.errors == (ERROR_MISSING_COLUMNS.format(columns="工号、姓名、部门"),)
    assert everything() == before


@pytest.mark.django_db
def test_unknown_columns_are_named():
    report = run_import(xlsx_bytes([[*HEADERS, "备注"], [*employee_row(), "x"]]))

    assert len(report.errors) == 1
    assert "无法识别的列：「备注」" in report.errors[0]


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_is_refused():
    report = run_import(b"MZ\x90\x00" + bytes(range(256)) * 8, filename="员工.xlsx")

    assert report.errors == (ERROR_NOT_A_SPREADSHEET,)


@pytest.mark.django_db
def test_row_cap_applies_to_imports(settings):
    settings.MAX_IMPORT_ROWS = 1

    report = run_import(two_employees())

    assert report.errors == ("数据行太多：一个文件最多 1 行，请分成几个文件导入。",)


# --- export -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_export_has_the_import_headers_and_escapes_formulas():
    department = department_get_or_create_by_path(path="财务部")  # seeded
    EmployeeFactory(employee_no="E001", name='=HYPERLINK("http://x","y")', department=department, rank=3, phone="+8613800000000")  # fmt: skip

    dataset = EmployeeResource().export()

    assert dataset.headers == HEADERS
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["姓名"] == '\'=HYPERLINK("http://x","y")'
    assert row["手机号"] == "'+8613800000000"
    assert row["职级"] == 3
    assert (row["部门"], row["人员类别"], row["部门负责人"], row["状态"]) == (
        "财务部",
        "生产",
        "否",
        "在职",
    )


@pytest.mark.django_db
def test_an_export_imports_back_unchanged():
    run_import(two_employees())
    EmployeeFactory(employee_no="E003", name="=1+1", left=True, department=department_get_or_create_by_path(path="品质部"))  # fmt: skip
    exported = EmployeeResource().export()
    before = everything()

    report = run_import(xlsx_bytes([exported.headers, *exported]))

    assert (report.errors, report.unchanged) == ((), 3)
    assert everything() == before
    assert Employee.objects.get(employee_no="E003").name == "=1+1"


# --- command ----------------------------------------------------------------------------------
@pytest.fixture
def sheet_file(tmp_path):
    def write(data: bytes, name: str = "员工.xlsx") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


@pytest.mark.django_db
def test_command_imports_and_prints_a_summary(sheet_file):
    out = StringIO()

    call_command("import_employees", sheet_file(two_employees()), stdout=out)

    assert "导入完成：新增 2 / 更新 0 / 未变 0。" in out.getvalue()
    assert Employee.objects.count() == 2


@pytest.mark.django_db
def test_command_dry_run_writes_nothing(sheet_file):
    out = StringIO()
    before = everything()

    call_command("import_employees", sheet_file(two_employees()), "--dry-run", stdout=out)

    assert "试运行（没有写入任何数据）：新增 2 / 更新 0 / 未变 0。" in out.getvalue()
    assert everything() == before


@pytest.mark.django_db
def test_command_prints_each_error_and_fails(sheet_file):
    err = StringIO()
    before = everything()
    data = sheet(employee_row(), employee_row(工号="E002", 人员类别="行政"), employee_row(工号="E001"))  # fmt: skip

    with pytest.raises(CommandError, match="共 2 处错误"):
        call_command("import_employees", sheet_file(data), stderr=err)

    assert err.getvalue().splitlines() == [
        located(
            3, "人员类别", ERROR_UNKNOWN_CATEGORY.format(value="行政", accepted="“行管”、“生产”")
        ),
        located(4, "工号", ERROR_DUPLICATE_EMPLOYEE_NO.format(employee_no="E001", first_row=2)),
    ]
    assert everything() == before


@pytest.mark.django_db
def test_command_refuses_an_oversized_file(sheet_file, settings):
    settings.MAX_UPLOAD_BYTES = 100

    with pytest.raises(CommandError, match="文件太大"):
        call_command("import_employees", sheet_file(two_employees()))


@pytest.mark.django_db
def test_command_without_a_file_fails():
    with pytest.raises(CommandError, match="请指定要导入的文件"):
        call_command("import_employees")


@pytest.mark.django_db
def test_command_template_reimports_cleanly(tmp_path):
    template = tmp_path / "模板.xlsx"

    call_command("import_employees", "--template", str(template), stdout=StringIO())
    call_command("import_employees", str(template), stdout=StringIO())

    assert Employee.objects.get().employee_no == "E0001"
    assert Department.objects.get(path="生产部/一车间").head.employee_no == "E0001"


def test_template_has_the_headers_an_example_and_notes():
    workbook = openpyxl.load_workbook(io.BytesIO(importing.employee_import_template()))

    assert workbook.sheetnames == [importing.TEMPLATE_SHEET, importing.TEMPLATE_NOTES_SHEET]
    assert read_table(importing.employee_import_template()).headers == HEADERS
    assert workbook.active.column_dimensions["A"].number_format == "@"


# --- admin ------------------------------------------------------------------------------------
IMPORTER = ["members.view_employee", "members.import_employee"]
EXPORTER = ["members.view_employee", "members.export_employee"]


@pytest.fixture
def login(client):
    def as_user(*permissions: str):
        client.force_login(StaffUserFactory(permissions=list(permissions)))
        return client

    return as_user


def upload(data: bytes, name: str = "员工.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def admin_import(client, data: bytes, *, file_format: str = XLSX, name: str = "员工.xlsx"):
    url = reverse("admin:members_employee_import")
    return client.post(
        url, {"format": file_format, "resource": "0", "import_file": upload(data, name)}
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("permissions", "status"), [(["members.view_employee"], 403), (IMPORTER, 200)]
)
def test_import_page_needs_the_import_permission(login, permissions, status):
    response = login(*permissions).get(reverse("admin:members_employee_import"))

    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("permissions", "status"), [(["members.view_employee"], 403), (EXPORTER, 200)]
)
def test_export_page_needs_the_export_permission(login, permissions, status):
    response = login(*permissions).get(reverse("admin:members_employee_export"))

    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("permissions", "status"), [(["members.view_employee"], 403), (IMPORTER, 200)]
)
def test_template_download_needs_the_import_permission(login, permissions, status):
    response = login(*permissions).get(reverse("admin:members_employee_import_template"))

    assert response.status_code == status


@pytest.mark.django_db
def test_downloaded_template_reimports_cleanly(login):
    response = login(*IMPORTER).get(reverse("admin:members_employee_import_template"))

    assert "attachment" in response["Content-Disposition"]
    assert run_import(response.content).errors == ()
    assert Employee.objects.get().employee_no == "E0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "file_format", "name"),
    [
        (two_employees(), XLSX, "员工.xlsx"),
        (
            csv_bytes(
                [HEADERS, employee_row(), employee_row(工号="E002", 姓名="李四")], encoding="gbk"
            ),
            CSV,
            "员工.csv",
        ),
        (
            csv_bytes(
                [HEADERS, employee_row(), employee_row(工号="E002", 姓名="李四")],
                encoding="utf-8-sig",
            ),
            XLSX,
            "员工.csv",
        ),
    ],
    ids=["xlsx", "gbk-csv", "bom-csv-picked-as-xlsx"],
)
def test_admin_import_round_trip(login, data, file_format, name):
    client = login(*IMPORTER)

    preview = admin_import(client, data, file_format=file_format, name=name)

    assert preview.status_code == 200
    assert "新增 2 / 更新 0 / 未变 0" in preview.content.decode()
    assert Employee.objects.count() == 0  # the preview writes nothing
    confirm = preview.context["confirm_form"]
    done = client.post(reverse("admin:members_employee_process_import"), confirm.initial)
    assert done.status_code == 302
    assert set(Employee.objects.values_list("name", flat=True)) == {"张三", "李四"}
    messages = [str(message) for message in get_messages(done.wsgi_request)]
    assert messages == ["导入完成：新增 2 / 更新 0 / 未变 0。"]


@pytest.mark.django_db
def test_admin_import_lists_errors_and_offers_no_confirm(login):
    client = login(*IMPORTER)
    before = everything()

    response = admin_import(client, sheet(employee_row(), employee_row(工号="E002", 职级="abc")))

    assert "confirm_form" not in response.context
    assert located(3, "职级", ERROR_BAD_RANK.format(value="abc")) in response.content.decode()
    assert everything() == before


@pytest.mark.django_db
def test_admin_import_shows_a_header_problem(login):
    response = admin_import(login(*IMPORTER), xlsx_bytes([["岗位"], ["x"]]))

    assert ERROR_MISSING_COLUMNS.format(columns="工号、姓名、部门") in response.content.decode()


@pytest.mark.django_db
def test_admin_import_refuses_what_is_not_a_spreadsheet(login):
    response = admin_import(login(*IMPORTER), bytes(range(256)) * 8)

    assert response.context["form"].errors["import_file"] == [ERROR_NOT_A_SPREADSHEET]


@pytest.mark.django_db
def test_admin_import_refuses_an_oversized_upload(login, settings):
    settings.MAX_UPLOAD_BYTES = 100

    response = admin_import(login(*IMPORTER), two_employees())

    assert response.context["form"].errors["import_file"][0].startswith("文件太大")


@pytest.mark.django_db
def test_admin_export_uses_the_changelist_filters_and_escapes(login):
    EmployeeFactory(employee_no="E001", name="=cmd|' /C calc'!A0", rank=6)
    EmployeeFactory(employee_no="E002", left=True)
    client = login(*EXPORTER)

    response = client.post(reverse("admin:members_employee_export") + "?status__exact=active", {"format": XLSX, "resource": "0"})  # fmt: skip

    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert list(rows[0]) == HEADERS
    assert [row[0] for row in rows[1:]] == ["E001"]
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][4] == 6  # numbers stay numbers


@pytest.mark.django_db
def test_admin_csv_export_opens_in_chinese_excel(login):
    EmployeeFactory(name="张三")

    response = login(*EXPORTER).post(reverse("admin:members_employee_export"), {"format": CSV, "resource": "0"})  # fmt: skip

    assert response.content.startswith(b"\xef\xbb\xbf")
    assert read_table(response.content).rows[0].values[1] == "张三"


@pytest.mark.django_db
def test_changelist_links_the_template_for_importers_only(login):
    url = reverse("admin:members_employee_changelist")
    template_url = reverse("admin:members_employee_import_template")

    assert template_url in login(*IMPORTER).get(url).content.decode()
    assert template_url not in login("members.view_employee").get(url).content.decode()


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_employees(login):
    client = login(*IMPORTER, "members.export_employee")
    url = reverse("admin:members_employee_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    EmployeeFactory.create_batch(2)
    few = queries()
    EmployeeFactory.create_batch(8)
    assert queries() == few
