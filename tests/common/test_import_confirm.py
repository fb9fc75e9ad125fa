"""The import confirm step opens only the file this user's own preview stored
(docs/security.md, 4): employees (HR) and finance's settlement sheet, through the
real admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings as settings_module
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal.models import Period, Result, Settlement
from appraisal.services import period_get_or_create
from common import import_files
from common.import_files import (
    ABANDONED_AFTER,
    ERROR_CONFIRM_CHANGED,
    ERROR_CONFIRM_EXPIRED,
    ERROR_CONFIRM_FOREIGN,
    ERROR_CONFIRM_GONE,
    KEPT_TABLE,
    PrivateTempStorage,
    import_files_sweep,
)
from company.roles import HR
from members.models import Employee
from members.services import department_get_or_create_by_path
from members.tasks import sweep_import_files
from tests.factories import EmployeeFactory, UserFactory, xlsx_bytes

EMPLOYEES = "admin:members_employee_import"
EMPLOYEES_CONFIRM = "admin:members_employee_process_import"
SETTLEMENTS = "admin:appraisal_settlement_import"
SETTLEMENTS_CONFIRM = "admin:appraisal_settlement_process_import"
EMPLOYEE_HEADERS = ["工号", "姓名", "部门", "岗位", "职级", "人员类别", "部门负责人", "状态"]
SETTLEMENT_HEADERS = ["工号", "姓名", "部门", "扣分合计", "扣款金额", "备注"]
SECRET = "E999,王总,总经办,月薪 88888"  # the first line the old error page echoed


@pytest.fixture(autouse=True)
def previews(settings, tmp_path):
    """Where previews are stored (IMPORT_TMP_DIR), and media, inside this test's folder."""
    settings.IMPORT_TMP_DIR = tmp_path / "previews"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.IMPORT_TMP_DIR


def stored(previews) -> list[str]:
    """The folder's files but the tables kept for the previews (``kept``)."""
    names = sorted(os.listdir(previews)) if previews.exists() else []
    return [name for name in names if not KEPT_TABLE.fullmatch(name)]


def kept(previews) -> list[str]:
    """The tables the previews parsed, kept for their confirmation (read_table_kept)."""
    names = sorted(os.listdir(previews)) if previews.exists() else []
    return [name for name in names if KEPT_TABLE.fullmatch(name)]


def employees_sheet(rank: object = 5) -> bytes:
    return xlsx_bytes(
        [
            EMPLOYEE_HEADERS,
            ["E001", "张三", "生产部/一车间", "车间主任", rank, "生产", "否", "在职"],
            ["E002", "李四", "生产部/一车间", "操作工", 1, "生产", "否", "在职"],
        ]
    )


def preview_employees(client, data: bytes | None = None):
    upload = SimpleUploadedFile("员工.xlsx", employees_sheet() if data is None else data)
    return client.post(reverse(EMPLOYEES), {"format": "0", "resource": "0", "import_file": upload})


def confirm_data(preview, **changes) -> dict:
    form = preview.context["confirm_form"]
    return {**{name: form.initial[name] for name in form.fields}, **changes}


def refusal(response) -> list[str]:
    """The confirm form's errors as the page shows them (a 200, never a 500)."""
    assert response.status_code == 200
    return list(response.context["confirm_form"].non_field_errors())


@pytest.fixture
def hr_client(client, hr):
    client.force_login(hr)
    return client


@pytest.fixture
def secret_file(tmp_path):
    """A file that is not a preview: another user's, or anything in the temporary folder."""
    path = tmp_path / "x"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


# -- the confirm step -------------------------------------------------------------------------
def test_preview_then_confirm_imports_and_leaves_no_file(hr_client, previews):
    preview = preview_employees(hr_client)
    assert len(stored(previews)) == 1
    assert stored(previews)[0] not in preview.content.decode()  # the page carries a token

    done = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert set(Employee.objects.values_list("name", flat=True)) == {"张三", "李四"}
    assert stored(previews) == []
    assert kept(previews) == []


@pytest.mark.parametrize(
    "name",
    ["../../../{tmp}/x", "/{tmp}/x", "x", "../previews/{stored}", "{stored}"],
    ids=["traversal", "absolute", "bare-name", "traversal-to-a-preview", "a-preview-by-name"],
)
def test_a_file_name_from_the_form_is_refused_never_read_nor_deleted(
    hr_client, previews, secret_file, name
):
    preview = preview_employees(hr_client)  # this user's own preview, by name: still refused
    [own] = stored(previews)
    name = name.format(tmp=str(secret_file.parent).lstrip("/"), stored=own)

    response = hr_client.post(
        reverse(EMPLOYEES_CONFIRM), confirm_data(preview, import_file_name=name)
    )

    assert refusal(response) == [ERROR_CONFIRM_FOREIGN]
    assert "王总" not in response.content.decode()
    assert secret_file.read_text(encoding="utf-8") == SECRET + "\n"
    assert stored(previews) == [own]
    assert not Employee.objects.exists()


def test_another_users_preview_is_refused_and_kept_for_its_owner(client, hr, previews):
    client.force_login(hr)
    preview = preview_employees(client)
    stolen = confirm_data(preview)
    client.force_login(UserFactory(username="hr2", roles=[HR]))

    response = client.post(reverse(EMPLOYEES_CONFIRM), stolen)

    assert refusal(response) == [ERROR_CONFIRM_FOREIGN]
    assert len(stored(previews)) == 1
    assert not Employee.objects.exists()
    client.force_login(hr)  # a new session: its owner previews again
    again = preview_employees(client)
    assert client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(again)).status_code == 302


def test_a_preview_of_one_import_cannot_confirm_another(client, hr, previews, locked_period):
    # HR may import both sheets: the employees' token does not open the settlement import.
    client.force_login(hr)
    preview = preview_employees(client)

    response = client.post(
        reverse(SETTLEMENTS_CONFIRM), {**confirm_data(preview), "period": locked_period.pk}
    )

    assert refusal(response) == [ERROR_CONFIRM_FOREIGN]
    assert len(stored(previews)) == 1
    assert not Settlement.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"format": "abc"}, {"format": "7"}, {"format": "1"}, {"resource": "3"}, {"format": ""}],
    ids=["not-a-number", "no-such-format", "another-format", "no-such-resource", "missing"],
)
def test_a_bad_format_or_resource_is_a_form_error(hr_client, previews, changes):
    preview = preview_employees(hr_client)

    response = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview, **changes))

    assert refusal(response) == [ERROR_CONFIRM_CHANGED]
    assert not Employee.objects.exists()
    assert len(stored(previews)) == 1  # still the clerk's: a proper confirm may follow


def test_a_missing_file_is_a_form_error(hr_client, previews):
    preview = preview_employees(hr_client)
    for name in stored(previews):
        (previews / name).unlink()  # swept, or confirmed in another tab

    response = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview))

    assert refusal(response) == [ERROR_CONFIRM_GONE]
    assert not Employee.objects.exists()


def test_a_preview_older_than_a_day_cannot_be_confirmed(hr_client, previews, monkeypatch):
    preview = preview_employees(hr_client)
    tomorrow = time.time() + ABANDONED_AFTER.total_seconds() + 60
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: tomorrow))  # the clock

    response = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview))

    assert refusal(response) == [ERROR_CONFIRM_EXPIRED]
    assert not Employee.objects.exists()


def test_a_confirmation_posted_twice_imports_once(hr_client, previews):
    preview = preview_employees(hr_client)
    assert hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview)).status_code == 302

    response = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview))

    assert refusal(response) == [ERROR_CONFIRM_GONE]
    assert Employee.objects.count() == 2


def test_a_refused_confirmation_offers_a_new_upload_not_the_button(hr_client, previews):
    preview = preview_employees(hr_client)

    response = hr_client.post(reverse(EMPLOYEES_CONFIRM), confirm_data(preview, format="9"))

    page = response.content.decode()
    assert ERROR_CONFIRM_CHANGED in page
    assert reverse(EMPLOYEES) in page
    assert 'name="confirm"' not in page


# -- refused and abandoned previews ------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [employees_sheet(rank="abc"), bytes(range(256)) * 8, xlsx_bytes([["岗位"], ["x"]])],
    ids=["row-errors", "not-a-spreadsheet", "missing-columns"],
)
def test_a_refused_preview_leaves_no_file(hr_client, previews, data):
    response = preview_employees(hr_client, data)

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    assert stored(previews) == []
    assert kept(previews) == []


def test_the_sweep_removes_abandoned_previews_only(previews, tmp_path):
    previews.mkdir(parents=True)
    old, fresh = PrivateTempStorage(), PrivateTempStorage()
    old.save(b"abandoned")
    fresh.save(b"being looked at")
    two_days_ago = (dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=2)).timestamp()
    os.utime(old.get_full_path(), (two_days_ago, two_days_ago))
    other = previews / "notes.txt"  # not a name the storage makes: never touched
    other.write_text("keep")
    os.utime(other, (two_days_ago, two_days_ago))

    assert import_files_sweep() == 1

    assert sorted(stored(previews)) == sorted([fresh.name, "notes.txt"])


def test_the_sweep_command_says_how_many_it_removed(previews):
    storage = PrivateTempStorage()
    storage.save(b"abandoned")
    long_ago = (dt.datetime.now(tz=dt.UTC) - dt.timedelta(hours=30)).timestamp()
    os.utime(storage.get_full_path(), (long_ago, long_ago))
    out = StringIO()

    call_command("sweep_import_files", stdout=out)

    assert out.getvalue().strip() == "已删除 1 个未确认的导入预览文件。"
    assert stored(previews) == []
    with pytest.raises(CommandError, match="至少为 1"):
        call_command("sweep_import_files", "--older-than-hours=0")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "x", "", None])
def test_the_storage_opens_only_names_it_made(previews, name):
    with pytest.raises(SuspiciousFileOperation, match="不是导入预览保存的文件名"):
        PrivateTempStorage(name=name, read_mode="rb").read()


def test_a_stored_preview_is_readable_by_its_owner_only(previews):
    storage = PrivateTempStorage()
    storage.save(b"payroll")

    assert os.stat(storage.get_full_path()).st_mode & 0o777 == 0o600
    assert os.stat(previews).st_mode & 0o777 == 0o700


# -- finance's settlement sheet ----------------------------------------------------------------
@pytest.fixture
def locked_period(db) -> Period:
    period = period_get_or_create(code="2026-11")
    sales = department_get_or_create_by_path(path="销售部")
    for employee_no, name in [("E001", "张三"), ("E002", "李四")]:
        Result.objects.create(
            period=period,
            employee=EmployeeFactory(employee_no=employee_no, name=name, department=sales),
            department_path="销售部",
            base_score=Decimal("100"),
            deducted=Decimal("0"),
            warnings=0,
            final_score=Decimal("100"),
        )
    period.state = Period.State.LOCKED
    period.save()
    return period


def preview_settlements(client, period: Period):
    data = xlsx_bytes(
        [
            SETTLEMENT_HEADERS,
            ["E001", "张三", "销售部", 0, 12.5, ""],
            ["E002", "李四", "销售部", 0, 0, ""],
        ]
    )
    upload = SimpleUploadedFile("扣款表.xlsx", data)
    form = {"period": period.pk, "format": "0", "resource": "0", "import_file": upload}
    return client.post(reverse(SETTLEMENTS), form)


@pytest.fixture
def finance_client(client, finance):
    client.force_login(finance)
    return client


def test_finance_previews_then_confirms_and_leaves_no_file(finance_client, locked_period, previews):
    preview = preview_settlements(finance_client, locked_period)

    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert Settlement.objects.filter(period=locked_period).count() == 2
    assert stored(previews) == []
    assert kept(previews) == []


def test_finance_posting_a_path_gets_a_form_error(finance_client, locked_period, secret_file):
    preview = preview_settlements(finance_client, locked_period)
    name = f"../../../{str(secret_file.parent).lstrip('/')}/x"

    response = finance_client.post(
        reverse(SETTLEMENTS_CONFIRM), confirm_data(preview, import_file_name=name)
    )

    assert refusal(response) == [ERROR_CONFIRM_FOREIGN]
    assert "王总" not in response.content.decode()
    assert secret_file.exists()
    assert not Settlement.objects.exists()


def test_finance_cannot_confirm_hr_s_preview(client, hr, finance, previews):
    client.force_login(hr)
    stolen = confirm_data(preview_employees(client))
    client.force_login(finance)

    response = client.post(reverse(EMPLOYEES_CONFIRM), stolen)

    assert response.status_code == 403  # no import permission on employees at all
    assert len(stored(previews)) == 1


def test_the_period_cannot_be_swapped_after_the_preview(finance_client, locked_period, previews):
    other = period_get_or_create(code="2026-10")
    other.state = Period.State.LOCKED
    other.save()
    preview = preview_settlements(finance_client, locked_period)

    response = finance_client.post(
        reverse(SETTLEMENTS_CONFIRM), confirm_data(preview, period=other.pk)
    )

    assert refusal(response) == [ERROR_CONFIRM_CHANGED]
    assert not Settlement.objects.exists()


def test_the_sweep_task_runs_the_sweep(previews):
    # The beat entry import-files-sweep-nightly names this task (config/settings/base.py).
    storage = PrivateTempStorage()
    storage.save(b"abandoned")
    long_ago = (dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=3)).timestamp()
    os.utime(storage.get_full_path(), (long_ago, long_ago))

    assert sweep_import_files.delay().get() == 1
    assert stored(previews) == []
    assert settings_module.CELERY_BEAT_SCHEDULE["import-files-sweep-nightly"]["task"] == (
        sweep_import_files.name
    )


# -- the table a preview parsed, kept for its confirmation (docs/performance.md) ---------------
def settlement_sheet(*rows: list) -> bytes:
    return xlsx_bytes([SETTLEMENT_HEADERS, *rows])


def upload_settlements(client, period: Period, data: bytes):
    upload = SimpleUploadedFile("扣款表.xlsx", data)
    form = {"period": period.pk, "format": "0", "resource": "0", "import_file": upload}
    return client.post(reverse(SETTLEMENTS), form)


def amounts(period: Period) -> dict[str, Decimal]:
    return dict(
        Settlement.objects.filter(period=period).values_list("employee__employee_no", "amount")
    )


TWO_ROWS = [["E001", "张三", "销售部", 0, 12.5, "补扣"], ["E002", "李四", "销售部", 0, 0, ""]]


def test_the_confirmation_uses_the_table_its_preview_parsed_once(
    finance_client, locked_period, previews, monkeypatch
):
    data = settlement_sheet(*TWO_ROWS)
    preview = upload_settlements(finance_client, locked_period, data)
    assert kept(previews) == [f"table-{hashlib.sha256(data).hexdigest()}.json"]

    def no_parse(*args, **kwargs):
        raise AssertionError("the confirmation parsed the file again")

    monkeypatch.setattr(import_files, "read_table", no_parse)
    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert amounts(locked_period) == {"E001": Decimal("12.50"), "E002": Decimal("0.00")}
    assert stored(previews) == []
    assert kept(previews) == []  # used once, then removed


def test_a_kept_table_is_the_table_the_file_reads_as(previews):
    # Every kind of cell read_table() gives: text, numbers, a bool, dates, blanks.
    data = xlsx_bytes(
        [
            ["工号", "金额", "日期", "时间", "是否", "备注"],
            [
                "E001",
                12.5,
                dt.date(2026, 11, 30),
                dt.datetime(2026, 11, 30, 8, 5),  # noqa: DTZ001 — a spreadsheet's naive date-time
                True,
                None,
            ],
            ["００２", 3, dt.date(2026, 1, 1), None, False, "<b>“补扣”</b>"],
            [None, None, None, None, None, "only a note"],
        ]
    )
    with import_files.kept_tables(import_files.KEEP):
        parsed = import_files.read_table_kept(data)
    with import_files.kept_tables(import_files.USE):
        recalled = import_files.read_table_kept(data)

    assert recalled == parsed == import_files.read_table(data)
    assert [[type(cell) for cell in row.values] for row in recalled.rows] == [
        [type(cell) for cell in row.values] for row in parsed.rows
    ]
    assert kept(previews) == []


def test_a_kept_table_is_only_ever_that_of_the_same_bytes(finance_client, locked_period, previews):
    # The stored file replaced under its name after the preview (any writer of the folder):
    # the confirmation imports what the file now holds, never the table kept for the old one.
    preview = upload_settlements(finance_client, locked_period, settlement_sheet(*TWO_ROWS))
    [name] = stored(previews)
    (previews / name).write_bytes(
        settlement_sheet(
            ["E001", "张三", "销售部", 0, 99, ""], ["E002", "李四", "销售部", 0, 1, ""]
        )
    )

    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert amounts(locked_period) == {"E001": Decimal("99.00"), "E002": Decimal("1.00")}
    [orphan] = kept(previews)  # the old file's table, no longer anyone's: swept with them
    long_ago = (dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=2)).timestamp()
    os.utime(previews / orphan, (long_ago, long_ago))
    assert import_files_sweep() == 0  # it counts previews; the table goes with the sweep
    assert kept(previews) == []


FORGED_ROWS = (
    '[[2, ["E001", "张三", "销售部", 0, 99, ""]], [3, ["E002", "李四", "销售部", 0, 1, ""]]]'
)
HEADERS_JSON = '["工号", "姓名", "部门", "扣分合计", "扣款金额", "备注"]'


@pytest.mark.parametrize(
    "text",
    [
        '{"version": "{V}", "headers": [',
        f'{{"version": "0-older", "header_row": 1, "headers": {HEADERS_JSON}, "rows": {FORGED_ROWS}}}',
        f'{{"version": "{{V}}", "header_row": 1, "headers": ["工号"], "rows": {FORGED_ROWS}}}',
        f'{{"version": "{{V}}", "header_row": 1, "headers": {HEADERS_JSON}, "rows": [[2, {{"x": 1}}]]}}',
        '{"version": "{V}", "header_row": 1, "headers": [], "rows": [[2, [{"eval": "x"}]]]}',
    ],
    ids=["truncated", "older-code", "wrong-width", "not-a-row", "not-a-cell"],
)
def test_an_unreadable_kept_table_is_parsed_again(finance_client, locked_period, previews, text):
    preview = upload_settlements(finance_client, locked_period, settlement_sheet(*TWO_ROWS))
    [table] = kept(previews)
    (previews / table).write_text(text.replace("{V}", import_files.table_version()), "utf-8")

    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert amounts(locked_period) == {"E001": Decimal("12.50"), "E002": Decimal("0.00")}
    assert kept(previews) == []


def test_the_confirmation_checks_the_rows_against_the_period_as_it_is_then(
    finance_client, locked_period, previews
):
    # The table is kept, the plan is not: a recomputation between preview and confirmation
    # is caught, with the row and column, and nothing is written.
    preview = upload_settlements(finance_client, locked_period, settlement_sheet(*TWO_ROWS))
    Result.objects.filter(period=locked_period, employee__employee_no="E002").update(
        deducted=Decimal("1.5")
    )

    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview), follow=True)

    assert [str(m) for m in done.context["messages"]] == [
        "第3行「扣分合计」与系统不符：文件 0.00，系统 1.50"
    ]
    assert not Settlement.objects.exists()
    assert stored(previews) == []
    assert kept(previews) == []


def test_a_preview_with_row_errors_keeps_no_table(finance_client, locked_period, previews):
    bad = settlement_sheet(["E001", "张三", "销售部", 3, 12.5, ""])

    response = upload_settlements(finance_client, locked_period, bad)

    assert response.context.get("confirm_form") is None
    assert stored(previews) == []
    assert kept(previews) == []


def test_a_table_that_cannot_be_kept_costs_a_second_parse_not_the_preview(
    finance_client, locked_period, previews, monkeypatch
):
    def disk_full(path, table):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(import_files, "_keep_table", disk_full)
    preview = upload_settlements(finance_client, locked_period, settlement_sheet(*TWO_ROWS))
    assert preview.context["confirm_form"] is not None
    assert kept(previews) == []

    done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))

    assert done.status_code == 302
    assert amounts(locked_period) == {"E001": Decimal("12.50"), "E002": Decimal("0.00")}


def test_the_previews_and_confirmations_queries_do_not_grow_with_the_file(
    finance_client, finance, previews
):
    sales = department_get_or_create_by_path(path="销售部")
    employees = [EmployeeFactory(employee_no=f"F{n:03d}", department=sales) for n in range(40)]
    finance_client.get(reverse(SETTLEMENTS))  # the process's caches warmed, not counted
    counts = []
    for code, size in (("2026-10", 4), ("2026-11", 40)):
        period = period_get_or_create(code=code)
        Result.objects.bulk_create(
            Result(
                period=period,
                employee=e,
                department_path="销售部",
                base_score=Decimal("100"),
                deducted=Decimal("0"),
                warnings=0,
                final_score=Decimal("100"),
            )
            for e in employees
        )
        Period.objects.filter(pk=period.pk).update(state=Period.State.LOCKED)
        rows = [[f"F{n:03d}", "", "销售部", 0, n, ""] for n in range(size)]
        with CaptureQueriesContext(connection) as shown:
            preview = upload_settlements(finance_client, period, settlement_sheet(*rows))
        with CaptureQueriesContext(connection) as confirmed:
            done = finance_client.post(reverse(SETTLEMENTS_CONFIRM), confirm_data(preview))
        assert done.status_code == 302
        assert Settlement.objects.filter(period=period).count() == size
        counts.append((len(shown), len(confirmed)))

    assert counts[0] == counts[1]


def test_the_preview_lists_every_row_as_the_librarys_template_would(
    finance_client, locked_period, previews
):
    data = settlement_sheet(["E001", "张三", "销售部", 0, 12.5, "<script>x</script>"], TWO_ROWS[1])
    preview = upload_settlements(finance_client, locked_period, data)
    # The library's own loop (import_export/import.html, block preview), for comparison.
    # (Its labels in the summary line's words: the library's catalogue says 忽略 for 未变.)
    library = Template(
        '{% for row in result.valid_rows %}<tr class="{{ row.import_type }}">'
        '<td class="import-type">{% if row.import_type == "new" %}新增'
        '{% elif row.import_type == "skip" %}未变'
        '{% elif row.import_type == "delete" %}删除'
        '{% elif row.import_type == "update" %}更新{% endif %}</td>'
        "{% for field in row.diff %}<td>{{ field }}</td>{% endfor %}</tr>\n{% endfor %}"
    ).render(Context({"result": preview.context["result"]}))

    rows = preview.context["preview_rows"]

    assert rows == library.rstrip("\n")
    assert rows in preview.content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in rows
    assert "<script>" not in rows
