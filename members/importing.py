"""Importing the employee sheet from a file, and its template: shared by the command and the admin.

The admin runs the same EmployeeResource through django-import-export's views; what both need
beyond that — the error lines, the 新增/更新/未变 summary, the template — is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from import_export.results import RowResult

from common.actors import Actor, require_actor
from common.importing import SUMMARY, import_error_lines
from common.spreadsheets import SpreadsheetError, TableDataset, read_table, write_xlsx
from members.resources import EmployeeResource

TEMPLATE_FILENAME = "员工导入模板.xlsx"
TEMPLATE_SHEET = "员工"
TEMPLATE_NOTES_SHEET = "填写说明"
# One row that imports cleanly, to show the formats; the notes ask to replace it.
TEMPLATE_EXAMPLE_ROW = (
    "E0001",
    "张三",
    "生产部/一车间",
    "车间主任",
    5,
    "生产",
    "是",
    "在职",
    None,
    "zhangsan_wx",
    "13800000000",
    None,
)
TEMPLATE_TEXT_COLUMNS = (
    "工号",
    "手机号",
    "登录账号",
)  # formatted as text: Excel keeps leading zeros
TEMPLATE_NOTES = (
    ("列", "必填", "怎么填"),
    ("工号", "是", "员工的唯一编号。已有的工号更新该员工，新的工号新增员工。"),
    ("姓名", "是", "员工的真实姓名。"),
    ("部门", "是", "从一级部门写起，用“/”分隔，如“生产部/一车间”；没有的部门会自动建立。"),
    ("岗位", "否", "如“车间主任”；没有的岗位会自动建立。"),
    (
        "职级",
        "否",
        "不小于 1 的整数；车间主任为 5 级，5 级及以上属于管理群（§4）。留空取岗位的默认职级。",
    ),
    (
        "人员类别",
        "否",
        "“行管”或“生产”（也可填 admin / production）。留空：新员工为“生产”，已有员工不变。",
    ),
    (
        "部门负责人",
        "否",
        "“是”或“否”（也可填 Y/N、1/0）。“是”即设为本行部门的负责人，每个部门只能一位。留空不变。",
    ),
    ("状态", "否", "“在职”或“离职”（也可填 active / left）。留空：新员工为“在职”，已有员工不变。"),
    ("离职日期", "否", "只有离职员工可填，如 2024-03-01、2024/3/1 或 2024年3月1日。"),
    ("微信号", "否", "员工本人的微信号（不是昵称）。"),
    ("手机号", "否", "11 位手机号。"),
    (
        "登录账号",
        "否",
        "员工登录本系统用的账号，如工号或 zhangsan。没有的账号会新开通（还没有密码），"
        "未关联员工、还没有密码的普通账号会关联到本行员工；后台管理账号、已设置密码或已关联"
        "其他员工的账号会报错，已有账号的员工也不能改关联别的账号。需要“开通登录账号”的权限。"
        "留空不变。"
        "开通后在员工列表选中员工，用“开通登录账号并生成设置密码链接”把链接私下发给员工。",
    ),
    ("", "", "第 2 行是示例：导入前请删掉或改成真实员工。只读取第一个工作表。"),
)


@dataclass(frozen=True)
class ImportReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def summary(self) -> str:
        return SUMMARY.format(new=self.new, updated=self.updated, unchanged=self.unchanged)


def employee_import_file(
    *, data: bytes, actor: Actor, filename: str = "", dry_run: bool = False
) -> ImportReport:
    """Import an employee sheet (xlsx or CSV bytes): all rows, or — on any error — none.

    ``actor`` is the user importing, or the system for the command line (common.actors); a
    登录账号 that would link a login needs members.invite_employee.

    With ``dry_run`` the import runs in a transaction that is rolled back, so the report
    (counts or errors) is exactly what a real import would give.
    """
    require_actor(actor)  # also for a file refused before any row is read
    try:
        dataset = TableDataset(read_table(data, filename=filename))
    except SpreadsheetError as error:
        return ImportReport(errors=(str(error),), dry_run=dry_run)
    result = EmployeeResource().import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=filename,
        user=actor,
    )
    if result.has_errors() or result.has_validation_errors():
        return ImportReport(errors=tuple(import_error_lines(result)), dry_run=dry_run)
    return ImportReport(
        new=result.totals[RowResult.IMPORT_TYPE_NEW],
        updated=result.totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=result.totals[RowResult.IMPORT_TYPE_SKIP],
        dry_run=dry_run,
    )


def employee_import_template() -> bytes:
    """The xlsx HR fills in: the export's headers, one example row, and a sheet of notes."""
    headers = EmployeeResource().get_export_headers()
    return write_xlsx(
        headers,
        [TEMPLATE_EXAMPLE_ROW],
        title=TEMPLATE_SHEET,
        text_columns={headers.index(column) for column in TEMPLATE_TEXT_COLUMNS},
        extra_sheets={TEMPLATE_NOTES_SHEET: TEMPLATE_NOTES},
    )
