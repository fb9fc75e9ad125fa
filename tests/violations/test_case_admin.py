"""The case admin (§5.2, §7.1, §9.12): who sees which case, filing with evidence, HR's queue,
bulk decisions with a required comment, appeals, and query bounds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from common.actors import SystemActor
from groups.models import ChatGroup
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import (
    PDF_BYTES,
    PNG_BYTES,
    CaseFactory,
    EmployeeFactory,
    UserFactory,
)
from tests.violations.conftest import filed
from violations.admin.cases import (
    ERROR_NO_SUCH_CASE,
    ERROR_OUT_OF_SCOPE,
    MESSAGE_EVIDENCE_ADDED,
    SEARCH_HELP,
    DepartmentFilter,
)
from violations.admin.decisions import MESSAGE_DECIDED_MANY, MESSAGE_REFUSED
from violations.admin.filters import OccurredMonthFilter
from violations.forms import ERROR_FILE_GROUP, ERROR_OVERRIDE_ONE_CASE, MAX_EVIDENCE_FILES
from violations.models import Case, CaseTransition, Evidence
from violations.services import case_confirm, evidence_add_all
from violations.services.cases import (
    ERROR_OWN_CONFIRMATION,
    ERROR_OWN_REPORT,
    ERROR_REASON_REQUIRED,
)
from violations.services.evidence import ERROR_EVIDENCE_SIZE, ERROR_EVIDENCE_TYPE

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
State = Case.State
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48

CHANGELIST = "admin:violations_case_changelist"
ADD = "admin:violations_case_add"
QUEUE = "admin:violations_case_queue"


def changelist_rows(client, query: str = "") -> list[Case]:
    response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- 1. who sees the list ----------------------------------------------------------------

VISIBLE = {
    "hr": {"offender_in_mine", "offender_in_other", "worker_in_other"},
    "finance": {"offender_in_mine", "offender_in_other", "worker_in_other"},
    "creator": {"offender_in_mine"},  # §5.1 their group's
    "groupadmin": {"offender_in_mine"},  # §5.2 their group's
    "head": {"offender_in_mine", "offender_in_other"},  # §9.12 their department's
}


@pytest.mark.parametrize(("who", "expected"), VISIBLE.items())
def test_changelist_shows_each_persona_the_cases_they_may_see(client, world, cases, who, expected):
    client.force_login(world[who])
    names = {case.pk: name for name, case in cases.items()}
    assert {names[case.pk] for case in changelist_rows(client)} == expected


@pytest.mark.parametrize("who", ["groupadmin", "head"])
def test_a_case_outside_ones_scope_is_refused_as_such(client, world, cases, who):
    """Told it is outside their scope (403), not that it "may have been deleted"."""
    client.force_login(world[who])
    url = reverse("admin:violations_case_change", args=[cases["worker_in_other"].pk])
    response = client.get(url)
    assert response.status_code == 403
    assert ERROR_OUT_OF_SCOPE in response.content.decode()
    assert "may have been deleted" not in response.content.decode()


@pytest.mark.parametrize("who", ["hr", "head"])
def test_a_missing_case_is_still_missing(client, world, cases, who):
    client.force_login(world[who])
    response = client.get(reverse("admin:violations_case_change", args=[999_999]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert response["Location"] == reverse("admin:index")


def test_outsider_is_refused_the_list_and_does_not_see_the_module(client, world, cases):
    client.force_login(world["outsider"])
    assert client.get(reverse(CHANGELIST)).status_code == 403
    index = client.get(reverse("admin:index"))
    assert reverse(CHANGELIST) not in index.content.decode()


def test_group_admin_sees_the_module_on_the_index(client, world, cases):
    client.force_login(world["groupadmin"])
    assert reverse(CHANGELIST) in client.get(reverse("admin:index")).content.decode()


def test_group_admin_without_cases_yet_reaches_the_list_to_file_one(client, world):
    client.force_login(world["groupadmin"])
    assert changelist_rows(client) == []


def test_department_filter_lists_only_departments_with_visible_cases(client, world, cases):
    client.force_login(world["groupadmin"])
    response = client.get(reverse(CHANGELIST))
    spec = next(s for s in response.context["cl"].filter_specs if isinstance(s, DepartmentFilter))
    assert [label for _, label in spec.lookup_choices] == ["销售部"]

    client.force_login(world["hr"])
    rows = changelist_rows(client, f"?department={world['production'].pk}")
    assert [case.pk for case in rows] == [cases["worker_in_other"].pk]


@pytest.fixture
def workshop_case(world):
    """A case in 生产部/一车间, under 生产部 (§9.12: a department's scope takes in its own)."""
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    welder = EmployeeFactory(name="孙磊", department=workshop)
    return CaseFactory(rule=world["rule"], employee=welder, group=world["other"])


def test_department_filter_takes_in_sub_departments(client, world, cases, workshop_case):
    client.force_login(world["hr"])
    rows = changelist_rows(client, f"?department={world['production'].pk}")
    assert {case.pk for case in rows} == {cases["worker_in_other"].pk, workshop_case.pk}
    workshop = workshop_case.employee.department
    assert [c.pk for c in changelist_rows(client, f"?department={workshop.pk}")] == [
        workshop_case.pk
    ]


def test_department_filter_offers_the_department_above_a_sub_departments_cases(
    client, world, workshop_case
):
    production = world["production"]
    head = EmployeeFactory(name="周强", department=production, user=UserFactory(username="周强"))
    department_set_head(department=production, head=head)
    client.force_login(head.user)  # sees 一车间's case only (§9.12), none in 生产部 itself
    response = client.get(reverse(CHANGELIST) + "?_facets=True")
    spec = next(s for s in response.context["cl"].filter_specs if isinstance(s, DepartmentFilter))
    shown = [choice["display"] for choice in spec.choices(response.context["cl"])]
    assert shown[1:] == ["生产部 (1)", "生产部/一车间 (1)"]
    rows = changelist_rows(client, f"?department={production.pk}")
    assert [case.pk for case in rows] == [workshop_case.pk]


def test_search_by_name_and_employee_number(client, world, cases):
    client.force_login(world["hr"])
    by_name = {c.pk for c in changelist_rows(client, "?q=刘洋")}
    by_number = {c.pk for c in changelist_rows(client, "?q=JM007")}
    assert by_name == by_number == {cases["worker_in_other"].pk}


def test_search_finds_by_part_of_a_name_the_start_of_a_number_and_the_case_number(
    client, world, cases
):
    client.force_login(world["hr"])
    offender = {cases["offender_in_mine"].pk, cases["offender_in_other"].pk}
    worker = cases["worker_in_other"].pk

    def found(term: str) -> set[int]:
        return {case.pk for case in changelist_rows(client, f"?q={term}")}

    assert found("娜") == offender  # 李娜: any part of the name
    assert found("jm00") == offender | {worker}  # JM004, JM007: the start of the 工号
    assert found("M007") == set()  # the 工号 from its start only
    assert found(f"%23{worker}") == found(str(worker)) == {worker}  # #123 or 123
    assert found(f"李娜 %23{worker}") == set()  # every word must match
    assert found(f"李娜 {cases['offender_in_mine'].pk}") == {cases["offender_in_mine"].pk}
    assert found("99999999999999999999") == set()  # no such number, no overflow
    assert found("①") == found("%23²") == set()  # digits to Python, not numbers to int()


def test_search_does_not_read_the_description(client, world, cases):
    """The description is not searched: LIKE '%…%' on it read every case (issue 13)."""
    Case.objects.filter(pk=cases["worker_in_other"].pk).update(description="群内发布赌博链接")
    client.force_login(world["hr"])
    assert changelist_rows(client, "?q=赌博") == []


def test_search_stays_in_the_users_scope(client, world, cases):
    client.force_login(world["creator"])  # sees their group's case only
    assert {c.pk for c in changelist_rows(client, "?q=李娜")} == {cases["offender_in_mine"].pk}
    assert changelist_rows(client, f"?q={cases['worker_in_other'].pk}") == []


def test_search_box_says_what_is_searched(client, world):
    client.force_login(world["hr"])
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert SEARCH_HELP in page
    for searched in ["姓名", "工号", "案件编号"]:
        assert searched in SEARCH_HELP


def test_changelist_filters_by_local_month(client, world, cases):
    """发生月份 (the date hierarchy read every case): 2025-05-31 20:00 UTC is June 1st in
    Shanghai, so it is a June case; every month from the first case's is offered."""
    old, june = cases["worker_in_other"], cases["offender_in_other"]
    Case.objects.filter(pk=old.pk).update(occurred_at=dt.datetime(2025, 5, 6, 10, tzinfo=dt.UTC))
    Case.objects.filter(pk=june.pk).update(occurred_at=dt.datetime(2025, 5, 31, 20, tzinfo=dt.UTC))
    client.force_login(world["hr"])
    assert [case.pk for case in changelist_rows(client, "?month=2025-05")] == [old.pk]
    assert [case.pk for case in changelist_rows(client, "?month=2025-06")] == [june.pk]
    assert changelist_rows(client, "?month=garbage") == []
    assert changelist_rows(client, "?month=9999-12") == []  # its next month is past the calendar
    response = client.get(reverse(CHANGELIST))
    spec = next(
        s for s in response.context["cl"].filter_specs if isinstance(s, OccurredMonthFilter)
    )
    months = [value for value, _ in spec.lookup_choices]
    assert months[-1] == "2025-05"
    assert months == sorted(months, reverse=True)


def test_month_filter_offers_the_months_of_the_viewers_own_cases(client, world, cases):
    """A month that only cases outside one's scope fill is not offered (nor their dates)."""
    others = cases["worker_in_other"]
    Case.objects.filter(pk=others.pk).update(occurred_at=dt.datetime(2024, 3, 6, 10, tzinfo=dt.UTC))
    client.force_login(world["creator"])  # sees their group's case only
    response = client.get(reverse(CHANGELIST))
    spec = next(
        s for s in response.context["cl"].filter_specs if isinstance(s, OccurredMonthFilter)
    )
    assert "2024-03" not in [value for value, _ in spec.lookup_choices]
    client.force_login(world["hr"])
    response = client.get(reverse(CHANGELIST))
    spec = next(
        s for s in response.context["cl"].filter_specs if isinstance(s, OccurredMonthFilter)
    )
    assert "2024-03" in [value for value, _ in spec.lookup_choices]


# -- 2. the change page: a record, with its timeline and evidence ---------------------------


def test_change_page_shows_the_timeline_in_order_and_evidence_thumbnails(client, world):
    case = filed(world)
    png = evidence_add_all(case=case, files=[("shot.png", PNG_BYTES)], actor=world["groupadmin"])[0]
    pdf = evidence_add_all(
        case=case, files=[("聊天记录.pdf", PDF_BYTES)], actor=world["groupadmin"]
    )[0]
    case_confirm(case=case, actor=world["hr"], comment="证据确凿")
    client.force_login(world["hr2"])
    response = client.get(reverse("admin:violations_case_change", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<img src="{reverse("evidence:file", args=[png.pk])}"' in html
    assert f'href="{reverse("evidence:file", args=[pdf.pk])}"' in html
    assert "聊天记录.pdf" in html
    assert "/private/" not in html  # never a MEDIA_URL link
    assert timeline(response) == [
        ("", State.PROPOSED, "登记"),
        (State.PROPOSED, State.CONFIRMED, "证据确凿"),
    ]


def timeline(response) -> list[tuple[str, str, str]]:
    inline = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.model is CaseTransition
    )
    return [(t.from_state, t.to_state, t.comment) for t in inline.formset.get_queryset()]


def test_group_admin_opens_their_groups_case_with_timeline_and_evidence(client, world):
    case = filed(world)
    evidence = evidence_add_all(case=case, files=[("shot.png", PNG_BYTES)], actor=SYSTEM)[0]
    client.force_login(world["groupadmin"])
    response = client.get(reverse("admin:violations_case_change", args=[case.pk]))
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}  # view only
    assert f'<img src="{reverse("evidence:file", args=[evidence.pk])}"' in response.content.decode()
    assert timeline(response) == [("", State.PROPOSED, "登记")]


def test_finance_sees_the_case_but_not_its_evidence(client, world):
    case = filed(world)
    evidence = evidence_add_all(case=case, files=[("shot.png", PNG_BYTES)], actor=SYSTEM)[0]
    client.force_login(world["finance"])
    response = client.get(reverse("admin:violations_case_change", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "群内发布赌博链接" in html
    assert reverse("evidence:file", args=[evidence.pk]) not in html
    assert "shot.png" not in html


def test_proposed_case_keeps_decided_fields_read_only_for_hr(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    form = (
        client.get(reverse("admin:violations_case_change", args=[case.pk]))
        .context["adminform"]
        .form
    )
    assert {"rule", "employee", "group", "occurred_at", "description"} <= set(form.fields)
    assert not {"state", "points", "sanction", "confirmed_at", "source", "joint_of"} & set(
        form.fields
    )


def test_decided_case_is_read_only_even_for_hr(client, world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr"], comment="ok")
    client.force_login(world["hr2"])
    url = reverse("admin:violations_case_change", args=[case.pk])
    assert client.get(url).context["adminform"].form.fields == {}
    client.post(url, {"state": State.PROPOSED, "points": "0", "description": "改掉"})
    case.refresh_from_db()
    assert (case.state, case.description) == (State.CONFIRMED, "群内发布赌博链接")


@pytest.mark.parametrize(("who", "status"), [("hr", 403), ("superuser", 200)])
def test_only_a_superuser_may_delete_a_case(client, world, superuser, who, status):
    world["superuser"] = superuser
    case = filed(world)
    client.force_login(world[who])
    assert client.get(reverse("admin:violations_case_delete", args=[case.pk])).status_code == status


@pytest.mark.parametrize("who", ["hr", "finance"])
def test_history_revert_cannot_change_a_case(client, world, who):
    case = filed(world)
    first = case.history.earliest("history_date")
    case_confirm(case=case, actor=world["hr2"], comment="ok")
    client.force_login(world[who])
    url = reverse("admin:violations_case_simple_history", args=[case.pk, first.history_id])
    assert client.post(url, {"description": "改掉"}).status_code == 403
    case.refresh_from_db()
    assert case.state == State.CONFIRMED


def test_finance_cannot_revert_a_rule_through_its_history(client, world):
    rule = world["rule"]
    first = rule.history.earliest("history_date")
    client.force_login(world["finance"])
    url = reverse("admin:violations_rule_simple_history", args=[rule.pk, first.history_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"code": rule.code, "title_zh": "改掉", "default_points": "0"})
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.title_zh != "改掉"


def test_rule_page_has_the_repeat_and_joint_liability_fields(client, world):
    client.force_login(world["hr"])
    response = client.get(reverse("admin:violations_rule_change", args=[world["rule"].pk]))
    fields = set(response.context["adminform"].form.fields)
    assert {"repeat_window_days", "repeat_points_factor", "repeat_escalate_at", "head_share"} <= (
        fields
    )


# -- 3. filing a case (登记违规) ---------------------------------------------------------------


def filing(world, group="mine", files=(), **overrides) -> dict:
    occurred = timezone.localtime() - dt.timedelta(hours=3)
    data = {
        "rule": world["rule"].pk,
        "employee": world["offender"].pk,
        "group": world[group].pk if group else "",
        "occurred_at_0": occurred.strftime("%Y-%m-%d"),
        "occurred_at_1": occurred.strftime("%H:%M:%S"),
        "description": "在办公群发布赌博链接",
        "evidence": [SimpleUploadedFile(name, data) for name, data in files],
    }
    data.update(overrides)
    return data


def stored_files(tmp_path) -> list:
    return [p for p in tmp_path.rglob("*") if p.is_file()]


def test_group_admin_files_a_case_for_their_group_with_a_screenshot(client, world, tmp_path):
    client.force_login(world["groupadmin"])
    response = client.post(reverse(ADD), filing(world, files=[("shot.png", PNG_BYTES)]))
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.group, case.employee, case.reported_by) == (
        world["mine"],
        world["offender"],
        world["groupadmin"],
    )
    assert (case.state, case.source) == (State.PROPOSED, Case.Source.MANUAL)
    evidence = case.evidence.get()
    assert (evidence.original_name, evidence.content_type) == ("shot.png", Evidence.Kind.PNG)
    assert evidence.uploaded_by == world["groupadmin"]
    assert evidence.file.path.startswith(str(tmp_path))
    assert Path(evidence.file.path).read_bytes() == PNG_BYTES
    assert list(case.transitions.values_list("to_state", "actor")) == [
        (State.PROPOSED, world["groupadmin"].pk)
    ]


def test_group_admin_is_offered_only_their_own_groups(client, world):
    client.force_login(world["groupadmin"])
    response = client.get(reverse(ADD))
    html = response.content.decode()
    assert "登记违规" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="evidence"' in html
    assert "multiple" in html
    form = response.context["adminform"].form
    assert list(form.fields["group"].queryset) == [world["mine"]]
    assert form.fields["group"].required


def test_group_admin_cannot_file_for_another_group(client, world, tmp_path):
    client.force_login(world["groupadmin"])
    response = client.post(
        reverse(ADD), filing(world, group="other", files=[("shot.png", PNG_BYTES)])
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["group"] == [ERROR_FILE_GROUP]
    assert not Case.objects.exists()
    assert stored_files(tmp_path) == []


def test_hr_files_for_any_group_or_none(client, world):
    client.force_login(world["hr"])
    form = client.get(reverse(ADD)).context["adminform"].form
    assert set(form.fields["group"].queryset) == set(ChatGroup.objects.all())
    assert not form.fields["group"].required
    response = client.post(reverse(ADD), filing(world, group=None))
    assert response.status_code == 302
    assert Case.objects.get().group is None


@pytest.mark.parametrize("who", ["finance", "head", "outsider"])
def test_those_who_run_no_group_cannot_file(client, world, who):
    client.force_login(world[who])
    assert client.get(reverse(ADD)).status_code == 403
    assert client.post(reverse(ADD), filing(world)).status_code == 403
    assert not Case.objects.exists()


def test_changelist_offers_filing_under_its_own_name(client, world):
    client.force_login(world["groupadmin"])
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert "登记违规" in html
    assert reverse(ADD) in html


def test_renamed_executable_is_refused_and_nothing_is_stored(client, world, tmp_path):
    client.force_login(world["groupadmin"])
    response = client.post(reverse(ADD), filing(world, files=[("shot.png", EXE_BYTES)]))
    message = ERROR_EVIDENCE_TYPE.format(name="shot.png")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["evidence"] == [message]
    assert escape(message) in response.content.decode()
    assert not Case.objects.exists()
    assert not Evidence.objects.exists()
    assert not CaseTransition.objects.exists()
    assert stored_files(tmp_path) == []


def test_one_bad_file_among_good_ones_stores_none_of_them(client, world, tmp_path):
    client.force_login(world["groupadmin"])
    files = [("a.png", PNG_BYTES), ("b.pdf", PDF_BYTES), ("c.png", EXE_BYTES)]
    response = client.post(reverse(ADD), filing(world, files=files))
    assert response.context["adminform"].form.errors["evidence"] == [
        ERROR_EVIDENCE_TYPE.format(name="c.png")
    ]
    assert not Case.objects.exists()
    assert stored_files(tmp_path) == []


def test_oversized_evidence_is_refused_by_its_size(client, world, settings, tmp_path):
    settings.EVIDENCE_MAX_BYTES = 32
    client.force_login(world["groupadmin"])
    response = client.post(reverse(ADD), filing(world, files=[("big.png", PNG_BYTES)]))
    errors = response.context["adminform"].form.errors["evidence"]
    size, limit = filesizeformat(len(PNG_BYTES)), filesizeformat(32)
    assert errors == [ERROR_EVIDENCE_SIZE.format(name="big.png", size=size, limit=limit)]
    assert not Case.objects.exists()


def test_too_many_evidence_files_are_refused(client, world, tmp_path):
    client.force_login(world["groupadmin"])
    files = [(f"{i}.png", PNG_BYTES) for i in range(MAX_EVIDENCE_FILES + 1)]
    response = client.post(reverse(ADD), filing(world, files=files))
    assert response.status_code == 200
    assert "evidence" in response.context["adminform"].form.errors
    assert not Case.objects.exists()
    assert stored_files(tmp_path) == []


def test_group_admin_adds_evidence_to_a_filed_case(client, world):
    case = filed(world)
    client.force_login(world["groupadmin"])
    url = reverse("admin:violations_case_add_evidence", args=[case.pk])
    page = client.get(reverse("admin:violations_case_change", args=[case.pk]))
    assert url in page.content.decode()
    files = {"evidence": [SimpleUploadedFile("more.pdf", PDF_BYTES)]}
    response = client.post(url, files, follow=True)
    assert response.redirect_chain == [
        (reverse("admin:violations_case_change", args=[case.pk]), 302)
    ]
    assert MESSAGE_EVIDENCE_ADDED.format(pk=case.pk, count=1) in messages_of(response)
    assert list(case.evidence.values_list("original_name", "content_type")) == [
        ("more.pdf", Evidence.Kind.PDF)
    ]


def test_a_case_that_does_not_exist_is_a_404_in_words(rf, world):
    request = rf.post("/")
    request.user = world["hr"]
    with pytest.raises(Http404, match=ERROR_NO_SUCH_CASE):
        admin.site.get_model_admin(Case).get_case_or_refuse(request, "999999")


def test_adding_a_renamed_executable_to_a_case_stores_nothing(client, world, tmp_path):
    case = filed(world)
    client.force_login(world["groupadmin"])
    url = reverse("admin:violations_case_add_evidence", args=[case.pk])
    response = client.post(url, {"evidence": [SimpleUploadedFile("shot.png", EXE_BYTES)]})
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"] == [
        ERROR_EVIDENCE_TYPE.format(name="shot.png")
    ]
    assert not case.evidence.exists()
    assert stored_files(tmp_path) == []


def test_adding_evidence_without_a_file_asks_for_one(client, world):
    case = filed(world)
    client.force_login(world["groupadmin"])
    url = reverse("admin:violations_case_add_evidence", args=[case.pk])
    response = client.post(url, {})
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"]


@pytest.mark.parametrize("who", ["finance", "head"])
def test_those_who_may_not_see_evidence_or_file_cannot_add_evidence(client, world, who):
    case = filed(world)
    client.force_login(world[who])
    url = reverse("admin:violations_case_add_evidence", args=[case.pk])
    response = client.post(url, {"evidence": [SimpleUploadedFile("x.png", PNG_BYTES)]})
    assert response.status_code == 403
    assert not case.evidence.exists()


# -- 4. HR's decisions: bulk actions with a required comment -------------------------------


def act(client, action: str, cases, **form):
    """The two steps of an action: the confirmation page, then the decision."""
    ids = [c.pk for c in cases]
    page = client.post(reverse(CHANGELIST), {"action": action, "_selected_action": ids, "index": 0})
    assert page.status_code == 200
    assert page.templates[0].name == "admin/violations/case/decide.html"
    data = {"action": action, "_selected_action": ids, "apply": "1", **form}
    return page, client.post(reverse(CHANGELIST), data, follow=True)


def test_bulk_confirm_with_a_comment_fixes_points_and_writes_the_record(client, world):
    first, second = filed(world), filed(world, group="other", by="hr2", employee="worker")
    client.force_login(world["hr"])
    page, response = act(client, "confirm_cases", [first, second], comment="证据确凿")
    assert "points" not in page.context["form"].fields  # no override for a batch
    for case in (first, second):
        case.refresh_from_db()
        assert case.state == State.CONFIRMED
        assert case.points == Decimal("3.00")  # §9.4's default, first offence
        assert case.confirmed_by == world["hr"]
        last = case.transitions.order_by("at", "pk").last()
        assert (last.from_state, last.to_state, last.actor, last.comment) == (
            State.PROPOSED,
            State.CONFIRMED,
            world["hr"],
            "证据确凿",
        )
    assert MESSAGE_DECIDED_MANY.format(
        verb="确认", count=2, numbers=f"#{first.pk}、#{second.pk}"
    ) in messages_of(response)


def test_bulk_confirm_without_a_comment_changes_nothing(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    _, response = act(client, "confirm_cases", [case], comment="  ")
    assert response.status_code == 200
    assert response.context["form"].errors["comment"]
    assert response.templates[0].name == "admin/violations/case/decide.html"
    case.refresh_from_db()
    assert case.state == State.PROPOSED
    assert case.transitions.count() == 1


def test_four_eyes_refusal_is_reported_and_the_others_are_confirmed(client, world):
    own = filed(world, by="hr")
    theirs = filed(world)
    client.force_login(world["hr"])
    _, response = act(client, "confirm_cases", [own, theirs], comment="ok")
    shown = messages_of(response)
    assert MESSAGE_REFUSED.format(pk=own.pk, verb="确认", reason=ERROR_OWN_REPORT) in shown
    assert MESSAGE_DECIDED_MANY.format(verb="确认", count=1, numbers=f"#{theirs.pk}") in shown
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert (own.state, theirs.state) == (State.PROPOSED, State.CONFIRMED)


def test_single_case_points_override_needs_a_reason(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    _, response = act(client, "confirm_cases", [case], comment="ok", points="5")
    assert MESSAGE_REFUSED.format(
        pk=case.pk, verb="确认", reason=ERROR_REASON_REQUIRED
    ) in messages_of(response)
    case.refresh_from_db()
    assert case.state == State.PROPOSED

    act(client, "confirm_cases", [case], comment="ok", points="5", override_reason="情节严重")
    case.refresh_from_db()
    assert (case.state, case.points, case.override_reason) == (
        State.CONFIRMED,
        Decimal("5.00"),
        "情节严重",
    )


def test_points_override_is_refused_for_a_batch(client, world):
    cases = [filed(world), filed(world)]
    client.force_login(world["hr"])
    _, response = act(client, "confirm_cases", cases, comment="ok", points="5")
    assert response.context["form"].non_field_errors() == [ERROR_OVERRIDE_ONE_CASE]
    assert set(Case.objects.values_list("state", flat=True)) == {State.PROPOSED}


def test_bulk_dismiss_with_a_reason(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    _, response = act(client, "dismiss_cases", [case], comment="证据不足")
    case.refresh_from_db()
    assert case.state == State.DISMISSED
    assert case.transitions.last().comment == "证据不足"
    assert MESSAGE_DECIDED_MANY.format(verb="驳回", count=1, numbers=f"#{case.pk}") in messages_of(
        response
    )


def test_bulk_dismiss_without_a_reason_changes_nothing(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    act(client, "dismiss_cases", [case], comment="")
    case.refresh_from_db()
    assert case.state == State.PROPOSED


@pytest.mark.parametrize("who", ["finance", "groupadmin"])
def test_decisions_are_not_offered_without_the_decide_permission(client, world, who):
    case = filed(world)
    client.force_login(world[who])
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert "confirm_cases" not in html
    data = {"action": "confirm_cases", "_selected_action": [case.pk], "apply": "1", "comment": "x"}
    client.post(reverse(CHANGELIST), {**data, "index": 0})
    client.post(reverse(CHANGELIST), data)
    case.refresh_from_db()
    assert case.state == State.PROPOSED


@pytest.mark.parametrize(
    ("action", "state", "verb"),
    [("uphold_appeals", State.UPHELD, "维持"), ("overturn_appeals", State.OVERTURNED, "撤销")],
)
def test_appeal_decision_actions(client, world, appealed, action, state, verb):
    client.force_login(world["hr"])
    _, response = act(client, action, [appealed], comment="复核结论")
    appealed.refresh_from_db()
    assert appealed.state == state
    last = appealed.transitions.last()
    assert (last.from_state, last.to_state, last.comment) == (State.APPEALED, state, "复核结论")
    assert MESSAGE_DECIDED_MANY.format(
        verb=verb, count=1, numbers=f"#{appealed.pk}"
    ) in messages_of(response)


def test_appeal_decision_needs_a_comment(client, world, appealed):
    client.force_login(world["hr"])
    _, response = act(client, "overturn_appeals", [appealed], comment="")
    assert response.context["form"].errors["comment"]
    appealed.refresh_from_db()
    assert appealed.state == State.APPEALED


def test_the_confirmer_cannot_decide_the_appeal(client, world, appealed):
    client.force_login(world["hr2"])
    _, response = act(client, "uphold_appeals", [appealed], comment="维持")
    assert MESSAGE_REFUSED.format(
        pk=appealed.pk, verb="维持", reason=ERROR_OWN_CONFIRMATION
    ) in messages_of(response)
    appealed.refresh_from_db()
    assert appealed.state == State.APPEALED


# -- 5. HR's work queue ---------------------------------------------------------------------


def queue_of(world, count: int, *, start: dt.datetime | None = None) -> list[Case]:
    """``count`` proposed cases with a screenshot each, made newest first (pk order ≠ age)."""
    start = start or timezone.now() - dt.timedelta(days=10)
    made = []
    for i in range(count):
        case = filed(world)
        evidence_add_all(case=case, files=[(f"{i}.png", PNG_BYTES)], actor=SYSTEM)
        Case.objects.filter(pk=case.pk).update(created_at=start - dt.timedelta(hours=i))
        made.append(case)
    return made


def test_queue_lists_proposed_cases_oldest_first_with_thumbnails(client, world):
    newest, middle, oldest = queue_of(world, 3)
    pdf = evidence_add_all(case=oldest, files=[("记录.pdf", PDF_BYTES)], actor=SYSTEM)[0]
    decided = filed(world)
    case_confirm(case=decided, actor=world["hr"], comment="ok")
    client.force_login(world["hr"])
    response = client.get(reverse(QUEUE))
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"].object_list] == [
        oldest.pk,
        middle.pk,
        newest.pk,
    ]
    html = response.content.decode()
    for case in (oldest, middle, newest):
        assert reverse("admin:violations_case_change", args=[case.pk]) in html
        png = case.evidence.get(content_type=Evidence.Kind.PNG)
        assert f'<img src="{reverse("evidence:file", args=[png.pk])}"' in html
    assert f'href="{reverse("evidence:file", args=[pdf.pk])}"' in html
    assert reverse("admin:violations_case_change", args=[decided.pk]) not in html


def test_queue_links_to_the_changelist_of_proposed_cases_oldest_first(client, world):
    newest, oldest = queue_of(world, 2)
    decided = filed(world)
    case_confirm(case=decided, actor=world["hr"], comment="ok")
    client.force_login(world["hr"])
    bulk_url = client.get(reverse(QUEUE)).context["bulk_url"]
    rows = changelist_rows(client, bulk_url[bulk_url.index("?") :])
    assert [case.pk for case in rows] == [oldest.pk, newest.pk]


def test_queue_is_linked_from_the_changelist_for_hr_only(client, world):
    client.force_login(world["hr"])
    assert reverse(QUEUE) in client.get(reverse(CHANGELIST)).content.decode()
    client.force_login(world["finance"])
    assert reverse(QUEUE) not in client.get(reverse(CHANGELIST)).content.decode()


@pytest.mark.parametrize("who", ["finance", "groupadmin", "head"])
def test_queue_is_for_hr(client, world, who):
    client.force_login(world[who])
    assert client.get(reverse(QUEUE)).status_code == 403


# -- 6. query bounds -----------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queue_query_count_does_not_grow_with_rows(client, world):
    client.force_login(world["hr"])
    queue_of(world, 2)
    few = _queries(client, reverse(QUEUE))
    queue_of(world, 15, start=timezone.now() - dt.timedelta(days=20))
    many = _queries(client, reverse(QUEUE))
    assert many == few, f"{few} queries for 2 rows, {many} for 17"


# The list as it opens, with a filter, and with 显示计数 (?_facets=True: one GROUP BY per
# custom filter, not a subquery per choice).
LIST_QUERIES = ["", "?state__exact=proposed", "?_facets=True"]


@pytest.mark.parametrize("query", LIST_QUERIES)
@pytest.mark.parametrize("who", ["hr", "groupadmin", "head"])
def test_changelist_query_count_does_not_grow_with_rows(client, world, who, query):
    client.force_login(world[who])
    for _ in range(2):  # reported, like the 15 below: the page's reporters are one prefetch
        CaseFactory(
            rule=world["rule"],
            employee=world["offender"],
            group=world["mine"],
            reported_by=world["groupadmin"],
        )
    _queries(client, reverse(CHANGELIST) + query)  # the first fills the content-type cache
    few = _queries(client, reverse(CHANGELIST) + query)
    for _ in range(15):
        case = CaseFactory(
            rule=world["rule"],
            employee=EmployeeFactory(department=world["sales"]),
            group=world["mine"],
        )
        case.reported_by = world["groupadmin"]
        case.save()
    many = _queries(client, reverse(CHANGELIST) + query)
    assert many == few, f"{few} queries for 2 rows, {many} for 17"


# The rows' links are built once per page (common.admin.QuickChangeList): they must stay the
# URLs Django writes — each case's page carrying the list's filters back.
@pytest.mark.parametrize(
    "query", ["", "?state__exact=proposed", "?state__exact=proposed&o=-1&q=李"]
)
def test_each_rows_links_are_djangos_own(client, world, query):
    client.force_login(world["hr"])
    for _ in range(3):
        CaseFactory(rule=world["rule"], employee=world["offender"], group=world["mine"])
    response = client.get(reverse(CHANGELIST) + query)
    html = response.content.decode()
    cases = list(response.context["cl"].result_list)
    assert len(cases) == 3
    case_admin = admin.site.get_model_admin(Case)
    context = {
        "preserved_filters": case_admin.get_preserved_filters(response.wsgi_request),
        "opts": Case._meta,
    }
    for case in cases:
        page = reverse("admin:violations_case_change", args=[quote(case.pk)])
        djangos = escape(add_preserved_filters(context, page))
        # Both link columns: 编号 (the row's header cell) and 条款.
        assert f'<th class="field-case_number"><a href="{djangos}">#{case.pk}</a></th>' in html
        assert f'<a href="{djangos}">{escape(case.rule)}</a></td>' in html
    if query:
        assert "_changelist_filters=" in context["preserved_filters"]


def test_search_query_count_does_not_grow_with_rows(client, world):
    """A search is as many queries as the list, however many employees and cases match:
    the employees are a subquery, not a query each."""
    client.force_login(world["hr"])
    url = reverse(CHANGELIST) + "?q=测试"
    for n in range(2):
        CaseFactory(
            rule=world["rule"], employee=EmployeeFactory(name=f"测试{n}"), group=world["mine"]
        )
    _queries(client, url)  # the first fills the content-type cache
    few = _queries(client, url)
    for n in range(2, 17):
        CaseFactory(
            rule=world["rule"], employee=EmployeeFactory(name=f"测试{n}"), group=world["mine"]
        )
    assert len(changelist_rows(client, "?q=测试")) == 17
    many = _queries(client, url)
    assert many == few, f"{few} queries for 2 rows, {many} for 17"
    assert few <= _queries(client, reverse(CHANGELIST))
