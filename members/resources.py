"""The employee sheet (员工表) HR exchanges with the app: one row per employee, keyed by 工号.

The widgets (members.widgets) and the hooks only parse and normalise cells; what a row means for the org chart is decided
by members.services (creating a sub-department from "生产部/一车间", creating a position,
making someone a department's head). Every error names its spreadsheet row and its column in
the words of the sheet, and one bad row means nothing is written: callers run import_data with
use_transactions=True and rollback_on_validation_errors=True.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from import_export import fields, resources

from common.actors import actor_user
from common.importing import ROW_ERROR, renumber_rows
from common.spreadsheets.cells import cell_text, escape_formula
from common.spreadsheets.headers import map_headers
from common.spreadsheets.limits import SpreadsheetError
from members import selectors, services
from members.models import PATH_SEPARATOR, Employee
from members.signals import personnel_events_batched, personnel_events_flush
from members.widgets import (
    ChoiceWidget,
    DateCellWidget,
    DepartmentWidget,
    LoginWidget,
    PositionWidget,
    RankWidget,
    TextWidget,
    YesNoWidget,
)

ERROR_EMPLOYEE_NO_REQUIRED = "工号不能为空。"
ERROR_NAME_REQUIRED = "姓名不能为空。"
ERROR_UNKNOWN_CATEGORY = "无法识别的人员类别“{value}”：可填{accepted}。"
ERROR_UNKNOWN_STATUS = "无法识别的状态“{value}”：可填{accepted}。"
ERROR_DUPLICATE_EMPLOYEE_NO = "工号“{employee_no}”与第{first_row}行重复：一个工号只能出现一次。"
ERROR_SECOND_HEAD = "第{first_row}行已指定“{department}”的负责人：一个部门只能有一位负责人。"
ERROR_DUPLICATE_LOGIN = "登录账号“{username}”与第{first_row}行重复：一个账号只能关联一位员工。"
LOCATED_ERROR = "第{row}行「{column}」：{message}"

# Columns the file must have; the others may be left out (and then leave the data as it is).
REQUIRED_COLUMNS = ("employee_no", "name", "department")
# Other headers accepted for each column, besides its Chinese header and its field name.
# Compared ignoring case, spaces, "_", "-" and full-width forms (common.spreadsheets).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "employee_no": ("员工编号", "编号", "No.", "No", "emp_no", "employee_id", "staff_no"),
    "name": ("名字", "full_name", "employee_name"),
    "department": ("所属部门", "dept"),
    "position": ("职位", "title", "job_title"),
    "rank": ("级别", "level", "grade"),
    "category": ("类别", "人员分类"),
    "department_head": ("是否部门负责人", "负责人", "is_head", "head", "dept_head"),
    "status": ("在职状态", "state"),
    "left_on": ("离职时间", "leave_date", "left_date", "date_left"),
    "wechat_id": ("微信", "wechat", "weixin"),
    "phone": ("手机", "电话", "联系电话", "mobile", "tel"),
    "login": ("账号", "登录名", "用户名", "username", "login", "account"),
}
# Set on the instance from the 部门负责人 cell: "heads the department of this row".
HEAD_FLAG = "heads_own_department"
# Set on the instance from the 登录账号 cell; the login itself is found or made by
# members.services.employee_login_get_or_create when the row is imported, as the importer
# (import_data's ``user``; None is the command line), who needs members.invite_employee.
LOGIN_NAME = "login_name"


class EmployeeResource(resources.ModelResource):
    employee_no = fields.Field(
        attribute="employee_no",
        column_name="工号",
        widget=TextWidget(required=ERROR_EMPLOYEE_NO_REQUIRED),
    )
    name = fields.Field(
        attribute="name", column_name="姓名", widget=TextWidget(required=ERROR_NAME_REQUIRED)
    )
    department = fields.Field(attribute="department", column_name="部门", widget=DepartmentWidget())
    position = fields.Field(attribute="position", column_name="岗位", widget=PositionWidget())
    # Blank rank, category, head flag or status leave the employee's value as it is (a new
    # employee gets the default); blank text clears the text.
    rank = fields.Field(
        attribute="rank", column_name="职级", widget=RankWidget(), saves_null_values=False
    )
    category = fields.Field(
        attribute="category",
        column_name="人员类别",
        widget=ChoiceWidget(Employee.Category, ERROR_UNKNOWN_CATEGORY),
        saves_null_values=False,
    )
    department_head = fields.Field(
        attribute=HEAD_FLAG, column_name="部门负责人", widget=YesNoWidget(), saves_null_values=False
    )
    status = fields.Field(
        attribute="status",
        column_name="状态",
        widget=ChoiceWidget(Employee.Status, ERROR_UNKNOWN_STATUS),
        saves_null_values=False,
    )
    left_on = fields.Field(attribute="left_on", column_name="离职日期", widget=DateCellWidget())
    wechat_id = fields.Field(attribute="wechat_id", column_name="微信号", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="手机号", widget=TextWidget())
    # Optional: a new login (no usable password, not staff) or an unlinked one is linked to
    # the employee; a login of another employee is an error. Blank leaves the login alone.
    login = fields.Field(
        attribute=LOGIN_NAME, column_name="登录账号", widget=LoginWidget(), saves_null_values=False
    )

    class Meta:
        model = Employee
        fields = (
            "employee_no",
            "name",
            "department",
            "position",
            "rank",
            "category",
            "department_head",
            "status",
            "left_on",
            "wechat_id",
            "phone",
            "login",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ("employee_no",)
        skip_unchanged = True  # re-importing the same sheet writes nothing, not even history
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._column_of = {f.attribute: f.column_name for f in self.fields.values()}
        self._attribute_of = {f.column_name: f.attribute for f in self.fields.values()}
        self._row_numbers: list[int] | None = None
        self._file_errors: dict[int, list[tuple[str, str]]] = {}
        self._row = 0
        self._employee_changed = True
        self._actor = None

    def get_queryset(self):
        return selectors.employees_for_list()

    def import_data(self, *args, **kwargs):
        # Joiners, movers and leavers applied to the groups once for the whole sheet, set-based,
        # in the import's transaction (after_import), not row by row (docs/performance.md).
        with personnel_events_batched():
            return super().import_data(*args, **kwargs)

    # --- rows and their numbers ----------------------------------------------------------
    def _sheet_row(self, index: int) -> int:
        """The row number Excel shows for the dataset's ``index``-th row (from 1)."""
        if self._row_numbers:
            return self._row_numbers[index - 1]
        return index + 1  # a plain Dataset: the header is row 1

    def _located(self, column: str | None, message: str) -> str:
        if column is None:
            return ROW_ERROR.format(row=self._row, message=message)
        return LOCATED_ERROR.format(row=self._row, column=column, message=message)

    # --- import hooks --------------------------------------------------------------------
    def before_import(self, dataset, **kwargs) -> None:
        self._row_numbers = getattr(dataset, "row_numbers", None)
        self._actor = kwargs.get("user")  # the admin passes request.user
        self._file_errors = {}
        for field in self.fields.values():
            if hasattr(field.widget, "cache"):
                field.widget.cache = {}  # a dry run's objects were rolled back
        columns = {
            name: (field.column_name, *HEADER_ALIASES.get(name, ()))
            for name, field in self.fields.items()
        }
        try:
            mapping = map_headers(dataset.headers or [], columns, required=REQUIRED_COLUMNS)
        except SpreadsheetError:
            dataset.wipe()  # no row can be read without its headers: report them alone
            raise
        headers = list(dataset.headers)
        for name, index in mapping.items():
            headers[index] = self.fields[name].column_name
        dataset.headers = headers
        self._check_whole_file(dataset)

    def _check_whole_file(self, dataset) -> None:
        """Errors that need more than one row: a repeated 工号 or 登录账号, two heads for one
        department."""
        employee_no = self.fields["employee_no"]
        head = self.fields["department_head"]
        department = self.fields["department"]
        login = self.fields["login"]
        first_row_of: dict[str, int] = {}
        head_row_of: dict[str, int] = {}
        login_row_of: dict[str, int] = {}
        for index, row in enumerate(dataset.dict, start=1):
            sheet_row = self._sheet_row(index)
            errors = self._file_errors.setdefault(index, [])
            username = (
                login.widget.clean(row[login.column_name]) if login.column_name in row else None
            )
            if username:
                first = login_row_of.setdefault(username, sheet_row)
                if first != sheet_row:
                    message = ERROR_DUPLICATE_LOGIN.format(username=username, first_row=first)
                    errors.append((login.column_name, message))
            try:
                number = employee_no.widget.clean(row[employee_no.column_name])
            except ValueError:
                number = ""  # reported with the row itself
            if number:
                first = first_row_of.setdefault(number, sheet_row)
                if first != sheet_row:
                    message = ERROR_DUPLICATE_EMPLOYEE_NO.format(
                        employee_no=number, first_row=first
                    )
                    errors.append((employee_no.column_name, message))
            if head.column_name not in row:
                continue
            try:
                is_head = head.widget.clean(row[head.column_name])
                path_parts = services.split_department_path(cell_text(row[department.column_name]))
            except ValueError:
                continue  # reported with the row itself
            if is_head:
                path = PATH_SEPARATOR.join(path_parts)
                first = head_row_of.setdefault(path, sheet_row)
                if first != sheet_row:
                    message = ERROR_SECOND_HEAD.format(department=path, first_row=first)
                    errors.append((head.column_name, message))

    def before_import_row(self, row, **kwargs) -> None:
        self._row = self._sheet_row(kwargs["row_number"])

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            return None  # a blank 工号: import_instance() reports it with its row and column

    def after_init_instance(self, instance, new, row, **kwargs) -> None:
        # What the sheet's 部门负责人 column shows for this employee now (as export writes it).
        setattr(instance, HEAD_FLAG, not new and instance.department.head_id == instance.pk)
        setattr(instance, LOGIN_NAME, self.dehydrate_login(instance))

    def import_instance(self, instance, row, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        for field in self.get_import_fields():
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                errors.setdefault(field.column_name, []).append(str(error))
        for column, message in self._file_errors.get(kwargs["row_number"], []):
            errors.setdefault(column, []).append(message)
        login_column = self.fields["login"].column_name
        username = getattr(instance, LOGIN_NAME)
        if username != self.dehydrate_login(instance) and login_column not in errors:
            try:
                instance.user, _ = services.employee_login_get_or_create(
                    employee=instance, username=username, actor=self._actor
                )
            except ValidationError as error:
                errors.setdefault(login_column, []).extend(error.messages)
            except PermissionDenied:
                errors.setdefault(login_column, []).append(services.ERROR_INVITE_FORBIDDEN)
        rank_column = self.fields["rank"].column_name
        blank_rank = not cell_text(row.get(rank_column))
        if blank_rank and (rank_column in row or instance.pk is None) and instance.position:
            instance.rank = instance.position.rank  # the position's default rank
        if errors:
            raise ValidationError(
                {
                    column: [self._located(column, message) for message in messages]
                    for column, messages in errors.items()
                }
            )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's own checks too, with their messages located like ours."""
        errors = dict(import_validation_errors or {})
        exclude = {self._attribute_of[column] for column in errors if column in self._attribute_of}
        # Cheaper per row, same rules: the department and position were just fetched or made
        # by the services (no "does it exist" query needed), and the model's check constraints
        # are the ones Employee.clean() and the 工号 widget already enforce in Python (the
        # database still holds them).
        exclude |= {"department", "position"}
        try:
            instance.full_clean(
                exclude=exclude, validate_unique=validate_unique, validate_constraints=False
            )
        except ValidationError as error:
            for attribute, messages in error.message_dict.items():
                column = self._column_of.get(attribute)
                located = [self._located(column, message) for message in messages]
                errors.setdefault(column or NON_FIELD_ERRORS, []).extend(located)
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        self._employee_changed = (
            original is None
            or original.pk is None
            or any(
                field.get_value(instance) != field.get_value(original)
                for field in self.get_import_fields()
                if field.attribute != HEAD_FLAG
            )
        )
        return super().skip_row(instance, original, row, import_validation_errors)

    def do_instance_save(self, instance, is_create) -> None:
        # Only the head flag changed: Department.head records that, and saving the employee
        # would add a history row that says nothing.
        if is_create or self._employee_changed:
            # Who imported, as the admin records who saved (django-simple-history's attribute):
            # the history row and the 人事变动 (members.signals) name them; None for the system.
            if self._actor is not None:
                instance._history_user = actor_user(self._actor)
            super().do_instance_save(instance, is_create)

    def after_save_instance(self, instance, row, **kwargs) -> None:
        # The cell itself, not HEAD_FLAG: a blank cell keeps the flag computed for the old
        # department, which must not make a moved head the head of the new one.
        head = self.fields["department_head"]
        wanted = head.clean(row) if head.column_name in row else None
        if instance.pk is None or wanted is None:
            return  # not saved (a dry run without transactions), or nothing asked
        department = instance.department
        if wanted and department.head_id != instance.pk:
            services.department_set_head(department=department, head=instance)
        elif not wanted and department.head_id == instance.pk:
            services.department_set_head(department=department, head=None)

    def after_import(self, dataset, result, **kwargs) -> None:
        super().after_import(dataset, result, **kwargs)
        if not (result.has_errors() or result.has_validation_errors()):
            personnel_events_flush()  # rolled back with the import otherwise
        renumber_rows(result, self._sheet_row)

    # --- export --------------------------------------------------------------------------
    def dehydrate_department_head(self, employee: Employee) -> str:
        return "是" if employee.department.head_id == employee.pk else "否"

    def dehydrate_login(self, employee: Employee) -> str:
        return employee.user.get_username() if employee.user_id else ""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        # OWASP CSV injection; numbers and dates stay as they are (docs/security.md, 8).
        return escape_formula(value) if isinstance(value, str) else value
