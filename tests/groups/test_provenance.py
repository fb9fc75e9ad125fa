"""Roster provenance (§5.3.a: do not invite unrelated people): the optional 邀请人, 入群时间,
入群方式 columns, the inviter matched to an employee and named on STRANGER/INELIGIBLE findings,
and HR's one-step §5.3.a proposal against the inviter."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from groups.models import EligibilityRule, Finding, JoinMethod, RosterMember, RosterSnapshot
from groups.provenance import provenance_text, roster_rows_of
from groups.services.reconcile import snapshot_reconcile
from groups.services.roster import (
    ERROR_BAD_JOIN_METHOD,
    ERROR_BAD_JOINED_AT,
    RosterImportError,
    RosterRow,
    parse_roster,
    roster_snapshot_create,
    roster_snapshot_import,
)
from members.services import department_get_or_create_by_path
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory, UserFactory
from tests.groups.conftest import SYSTEM, compliant_rows
from violations.models import Case
from violations.services.cases import CaseError
from violations.services.roster_cases import (
    ERROR_INVITER_CASE_EXISTS,
    ERROR_INVITER_CASE_FORBIDDEN,
    ERROR_INVITER_CASE_KIND,
    ERROR_INVITER_UNKNOWN,
    finding_propose_inviter_case,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ["群昵称", "微信号", "邀请人", "入群时间", "入群方式"]


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)


# -- parsing ------------------------------------------------------------------------------


def test_xlsx_provenance_read_from_datetime_cells_and_text():
    data = xlsx(
        [
            HEADER,
            ["快递小哥", None, "李娜", dt.datetime(2024, 3, 1, 8, 0), "二维码"],  # noqa: DTZ001
            ["路人乙", None, "lina88", "2024/3/1 8:00", "扫码"],
            ["路人丙", None, None, dt.date(2024, 3, 2), "邀请"],
            ["路人丁", None, "赵敏", "2024年3月3日", "链接"],
            ["路人戊", None, None, None, None],
        ]
    )
    rows = parse_roster(data, filename="群成员.xlsx")
    assert [(r.display_name, r.inviter, r.joined_at, r.join_method) for r in rows] == [
        ("快递小哥", "李娜", _at(2024, 3, 1, 8, 0), JoinMethod.QR_CODE),
        ("路人乙", "lina88", _at(2024, 3, 1, 8, 0), JoinMethod.QR_CODE),
        ("路人丙", "", _at(2024, 3, 2), JoinMethod.INVITE),
        ("路人丁", "赵敏", _at(2024, 3, 3), JoinMethod.LINK),
        ("路人戊", "", None, ""),
    ]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_csv_provenance_in_gbk_and_utf8_with_bom(encoding):
    text = (
        "群昵称,邀请人,入群时间,入群方式\n"
        "快递小哥,李娜,2024-03-01 08:00,扫描二维码\n"
        "路人乙,赵敏,2024-03-01,邀请\n"
    )
    rows = parse_roster(text.encode(encoding), filename="members.csv")
    assert [(r.inviter, r.joined_at, r.join_method) for r in rows] == [
        ("李娜", _at(2024, 3, 1, 8, 0), JoinMethod.QR_CODE),
        ("赵敏", _at(2024, 3, 1), JoinMethod.INVITE),
    ]


def test_english_provenance_headers_and_methods():
    text = (
        "nickname,inviter,joined at,join method\nbob,lina88,2024-03-01 08:00,QR code\nann,,,link\n"
    )
    rows = parse_roster(text.encode())
    assert [(r.inviter, r.join_method) for r in rows] == [
        ("lina88", JoinMethod.QR_CODE),
        ("", JoinMethod.LINK),
    ]


@pytest.mark.parametrize(
    ("column", "value", "error"),
    [
        ("入群时间", "上周", ERROR_BAD_JOINED_AT),
        ("入群时间", "2024-02-30", ERROR_BAD_JOINED_AT),
        ("入群方式", "飞鸽传书", ERROR_BAD_JOIN_METHOD),
    ],
)
def test_bad_time_or_method_names_row_and_column_and_stores_nothing(company, column, value, error):
    row = {"群昵称": "路人乙", "邀请人": "李娜", "入群时间": "2024-03-01", "入群方式": "邀请"}
    row[column] = value
    text = "群昵称,邀请人,入群时间,入群方式\n快递小哥,李娜,2024-03-01,邀请\n" + ",".join(
        row.values()
    )
    with pytest.raises(RosterImportError) as refused:
        roster_snapshot_import(
            group=company.office, data=text.encode("gbk"), filename="a.csv", actor=SYSTEM
        )
    assert refused.value.errors == [error.format(row=3, value=value)]
    assert refused.value.errors[0].startswith(f"第3行「{column}」")
    assert not RosterSnapshot.objects.exists()


def test_a_joining_time_in_the_future_is_refused():
    with pytest.raises(RosterImportError, match="第2行「入群时间」"):
        parse_roster("群昵称,入群时间\n路人,2999-01-01\n".encode())


def test_provenance_stored_on_the_snapshot_members(company):
    data = xlsx([HEADER, ["快递小哥", None, "李娜", "2024-03-01 08:00", "二维码"]])
    snapshot = roster_snapshot_import(
        group=company.office, data=data, filename="a.xlsx", actor=SYSTEM
    )
    member = snapshot.members.get()
    assert (member.inviter, member.joined_at, member.join_method) == (
        "李娜",
        _at(2024, 3, 1, 8, 0),
        JoinMethod.QR_CODE,
    )


def test_without_the_columns_everything_is_as_before(company):
    text = "群昵称,微信号\n快递小哥,\n"
    snapshot = roster_snapshot_import(
        group=company.office, data=text.encode("gbk"), filename="a.csv", actor=SYSTEM
    )
    snapshot_reconcile(snapshot=snapshot)
    member = snapshot.members.get()
    assert (member.inviter, member.joined_at, member.join_method) == ("", None, "")
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert finding.detail == "无法对应到任何员工（§5.3.c）"
    assert (finding.inviter_text, finding.inviter) == ("", None)


# -- the inviter matched and named on findings ----------------------------------------------

_clock = {"t": dt.datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI)}


def capture(group, *rows: dict) -> RosterSnapshot:
    """A snapshot of rows given as RosterRow fields (display_name and any others)."""
    _clock["t"] += dt.timedelta(hours=1)
    parsed = [RosterRow(row_number=i + 2, **row) for i, row in enumerate(rows)]
    return roster_snapshot_create(group=group, rows=parsed, taken_at=_clock["t"], actor=SYSTEM)


def reconcile(group, *rows: dict) -> RosterSnapshot:
    snapshot = capture(group, *rows)
    snapshot_reconcile(snapshot=snapshot)
    return snapshot


def office_with(*extra: dict) -> list[dict]:
    return [{"display_name": name} for name in compliant_rows()] + list(extra)


def stranger(inviter: str, **more) -> dict:
    return {"display_name": "快递小哥", "inviter": inviter, **more}


def words(finding: Finding) -> str:
    """The finding's provenance as a page shows it (never part of its ``detail``)."""
    return provenance_text(finding, roster_rows_of([finding]).get(finding.pk))


def test_inviter_matched_by_wechat_id(company):
    reconcile(company.office, *office_with(stranger("lina88")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert finding.inviter == company.li_na
    assert finding.inviter_text == "lina88"


def test_inviter_matched_as_a_member_of_the_snapshot_by_display_name(company):
    # "销售部-李娜" is a member of the same snapshot, matched to 李娜.
    reconcile(company.office, *office_with(stranger("销售部-李娜")))
    assert Finding.objects.get(kind=Finding.Kind.STRANGER).inviter == company.li_na


def test_inviter_matched_by_the_real_name_in_it(company):
    reconcile(company.office, *office_with(stranger("王芳")))
    assert Finding.objects.get(kind=Finding.Kind.STRANGER).inviter == company.wang_fang


def test_inviter_between_namesakes_is_never_a_guess_but_the_text_is_kept(company):
    reconcile(company.office, *office_with(stranger("张伟")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert finding.inviter is None
    assert finding.inviter_text == "张伟"
    assert words(finding) == "由 张伟 邀请"


def test_inviter_nobody_knows_is_kept_as_text(company):
    reconcile(company.office, *office_with(stranger("隔壁老王")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert (finding.inviter, finding.inviter_text) == (None, "隔壁老王")


def test_stranger_finding_names_the_inviter_how_and_when(company):
    joined = _at(2024, 3, 1, 8, 0)
    reconcile(
        company.office,
        *office_with(stranger("lina88", joined_at=joined, join_method=JoinMethod.QR_CODE)),
    )
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert words(finding) == "由 李娜（JM004） 邀请（二维码，2024年3月1日）"
    # Who invited whom stays out of the text everyone who sees the finding reads (§6.1).
    assert finding.detail == "无法对应到任何员工（§5.3.c）"


def test_ineligible_finding_names_the_inviter(company):
    reconcile(
        company.office,
        *office_with({"display_name": "刘洋", "inviter": "王芳", "join_method": JoinMethod.INVITE}),
    )
    finding = Finding.objects.get(kind=Finding.Kind.INELIGIBLE)
    assert finding.employee == company.production_worker
    assert finding.inviter == company.wang_fang
    assert words(finding) == "由 王芳（JM005） 邀请（邀请）"
    assert "王芳" not in finding.detail


def test_other_findings_name_no_inviter(company):
    # A departed member is removed whoever invited them: §5.3.a is about strangers and the
    # ineligible.
    reconcile(company.office, *office_with({"display_name": "陈静", "inviter": "王芳"}))
    finding = Finding.objects.get(kind=Finding.Kind.DEPARTED)
    assert (finding.inviter_text, finding.inviter) == ("", None)


def test_a_later_snapshot_updates_the_inviter_on_the_open_finding(company):
    reconcile(company.office, *office_with(stranger("隔壁老王")))
    first = Finding.objects.get(kind=Finding.Kind.STRANGER)
    reconcile(company.office, *office_with(stranger("王芳")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert finding.pk == first.pk
    assert (finding.inviter, finding.inviter_text) == (company.wang_fang, "王芳")
    assert words(finding) == "由 王芳（JM005） 邀请"


def test_a_later_snapshot_that_can_match_the_inviter_updates_the_finding(company):
    # The same words in the file; meanwhile the inviter joined the company (the HR import).
    reconcile(company.office, *office_with(stranger("孙新")))
    assert Finding.objects.get(kind=Finding.Kind.STRANGER).inviter is None
    newcomer = EmployeeFactory(name="孙新", employee_no="JM099")
    reconcile(company.office, *office_with(stranger("孙新")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert (finding.inviter, finding.inviter_text) == (newcomer, "孙新")
    assert words(finding) == "由 孙新（JM099） 邀请"


def test_a_later_snapshot_without_the_inviter_clears_it(company):
    reconcile(company.office, *office_with(stranger("王芳")))
    reconcile(company.office, *office_with({"display_name": "快递小哥"}))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert (finding.inviter, finding.inviter_text) == (None, "")
    assert words(finding) == ""


def test_how_and_when_are_those_of_the_latest_snapshot(company):
    reconcile(company.office, *office_with(stranger("王芳", join_method=JoinMethod.LINK)))
    reconcile(
        company.office,
        *office_with(
            stranger("王芳", joined_at=_at(2024, 5, 6, 9, 0), join_method=JoinMethod.QR_CODE)
        ),
    )
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert words(finding) == "由 王芳（JM005） 邀请（二维码，2024年5月6日）"


def test_the_files_words_for_the_inviter_are_kept_beside_the_match(company):
    reconcile(company.office, *office_with(stranger("销售部-李娜")))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert words(finding) == "由 李娜（JM004），名单记为“销售部-李娜” 邀请"


def test_without_an_inviter_how_they_joined_is_still_said(company):
    reconcile(company.office, *office_with({"display_name": "快递小哥", "join_method": "link"}))
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    assert words(finding) == "入群（链接）"


def test_the_group_page_and_the_to_do_list_name_the_inviter_for_the_rosters_viewers(
    client, company, seeded, hr_user
):
    reconcile(
        company.office,
        *office_with(
            stranger("lina88", joined_at=_at(2024, 3, 1, 8, 0), join_method=JoinMethod.QR_CODE)
        ),
    )
    said = "无法对应到任何员工（§5.3.c）；由 李娜（JM004） 邀请（二维码，2024年3月1日）"
    client.force_login(hr_user)
    page = client.get(reverse("admin:groups_chatgroup_change", args=[company.office.pk]))
    assert said in page.content.decode()
    export = client.get(reverse("admin:groups_chatgroup_todo_export", args=[company.office.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    detail = lines[0].index("说明")
    assert said in [line[detail] for line in lines[1:]]


# -- §5.3.a against the inviter, in one step ---------------------------------------------


@pytest.fixture
def invited_stranger(company, seeded):
    reconcile(
        company.office,
        *office_with(
            stranger("lina88", joined_at=_at(2024, 3, 1, 8, 0), join_method=JoinMethod.LINK)
        ),
    )
    return Finding.objects.get(kind=Finding.Kind.STRANGER)


def test_hr_proposes_a_5_3_a_case_against_the_inviter(invited_stranger, hr_user, company):
    case = finding_propose_inviter_case(finding=invited_stranger, actor=hr_user)
    assert case.rule.code == "5.3.a"
    assert case.employee == company.li_na
    assert case.group == company.office
    assert case.state == Case.State.PROPOSED
    assert case.source == Case.Source.RECONCILIATION
    assert case.source_key == f"inviter:{invited_stranger.pk}"
    assert case.occurred_at == _at(2024, 3, 1, 8, 0)
    assert case.reported_by == hr_user
    assert "快递小哥" in case.description
    assert "链接" in case.description


def test_the_inviter_case_is_never_proposed_twice(invited_stranger, hr_user):
    case = finding_propose_inviter_case(finding=invited_stranger, actor=hr_user)
    with pytest.raises(CaseError) as error:
        finding_propose_inviter_case(finding=invited_stranger, actor=hr_user)
    assert str(error.value) == ERROR_INVITER_CASE_EXISTS.format(case=case.pk)
    assert Case.objects.filter(source_key=f"inviter:{invited_stranger.pk}").count() == 1


def test_only_hr_may_propose_the_inviter_case(invited_stranger, company):
    creator = UserFactory(username="someone")
    with pytest.raises(CaseError, match=ERROR_INVITER_CASE_FORBIDDEN):
        finding_propose_inviter_case(finding=invited_stranger, actor=creator)
    assert not Case.objects.exists()


def test_no_inviter_known_is_refused(company, seeded, hr_user):
    reconcile(company.office, *office_with(stranger("张伟")))  # namesakes
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    with pytest.raises(CaseError, match=ERROR_INVITER_UNKNOWN):
        finding_propose_inviter_case(finding=finding, actor=hr_user)
    assert not Case.objects.exists()


def test_only_stranger_or_ineligible_findings(company, seeded, hr_user):
    reconcile(company.office, *office_with({"display_name": "陈静", "inviter": "王芳"}))
    finding = Finding.objects.get(kind=Finding.Kind.DEPARTED)
    finding.inviter = company.wang_fang  # even with an inviter set by hand
    finding.save(update_fields=["inviter"])
    with pytest.raises(CaseError, match=ERROR_INVITER_CASE_KIND):
        finding_propose_inviter_case(finding=finding, actor=hr_user)


def test_the_admin_action_proposes_it_and_the_page_names_the_inviter(
    client, invited_stranger, hr_user, company
):
    client.force_login(hr_user)
    page = client.get(reverse("admin:groups_finding_change", args=[invited_stranger.pk]))
    assert page.status_code == 200
    assert "邀请人" in page.content.decode()
    listing = client.get(reverse("admin:groups_finding_changelist"))
    assert "李娜（JM004）" in listing.content.decode()
    response = client.post(
        reverse("admin:groups_finding_changelist"),
        {"action": "propose_inviter_case", "_selected_action": [invited_stranger.pk]},
        follow=True,
    )
    assert "已向邀请人提出 1 项 §5.3.a 违规" in response.content.decode()
    assert Case.objects.get().employee == company.li_na


def test_the_admin_action_is_not_offered_without_the_right(client, invited_stranger, creator):
    # The group's creator sees the findings (object permissions), not the action.
    client.force_login(creator)
    listing = client.get(reverse("admin:groups_finding_changelist"))
    assert listing.status_code == 200
    assert "向邀请人提出" not in listing.content.decode()
    client.post(
        reverse("admin:groups_finding_changelist"),
        {"action": "propose_inviter_case", "_selected_action": [invited_stranger.pk]},
    )
    assert not Case.objects.exists()


# -- query count -------------------------------------------------------------------------------


def _roster_with_inviters(n: int):
    dept = department_get_or_create_by_path(path=f"生产部/车间{n}")
    group = ChatGroupFactory(creator=EmployeeFactory(department=dept))
    EligibilityRuleFactory(group=group, kind=EligibilityRule.Kind.CATEGORY, category="admin")
    rows = []
    for i in range(n):
        e = EmployeeFactory(
            name=f"邀{n:03d}{i:03d}", department=dept, category="admin", wechat_id=f"yq{n}-{i}"
        )
        rows.append({"display_name": e.name, "wechat_id": e.wechat_id})
        # A few strangers (SQLite splits a large bulk insert: not what is measured here).
        if i % 10 == 0:  # a stranger invited by a member, by WeChat id
            rows.append({"display_name": f"路人{n}-{i}", "inviter": e.wechat_id})
        elif i % 10 == 1:  # by display name
            rows.append({"display_name": f"访客{n}-{i}", "inviter": e.name})
    return group, rows


def test_reconciliation_with_inviters_keeps_a_flat_query_count():
    counts = []
    for n in (50, 150):
        group, rows = _roster_with_inviters(n)
        snapshot = capture(group, *rows)
        # (The family-wide MISSING question is left out: each group's employees would be
        # missing from the other, which is not what is measured here.)
        with CaptureQueriesContext(connection) as ctx:
            snapshot_reconcile(snapshot=snapshot, judge_missing=False)
        # Not PostgreSQL's ANALYZE of a findings table that doubled (analyze_when_outgrown).
        counts.append(sum(not q["sql"].startswith("ANALYZE") for q in ctx.captured_queries))
        assert (
            Finding.objects.filter(group=group, kind=Finding.Kind.STRANGER, inviter=None).count()
            == 0
        )
    assert counts[0] == counts[1], counts
    assert RosterMember.objects.exclude(inviter="").exists()


def test_the_button_on_the_finding_page_proposes_it_once(client, invited_stranger, hr_user):
    client.force_login(hr_user)
    page_url = reverse("admin:groups_finding_change", args=[invited_stranger.pk])
    button_url = reverse("admin:groups_finding_propose_inviter_case", args=[invited_stranger.pk])
    page = client.get(page_url).content.decode()
    assert f'action="{button_url}"' in page
    assert client.get(button_url).status_code == 405  # a POST only
    response = client.post(button_url, follow=True)
    case = Case.objects.get()
    assert f"已向 李娜 提出 §5.3.a 违规（案件 #{case.pk}）" in response.content.decode()
    page = client.get(page_url).content.decode()
    assert f'action="{button_url}"' not in page
    assert f"已向邀请人提出 §5.3.a 违规（案件 #{case.pk}）" in page
    again = client.post(button_url, follow=True)
    assert ERROR_INVITER_CASE_EXISTS.format(case=case.pk) in again.content.decode()
    assert Case.objects.count() == 1


def _tag_around(page: str, text: str, tag: str) -> str:
    """The opening tag of the innermost ``tag`` element that holds ``text``."""
    at = page.index(text)
    return page[page.rindex(f"<{tag} ", 0, at) : at]


def test_the_finding_pages_button_keeps_the_clause_code_lowercase(
    client, invited_stranger, hr_user
):
    """The admin's object tools uppercase their text (§5.3.A): the clause stays §5.3.a."""
    client.force_login(hr_user)
    page_url = reverse("admin:groups_finding_change", args=[invited_stranger.pk])
    page = client.get(page_url).content.decode()
    assert "text-transform:none" in _tag_around(page, "向邀请人提出 §5.3.a 违规", "button")
    button_url = reverse("admin:groups_finding_propose_inviter_case", args=[invited_stranger.pk])
    client.post(button_url)
    page = client.get(page_url).content.decode()
    assert "text-transform:none" in _tag_around(page, "已向邀请人提出 §5.3.a 违规", "a")


def test_no_button_without_a_known_inviter_or_the_right(client, company, seeded, hr_user, creator):
    reconcile(company.office, *office_with(stranger("张伟")))  # namesakes: no inviter
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    button_url = reverse("admin:groups_finding_propose_inviter_case", args=[finding.pk])
    client.force_login(hr_user)
    page = client.get(reverse("admin:groups_finding_change", args=[finding.pk]))
    assert button_url not in page.content.decode()
    client.force_login(creator)  # sees the finding (their group), may not propose
    assert client.post(button_url).status_code == 403
    assert not Case.objects.exists()
