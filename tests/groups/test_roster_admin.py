"""The admin pages HR lives in: upload, the group page, to-dos, runs, decisions (§5.1, §6.1, §9.5)."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from common.spreadsheets.headers import ERROR_MISSING_COLUMNS
from common.spreadsheets.limits import ERROR_NOT_A_SPREADSHEET, ERROR_TOO_MANY_ROWS
from groups.exports import TODO_HEADERS
from groups.models import (
    ChatGroup,
    Finding,
    MemberIdentity,
    ReconciliationRun,
    RosterAction,
    RosterMember,
    RosterSnapshot,
)
from groups.services.reconcile import snapshot_reconcile
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from tests.groups.conftest import capture, compliant_rows
from violations.models import Case
from violations.services import seed_rule_catalog

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://x","y")'


# -- personas ------------------------------------------------------------------


# hr_user, creator and group_admin: tests/groups/conftest.py


@pytest.fixture
def other_group(db):
    """Someone else's group, reconciled, with one stranger."""
    group = ChatGroupFactory(code="other", name="别的群", creator=EmployeeFactory(name="钱多多"))
    reconciled(group, "路人甲")
    return group


@pytest.fixture
def secret_group(company):
    """A confidential group (§6.1, like 管理层群) that 赵敏 created, with a roster."""
    group = ChatGroupFactory(
        code="secret", name="机密群", creator=company.hr_head, is_confidential=True
    )
    reconciled(group, "机密路人")
    return group


@pytest.fixture
def secret_admin(secret_group):
    """An admin of the confidential group, with a login (§5.2)."""
    admin = EmployeeFactory(name="管理员甲", user=UserFactory(username="secret-admin"))
    secret_group.admins.add(admin)
    return admin.user


# -- helpers -------------------------------------------------------------------


def reconciled(group, *rows) -> RosterSnapshot:
    snapshot = capture(group, *rows)
    snapshot_reconcile(snapshot=snapshot)
    snapshot.refresh_from_db()
    return snapshot


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["群昵称", "微信号"])
    for row in rows:
        sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload_url(group) -> str:
    return reverse("admin:groups_chatgroup_upload_roster", args=[group.pk])


def todo_url(group) -> str:
    return reverse("admin:groups_chatgroup_todo_export", args=[group.pk])


def change_url(group) -> str:
    return reverse("admin:groups_chatgroup_change", args=[group.pk])


def status_url(run) -> str:
    return reverse("admin:groups_reconciliation_run_status", args=[run.pk])


def changelist_groups(client, model: str) -> set[str]:
    """The group codes of the rows a changelist shows (its result_list, not the page text)."""
    response = client.get(reverse(f"admin:groups_{model}_changelist"))
    assert response.status_code == 200
    return {row.group.code for row in response.context["cl"].result_list}


def post_file(client, group, name: str, data: bytes):
    return client.post(upload_url(group), {"file": SimpleUploadedFile(name, data)})


# -- 1. upload on the group's page -----------------------------------------------------


def test_upload_form_opens_for_hr(client, hr_user, company):
    client.force_login(hr_user)
    response = client.get(upload_url(company.office))
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()
    assert "file" in response.context["form"].fields


def test_upload_form_names_the_optional_provenance_columns(client, hr_user, company):
    client.force_login(hr_user)
    page = client.get(upload_url(company.office)).content.decode()
    for column in ("群昵称", "微信号", "备注", "邀请人", "入群时间", "入群方式"):
        assert column in page
    for value in ("邀请", "链接", "二维码", "扫码"):  # 入群方式 as groups.services.roster reads it
        assert value in page.split("入群方式", 1)[1]


XLSX_ROWS = [
    ("人力资源部-赵敏", None),
    ("一车间-张伟", None),
    ("销售部-张伟", None),
    ("销售部-李娜", "lina88"),
    ("人力资源部-王芳", None),
    ("快递小哥", None),
    ("销售部-陈静", "chenjing"),
]
GBK_CSV = (
    "群昵称,微信号\n人力资源部-赵敏,\n一车间-张伟,\n销售部-张伟,\n销售部-李娜,lina88\n"
    "人力资源部-王芳,\n快递小哥,\n销售部-陈静,chenjing\n"
).encode("gb18030")
EXPECTED_MEMBERS = [(name, wechat_id or "") for name, wechat_id in XLSX_ROWS]


@pytest.mark.parametrize(
    ("filename", "data"),
    [("名单.xlsx", xlsx_bytes(XLSX_ROWS)), ("名单.csv", GBK_CSV)],
    ids=["xlsx", "gbk-csv"],
)
def test_upload_stores_the_snapshot_and_runs_reconciliation(
    client, hr_user, company, django_capture_on_commit_callbacks, filename, data
):
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, company.office, filename, data)

    snapshot = RosterSnapshot.objects.get()
    assert snapshot.group == company.office
    assert snapshot.uploaded_by == hr_user
    assert snapshot.file_name == filename
    members = list(snapshot.members.order_by("row_number").values_list("display_name", "wechat_id"))
    assert members == EXPECTED_MEMBERS
    run = ReconciliationRun.objects.get()
    assert run.snapshot == snapshot
    assert run.started_by == hr_user
    assert run.status == ReconciliationRun.Status.DONE
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:groups_reconciliation_run", args=[run.pk])
    # The run found what the roster shows: a stranger and a departed member.
    assert set(
        Finding.objects.filter(group=company.office, status=Finding.Status.OPEN).values_list(
            "kind", flat=True
        )
    ) == {Finding.Kind.STRANGER, Finding.Kind.DEPARTED}


def test_run_page_shows_progress_and_status_json_the_summary(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, company.office, "名单.xlsx", xlsx_bytes(XLSX_ROWS))
    run = ReconciliationRun.objects.get()

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert '<progress id="run-progress" max="100" value="100"' in html
    assert status_url(run) in html

    status = client.get(status_url(run))
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "done"
    assert body["progress"] == 100
    assert body["finished"] is True
    assert body["error"] == ""
    assert body["summary"] == {
        "opened": 2,
        "kept": 0,
        "resolved": 0,
        "counts": {Finding.Kind.STRANGER: 1, Finding.Kind.DEPARTED: 1},
        "note": "",
    }


def _garbage() -> bytes:
    # Random-looking bytes, the same on every run.
    return b"".join(hashlib.sha256(bytes([i])).digest() for i in range(128))


def _csv(lines: int) -> bytes:
    return ("群昵称,微信号\n" + "".join(f"成员{i},\n" for i in range(lines))).encode()


BAD_FILES = {
    "random-bytes": ("名单.xlsx", _garbage(), {}, ERROR_NOT_A_SPREADSHEET),
    "no-display-name-column": (
        "名单.csv",
        "微信号,备注\nlina88,同事\n".encode(),
        {},
        ERROR_MISSING_COLUMNS.format(columns="群昵称"),
    ),
    "oversized": ("名单.csv", _csv(300), {"MAX_UPLOAD_BYTES": 1024}, "文件太大"),
    "too-many-rows": (
        "名单.csv",
        _csv(5),
        {"MAX_ROSTER_ROWS": 3},
        ERROR_TOO_MANY_ROWS.format(limit=3),
    ),
}


@pytest.mark.parametrize(
    ("filename", "data", "overrides", "message"), BAD_FILES.values(), ids=BAD_FILES
)
def test_bad_file_is_refused_with_its_message_and_nothing_stored(
    client,
    settings,
    hr_user,
    company,
    django_capture_on_commit_callbacks,
    filename,
    data,
    overrides,
    message,
):
    for name, value in overrides.items():
        setattr(settings, name, value)
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_file(client, company.office, filename, data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["file"])
    assert escape(message) in response.content.decode()
    assert not RosterSnapshot.objects.exists()
    assert not RosterMember.objects.exists()
    assert not ReconciliationRun.objects.exists()
    assert callbacks == []


def test_the_oversized_case_is_really_just_over_the_limit(settings):
    # Guards the parametrised case above: the same file is accepted under the default limit.
    assert len(_csv(300)) > 1024
    assert len(_csv(300)) < settings.MAX_UPLOAD_BYTES


# -- 2. the group's page ---------------------------------------------------------


def test_group_page_shows_latest_snapshot_and_findings_by_kind(client, hr_user, company):
    capture(company.office, *compliant_rows())  # an older snapshot, not the one shown
    snapshot = reconciled(
        company.office, *compliant_rows(), "快递小哥", ("销售部-陈静", "chenjing")
    )
    client.force_login(hr_user)
    response = client.get(change_url(company.office))
    assert response.status_code == 200
    assert response.context["latest_snapshot"] == snapshot
    html = response.content.decode()
    assert reverse("admin:groups_rostersnapshot_change", args=[snapshot.pk]) in html
    assert "7 人" in html
    assert "有问题的成员 2 人" in html
    # Grouped by kind, worst first (§5.3.c departed is critical, a stranger high).
    assert "离职人员仍在群（1）" in html
    assert "无关人员（1）" in html
    assert html.index("离职人员仍在群（1）") < html.index("无关人员（1）")
    assert "导出群主待办" in html
    assert todo_url(company.office) in html
    assert reverse("admin:groups_chatgroup_reconcile", args=[company.office.pk]) in html


def test_group_page_without_findings_shows_no_kind_sections(client, hr_user, company):
    reconciled(company.office, *compliant_rows())
    client.force_login(hr_user)
    response = client.get(change_url(company.office))
    assert response.context["findings_by_kind"] == []
    html = response.content.decode()
    assert "没有待处理的问题" in html
    assert "无关人员" not in html


def test_reconcile_button_starts_a_new_run_of_the_latest_snapshot(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    latest = capture(company.office, *compliant_rows(), "快递小哥", "路人乙")
    client.force_login(hr_user)
    url = reverse("admin:groups_chatgroup_reconcile", args=[company.office.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    run = ReconciliationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:groups_reconciliation_run", args=[run.pk])
    assert run.snapshot == latest
    assert run.status == ReconciliationRun.Status.DONE
    assert run.summary["counts"] == {Finding.Kind.STRANGER: 2, Finding.Kind.JOINED: 1}
    assert (run.summary["opened"], run.summary["kept"]) == (2, 1)  # 路人乙 and his joining


def test_reconcile_refuses_a_get(client, hr_user, company):
    capture(company.office, *compliant_rows())
    client.force_login(hr_user)
    url = reverse("admin:groups_chatgroup_reconcile", args=[company.office.pk])
    assert client.get(url).status_code == 403
    assert not ReconciliationRun.objects.exists()


# -- 3. the creator's to-do export ------------------------------------------------


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    name = f"群成员待办-{ChatGroup.objects.get(code='office').name}-"
    assert response["Content-Disposition"].startswith(f"attachment; filename*=utf-8''{quote(name)}")
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def test_todo_export_has_one_row_per_open_action(client, hr_user, company):
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    reconciled(company.office, *rows, FORMULA, "快递小哥")
    # 快递小哥 is gone from the next snapshot: that action is done and leaves the list.
    reconciled(company.office, *rows, FORMULA)
    assert RosterAction.objects.filter(status=RosterAction.Status.DONE).count() == 1
    client.force_login(hr_user)

    sheet = _sheet(client.get(todo_url(company.office)))
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == TODO_HEADERS
    body = lines[1:]
    assert (
        len(body)
        == RosterAction.objects.filter(
            group=company.office, status=RosterAction.Status.OPEN
        ).count()
    )
    column = {header: i for i, header in enumerate(TODO_HEADERS)}
    got = {
        (r[column["待办"]], r[column["问题"]], r[column["群昵称"]], r[column["姓名"]]) for r in body
    }
    assert got == {
        ("移出群", "无关人员", "'" + FORMULA, None),
        ("拉入群", "应入群未入群", None, "王芳"),
    }
    assert {r[column["负责人"]] for r in body} == {"赵敏"}  # §5.1 the creator
    assert {r[column["由谁处理"]] for r in body} == {"群主"}


def test_todo_export_says_who_handles_each_to_do(client, hr_user, company):
    """The creator's list shows the group's other to-dos too, marked as not theirs: a rename
    is the member's (§5.3.b), who someone is HR's question."""
    rows = [r for r in compliant_rows() if "张伟" not in r and r != "销售部-李娜"]
    reconciled(company.office, *rows, "张伟", "销售部-张伟", ("娜娜🌸", "lina88"))
    client.force_login(hr_user)
    lines = list(_sheet(client.get(todo_url(company.office))).iter_rows(values_only=True))
    column = {header: i for i, header in enumerate(TODO_HEADERS)}
    got = {(r[column["问题"]], r[column["由谁处理"]], r[column["负责人"]]) for r in lines[1:]}
    assert got == {
        ("未使用真实姓名", "成员本人", "李娜"),
        ("同名待确认", "人力资源部", None),
        ("应入群未入群", "群主", "赵敏"),
    }


def test_todo_export_never_writes_a_formula(client, hr_user, company):
    reconciled(company.office, *compliant_rows(), FORMULA)
    client.force_login(hr_user)
    sheet = _sheet(client.get(todo_url(company.office)))
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells
    assert all(cell.data_type != "f" for cell in cells)
    name_cell = sheet.cell(row=2, column=TODO_HEADERS.index("群昵称") + 1)
    # What the code does: a leading quote (OWASP) and a text cell, so Excel shows it as text.
    assert name_cell.value == "'" + FORMULA
    assert name_cell.data_type == "s"


# -- 4. who sees what ------------------------------------------------------------------

ROSTER_CHANGELISTS = ["finding", "rostersnapshot", "rosteraction"]


@pytest.mark.parametrize("model", ROSTER_CHANGELISTS)
def test_hr_sees_every_groups_rows(client, hr_user, company, other_group, model):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    client.force_login(hr_user)
    assert changelist_groups(client, model) == {"office", "other"}


@pytest.mark.parametrize("model", ROSTER_CHANGELISTS)
def test_creator_sees_only_their_own_groups_rows(client, creator, company, other_group, model):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    client.force_login(creator)
    assert changelist_groups(client, model) == {"office"}


@pytest.mark.parametrize("model", [*ROSTER_CHANGELISTS, "reconciliationrun"])
def test_outsider_is_refused_the_roster_changelists(client, outsider, company, other_group, model):
    client.force_login(outsider)
    assert client.get(reverse(f"admin:groups_{model}_changelist")).status_code == 403


def _own_and_other_urls(group, run) -> dict[str, str]:
    return {"upload": upload_url(group), "todo": todo_url(group), "status": status_url(run)}


def _run_of(group) -> ReconciliationRun:
    """A run someone else (the nightly schedule) started."""
    snapshot = group.snapshots.latest()
    run = ReconciliationRun.objects.create(group=group, snapshot=snapshot)
    snapshot_reconcile(snapshot=snapshot, run=run)
    return run


@pytest.mark.parametrize("view", ["upload", "todo", "status"])
def test_creator_is_refused_another_groups_pages(client, creator, company, other_group, view):
    client.force_login(creator)
    url = _own_and_other_urls(other_group, _run_of(other_group))[view]
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("view", ["upload", "todo", "status"])
def test_creator_may_use_their_own_groups_pages(client, creator, company, view):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    client.force_login(creator)
    url = _own_and_other_urls(company.office, _run_of(company.office))[view]
    assert client.get(url).status_code == 200


def test_outsider_is_refused_a_groups_pages(client, outsider, company):
    reconciled(company.office, *compliant_rows())
    client.force_login(outsider)
    for url in _own_and_other_urls(company.office, _run_of(company.office)).values():
        assert client.get(url).status_code == 403, url


def test_creator_does_not_see_a_confidential_groups_roster(client, creator, company, secret_group):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    client.force_login(creator)
    assert changelist_groups(client, "rostersnapshot") == {"office"}
    assert changelist_groups(client, "finding") == {"office"}
    assert client.get(todo_url(secret_group)).status_code == 403
    page = client.get(change_url(secret_group))
    assert page.status_code == 200  # the group itself, yes (§5.1 they still run it)
    html = page.content.decode()
    assert 'id="roster-status"' not in html
    assert "机密路人" not in html
    assert "findings_by_kind" not in page.context
    # The same page of their ordinary group does show the roster.
    assert 'id="roster-status"' in client.get(change_url(company.office)).content.decode()


def test_confidential_groups_admin_sees_its_roster(client, secret_admin, secret_group):
    client.force_login(secret_admin)
    assert changelist_groups(client, "rostersnapshot") == {"secret"}
    assert changelist_groups(client, "finding") == {"secret"}
    assert client.get(todo_url(secret_group)).status_code == 200
    html = client.get(change_url(secret_group)).content.decode()
    assert 'id="roster-status"' in html
    assert "机密路人" in html


# -- 5. changelist figures and query counts ------------------------------------------


def test_group_changelist_shows_member_count_and_compliance_rate(client, hr_user, company):
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    reconciled(company.office, *rows, "快递小哥")  # 5 members, 1 with a finding
    never = ChatGroupFactory(code="never", name="未核对群")
    capture(never, "某人")  # a snapshot, not yet reconciled
    client.force_login(hr_user)
    response = client.get(reverse("admin:groups_chatgroup_changelist"))
    assert response.status_code == 200
    rows_by_code = {g.code: g for g in response.context["cl"].result_list}
    assert rows_by_code["office"].latest_member_count == 5
    html = response.content.decode()
    assert '<td class="field-member_count">5</td>' in html
    assert '<td class="field-compliance">80%</td>' in html
    assert '<td class="field-compliance">—</td>' in html  # the unreconciled group


def _reconciled_group(creator) -> None:
    group = ChatGroupFactory(creator=creator)  # no rules: nobody is missing
    group.admins.add(EmployeeFactory())
    reconciled(group, "路人甲", "路人乙")


def _changelist_queries(client, model: str) -> int:
    url = reverse(f"admin:groups_{model}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) > 0
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["hr", "creator"])
@pytest.mark.parametrize("model", ["chatgroup", *ROSTER_CHANGELISTS])
def test_changelist_query_count_does_not_grow_with_rows(client, hr_user, model, persona):
    # HR reads unfiltered querysets; a creator's go through the object-permission filter.
    creator = EmployeeFactory(user=UserFactory(username="creator"))
    client.force_login(hr_user if persona == "hr" else creator.user)
    for _ in range(2):
        _reconciled_group(creator)
    few = _changelist_queries(client, model)
    for _ in range(10):
        _reconciled_group(creator)
    many = _changelist_queries(client, model)
    assert many == few, f"{model}: {few} queries for 2 groups, {many} for 12"


# -- 6. HR's decisions: identities and §9.5 -------------------------------------------


def test_hr_identity_for_an_ambiguous_name_resolves_the_finding(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    rows = [r for r in compliant_rows() if r != "一车间-张伟"] + ["张伟"]
    snapshot = reconciled(company.office, *rows)
    ambiguous = Finding.objects.get(kind=Finding.Kind.AMBIGUOUS, status=Finding.Status.OPEN)
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:groups_memberidentity_add"),
            {
                "group": company.office.pk,
                "display_name": "张伟",
                "employee": company.zhang_wei_production.pk,
                "note": "一车间的张伟",
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    identity = MemberIdentity.objects.get()
    assert (identity.employee, identity.decided_by) == (company.zhang_wei_production, hr_user)
    run = ReconciliationRun.objects.get()
    assert (run.snapshot, run.status) == (snapshot, ReconciliationRun.Status.DONE)
    ambiguous.refresh_from_db()
    assert ambiguous.status == Finding.Status.RESOLVED
    assert ambiguous.resolved_by == snapshot
    member = snapshot.members.get(display_name="张伟")
    assert (member.employee, member.match) == (
        company.zhang_wei_production,
        RosterMember.Match.IDENTITY,
    )


def test_creator_may_not_add_an_identity(client, creator, company):
    client.force_login(creator)
    response = client.post(
        reverse("admin:groups_memberidentity_add"),
        {"group": company.office.pk, "display_name": "张伟", "employee": company.li_na.pk},
    )
    assert response.status_code == 403
    assert not MemberIdentity.objects.exists()


@pytest.fixture
def left_group(company) -> Finding:
    """§9.5: 王芳, eligible, left the office group between two snapshots."""
    seed_rule_catalog()
    reconciled(company.office, *compliant_rows())
    reconciled(company.office, *[r for r in compliant_rows() if r != "人力资源部-王芳"])
    finding = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    assert (finding.employee, finding.decision) == (company.wang_fang, Finding.Decision.PENDING)
    return finding


def _decide(client, action: str, finding: Finding):
    return client.post(
        reverse("admin:groups_finding_changelist"),
        {"action": action, "_selected_action": [finding.pk], "index": 0},
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_deciding_from_the_open_list_counts_before_the_change(client, hr_user, left_group):
    # The list HR decides from is filtered to open findings; counted after the decision,
    # the one just decided had left it and the page said "-1 条不是待决定的退群记录".
    client.force_login(hr_user)
    url = reverse("admin:groups_finding_changelist") + "?status__exact=open"
    response = client.post(
        url,
        {"action": "decide_no_case", "_selected_action": [left_group.pk], "index": 0},
        follow=True,
    )
    assert _messages(response) == ["已处理 1 条退群记录。"]


def test_deciding_a_mixed_selection_names_what_was_skipped(client, hr_user, left_group):
    missing = Finding.objects.get(kind=Finding.Kind.MISSING, status=Finding.Status.OPEN)
    client.force_login(hr_user)
    url = reverse("admin:groups_finding_changelist") + "?status__exact=open"
    response = client.post(
        url,
        {
            "action": "decide_propose_case",
            "_selected_action": [left_group.pk, missing.pk],
            "index": 0,
        },
        follow=True,
    )
    assert _messages(response) == ["已处理 1 条退群记录。", "1 条不是待决定的退群记录，未处理。"]


def test_proposing_a_left_group_case_makes_one_proposed_9_5_case(client, hr_user, left_group):
    client.force_login(hr_user)
    response = _decide(client, "decide_propose_case", left_group)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.rule.code == "9.5"
    assert case.state == Case.State.PROPOSED
    assert case.employee == left_group.employee
    assert case.group == left_group.group
    left_group.refresh_from_db()
    assert left_group.decision == Finding.Decision.PROPOSE_CASE
    assert left_group.status == Finding.Status.RESOLVED


def test_proposing_twice_makes_no_second_case(client, hr_user, left_group):
    client.force_login(hr_user)
    _decide(client, "decide_propose_case", left_group)
    response = _decide(client, "decide_propose_case", left_group)
    assert response.status_code == 302
    assert Case.objects.count() == 1


def test_deciding_no_case_closes_the_finding_without_a_case(client, hr_user, left_group):
    client.force_login(hr_user)
    assert _decide(client, "decide_no_case", left_group).status_code == 302
    left_group.refresh_from_db()
    assert left_group.decision == Finding.Decision.NO_CASE
    assert left_group.status == Finding.Status.RESOLVED
    assert not Case.objects.exists()


def test_decide_actions_skip_findings_that_are_not_left_group(client, hr_user, left_group):
    missing = Finding.objects.get(kind=Finding.Kind.MISSING, status=Finding.Status.OPEN)
    client.force_login(hr_user)
    _decide(client, "decide_propose_case", missing)
    missing.refresh_from_db()
    assert missing.status == Finding.Status.OPEN
    assert missing.decision == ""
    assert not Case.objects.exists()


def test_user_without_change_finding_does_not_get_the_decide_actions(
    client, hr_user, creator, left_group
):
    client.force_login(hr_user)
    hr_choices = {
        name
        for name, _ in client.get(reverse("admin:groups_finding_changelist"))
        .context["action_form"]
        .fields["action"]
        .choices
    }
    assert {"decide_no_case", "decide_propose_case"} <= hr_choices

    client.force_login(creator)
    response = client.get(reverse("admin:groups_finding_changelist"))
    assert response.status_code == 200
    assert left_group in response.context["cl"].result_list  # they see it ...
    form = response.context["action_form"]
    choices = {name for name, _ in form.fields["action"].choices} if form else set()
    assert "decide_propose_case" not in choices  # ... but may not decide it
    assert "decide_no_case" not in choices
    _decide(client, "decide_propose_case", left_group)
    left_group.refresh_from_db()
    assert left_group.status == Finding.Status.OPEN
    assert not Case.objects.exists()


def test_back_to_back_uploads_still_see_who_left(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    client.force_login(hr_user)
    everyone = ("群昵称\n" + "\n".join(compliant_rows())).encode()
    without_wang_fang = ("群昵称\n" + "\n".join(compliant_rows()[:-1])).encode()
    # Two uploads before the worker picks up the first: its run is skipped (not the latest).
    with django_capture_on_commit_callbacks() as first:
        post_file(client, company.office, "a.csv", everyone)
    with django_capture_on_commit_callbacks() as second:
        post_file(client, company.office, "b.csv", without_wang_fang)
    for callback in [*first, *second]:
        callback()
    runs = list(ReconciliationRun.objects.order_by("pk").values_list("status", flat=True))
    assert runs == [ReconciliationRun.Status.SKIPPED, ReconciliationRun.Status.DONE]
    # §9.5: 王芳 left between the two snapshots; nobody joined.
    assert Finding.objects.filter(kind=Finding.Kind.LEFT_GROUP, employee=company.wang_fang).exists()
    assert not Finding.objects.filter(kind=Finding.Kind.JOINED).exists()


def test_a_left_group_decision_records_who_made_it(client, hr_user, company):
    from groups.models import Finding

    reconciled(company.office, *compliant_rows())
    reconciled(company.office, *[r for r in compliant_rows() if r != "人力资源部-王芳"])
    finding = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    client.force_login(hr_user)
    client.post(
        reverse("admin:groups_finding_changelist"),
        {"action": "decide_no_case", "_selected_action": [finding.pk]},
    )
    finding.refresh_from_db()
    assert (finding.decision, finding.decided_by) == (Finding.Decision.NO_CASE, hr_user)


def test_forgetting_an_identity_reconciles_the_group_again(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    from groups.models import Finding, MemberIdentity

    rows = [r for r in compliant_rows() if r != "一车间-张伟"] + ["张伟"]
    reconciled(company.office, *rows)
    identity = MemberIdentity.objects.create(
        group=company.office, display_name="张伟", employee=company.zhang_wei_production
    )
    reconciled(company.office, *rows)
    assert not Finding.objects.filter(kind=Finding.Kind.AMBIGUOUS, status="open").exists()
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:groups_memberidentity_delete", args=[identity.pk]), {"post": "yes"}
        )
    assert not MemberIdentity.objects.exists()
    assert Finding.objects.filter(kind=Finding.Kind.AMBIGUOUS, status="open").exists()
    page = client.get(reverse("admin:groups_memberidentity_add"))
    assert page.status_code == 200


# -- 确认身份 opened from the group's page goes back there ----------------------------------


def _identity_add_url(group, name: str) -> str:
    return reverse("admin:groups_memberidentity_add") + f"?group={group.pk}&display_name={name}"


def test_identity_confirmed_from_the_group_page_goes_back_to_it(
    client, hr_user, company, django_capture_on_commit_callbacks
):
    from groups.admin.roster import MESSAGE_IDENTITY_REMEMBERED

    rows = [r for r in compliant_rows() if r != "一车间-张伟"] + ["张伟"]
    reconciled(company.office, *rows)
    client.force_login(hr_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _identity_add_url(company.office, "张伟"),
            {
                "group": company.office.pk,
                "display_name": "张伟",
                "employee": company.zhang_wei_production.pk,
                "_save": "保存",
            },
        )
    assert (response.status_code, response.url) == (302, change_url(company.office))
    group_page = client.get(response.url)
    assert _messages(group_page) == [MESSAGE_IDENTITY_REMEMBERED]
    assert "同名待确认（1）" not in group_page.content.decode()  # settled, gone from the page


def test_identity_added_from_its_own_list_keeps_the_admins_next_page(client, hr_user, company):
    client.force_login(hr_user)
    response = client.post(
        reverse("admin:groups_memberidentity_add"),
        {"group": company.office.pk, "display_name": "娜娜", "employee": company.li_na.pk},
    )
    assert response.status_code == 302
    assert response.url == reverse("admin:groups_memberidentity_changelist")


def test_identity_form_for_a_namesake_lists_the_candidates(client, hr_user, company):
    rows = [r for r in compliant_rows() if r != "一车间-张伟"] + ["张伟"]
    reconciled(company.office, *rows)
    client.force_login(hr_user)
    html = client.get(_identity_add_url(company.office, "张伟")).content.decode()
    assert "同名员工（可能是：" in html
    assert "JM002" in html
    assert "JM003" in html
    # Opened from anywhere else: no such help.
    plain = client.get(reverse("admin:groups_memberidentity_add")).content.decode()
    assert "同名员工（" not in plain


# -- rows only services write: never deleted in the admin ----------------------------------


RECORD_MODELS = ["rostersnapshot", "finding", "rosteraction", "reconciliationrun"]


@pytest.mark.parametrize("model", RECORD_MODELS)
@pytest.mark.parametrize("persona", ["hr_user", "superuser"])
def test_roster_records_offer_no_delete(client, request, company, model, persona):
    reconciled(company.office, *compliant_rows(), "快递小哥")
    ReconciliationRun.objects.create(
        group=company.office, snapshot=RosterSnapshot.objects.get(), started_by=None
    )
    row = {
        "rostersnapshot": RosterSnapshot,
        "finding": Finding,
        "rosteraction": RosterAction,
        "reconciliationrun": ReconciliationRun,
    }[model].objects.first()
    client.force_login(request.getfixturevalue(persona))
    changelist = client.get(reverse(f"admin:groups_{model}_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    delete_url = reverse(f"admin:groups_{model}_delete", args=[row.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_run_list_numbers_its_runs_in_chinese(client, hr_user, company):
    reconciled(company.office, *compliant_rows())
    run = ReconciliationRun.objects.create(
        group=company.office, snapshot=RosterSnapshot.objects.get()
    )
    client.force_login(hr_user)
    html = client.get(reverse("admin:groups_reconciliationrun_changelist")).content.decode()
    assert "编号" in html
    assert f"#{run.pk}" in html
    assert ">PK<" not in html
    assert "column-pk" not in html


def test_todo_export_escapes_a_formula_behind_a_zero_width_joiner(client, hr_user, company):
    # docs/security.md, 8: escaping decides on the normalised text (U+200D survives the roster's
    # normalising, since emoji use it).
    reconciled(company.office, *compliant_rows(), "\u200d" + FORMULA)
    client.force_login(hr_user)

    sheet = _sheet(client.get(todo_url(company.office)))

    name_cell = sheet.cell(row=2, column=TODO_HEADERS.index("群昵称") + 1)
    assert name_cell.value == "'\u200d" + FORMULA
