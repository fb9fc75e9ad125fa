"""The group's pages as each role sees them: forms a browser keeps, only links the
viewer can follow, people by name, clauses with §, a run's result in words, list filters
with their counts."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from groups.models import (
    EligibilityRule,
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
    RosterSnapshot,
)
from groups.models.runs import run_summary_text
from groups.services.runs import run_execute
from tests.factories import EmployeeFactory, UserFactory
from tests.groups.conftest import capture, compliant_rows
from tests.html import Page
from violations.services.roster_cases import finding_decide_left_group

pytestmark = pytest.mark.django_db


# -- the scene: the office group after two lists, every kind of row its pages show -------


@pytest.fixture
def office(company, hr_user):
    """Two lists of the office group: 王芳 gone (§9.5, decided by HR), a stranger, a bare
    张伟 (ambiguous), 陈静 who left (§5.3.c); a run HR started; an identity HR confirmed;
    an exception; a department rule."""
    group = company.office
    EligibilityRule.objects.create(
        group=group,
        kind=EligibilityRule.Kind.DEPARTMENT,
        department=company.hr_head.department,
        clause="4",
    )
    first = capture(group, *compliant_rows())
    run_execute(snapshot=first)
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    latest = capture(group, *rows, "快递小哥", "张伟", ("销售部-陈静", "chenjing"))
    run = ReconciliationRun.objects.create(group=group, snapshot=latest, started_by=hr_user)
    run_execute(snapshot=latest, run=run)
    finding_decide_left_group(
        finding=Finding.objects.get(kind=Finding.Kind.LEFT_GROUP), propose_case=False, actor=hr_user
    )
    RosterSnapshot.objects.filter(pk=latest.pk).update(uploaded_by=hr_user)
    MemberIdentity.objects.create(
        group=group, display_name="娜娜", employee=company.li_na, decided_by=hr_user
    )
    MembershipException.objects.create(
        group=group,
        employee=company.production_worker,
        kind=MembershipException.Kind.INCLUDE,
        reason="借调到办公室",
        approved_by=company.hr_head,
    )
    return group


def change_url(group) -> str:
    return reverse("admin:groups_chatgroup_change", args=[group.pk])


# -- reading pages the way a browser does ---------------------------------------------------


def page(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, url
    return Page(response.content.decode())


# -- 1. the 重新核对 button's form is one a browser keeps --------------------------------------


def test_reconcile_button_names_a_form_that_is_not_nested(client, hr_user, office):
    client.force_login(hr_user)
    html = client.get(change_url(office)).content.decode()
    parsed = Page(html)
    assert parsed.nested == []  # browsers drop a form inside a form
    assert '<button type="submit" form="reconcile-form"' in html
    assert "重新核对最新快照" in parsed.text
    assert "reconcile-form" in parsed.top_forms
    assert set(parsed.form_targets) <= parsed.top_forms
    reconcile = reverse("admin:groups_chatgroup_reconcile", args=[office.pk])
    assert f'<form id="reconcile-form" method="post" action="{reconcile}">' in html


@pytest.mark.parametrize("persona", ["hr_user", "group_admin", "creator"])
def test_no_groups_page_nests_a_form(client, request, office, persona):
    client.force_login(request.getfixturevalue(persona))
    run = ReconciliationRun.objects.get()
    urls = [
        change_url(office),
        reverse("admin:groups_chatgroup_upload_roster", args=[office.pk]),
        reverse("admin:groups_reconciliation_run", args=[run.pk]),
        reverse("admin:groups_finding_changelist"),
    ]
    for url in urls:
        assert page(client, url).nested == [], url


# -- 4. links a role cannot follow are not shown --------------------------------------------


def identity_link(group) -> str:
    return reverse("admin:groups_memberidentity_add") + f"?group={group.pk}"


def test_hr_sees_the_confirm_identity_link(client, hr_user, office):
    client.force_login(hr_user)
    parsed = page(client, change_url(office))
    assert "确认身份" in parsed.text
    assert any(link.startswith(identity_link(office)) for link in parsed.links)


@pytest.mark.parametrize("persona", ["group_admin", "creator"])
def test_group_admin_and_creator_see_the_finding_without_the_link(client, request, office, persona):
    client.force_login(request.getfixturevalue(persona))
    parsed = page(client, change_url(office))
    assert "快递小哥" in parsed.text  # the finding, yes (§5.1, §5.2)
    assert "同名待确认（1）" in parsed.text
    assert "确认身份" not in parsed.text  # HR's decision, not theirs
    assert not any("memberidentity" in link for link in parsed.links)


def _shape(url: str) -> str:
    """One page per URL shape: digits folded, one query of each page (the filters and
    sorting of each list: test_every_filter_survives_the_facet_counts)."""
    parts = urlsplit(url)
    query = parts.query.replace("_changelist_filters", "")
    return re.sub(r"\d+", "N", parts.path) + ("?" if query else "")


def _links_followed(client, start: list[str]) -> tuple[dict[str, int], list[str]]:
    """Walk the groups pages from ``start``, GET every link they show once per shape.

    Returns {link: status} for each link tried (with the page it was on) and every
    link to a user's admin page seen.
    """
    statuses: dict[str, int] = {}
    user_links: list[str] = []
    queue = [(url, "start") for url in start]
    seen: set[str] = set()
    while queue:
        url, found_on = queue.pop(0)
        shape = _shape(url)
        if shape in seen:
            continue
        seen.add(shape)
        response = client.get(url)
        statuses[f"{url} (on {found_on})"] = response.status_code
        # Pages of the groups app are read for their links; a list's own variants
        # (filters, sorting: their query) are only opened, the lists above cover them.
        if response.status_code != 200 or not url.startswith("/admin/groups/") or "?" in url:
            continue
        if "text/html" not in response["Content-Type"]:
            continue
        for href in Page(response.content.decode()).links:
            if href.startswith(("#", "javascript:", "mailto:")):
                continue
            target = urljoin(url, href)
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target.startswith("/admin/auth/user/"):
                user_links.append(f"{target} (on {url})")
            if target.startswith(("/admin/logout/", "/static/", "/admin/jsi18n/")):
                continue
            queue.append((target, url))
    return statuses, user_links


@pytest.mark.parametrize("persona", ["hr_user", "group_admin", "creator"])
def test_every_link_on_the_groups_pages_can_be_followed(client, request, office, persona):
    # group_admin may view employees but not departments; the creator neither: links to
    # what they may not open were Django's read-only foreign keys, shown to anyone.
    client.force_login(request.getfixturevalue(persona))
    statuses, user_links = _links_followed(
        client, [change_url(office), reverse("admin:app_list", args=["groups"])]
    )
    refused = {link: status for link, status in statuses.items() if status not in (200, 302)}
    assert refused == {}
    assert user_links == []  # people are shown by name, never as /admin/auth/user/N/
    assert len(statuses) > 20  # the walk did reach the pages


def test_creator_sees_employees_as_text_hr_as_links(client, hr_user, creator, office):
    finding = Finding.objects.get(kind=Finding.Kind.DEPARTED)
    url = reverse("admin:groups_finding_change", args=[finding.pk])
    employee_url = reverse("admin:members_employee_change", args=[finding.employee_id])
    client.force_login(hr_user)
    assert employee_url in page(client, url).links
    client.force_login(creator)
    parsed = page(client, url)
    assert employee_url not in parsed.links
    assert "陈静（JM006）" in parsed.text


def test_who_views_the_group_sees_the_rules_as_text(client, leader, office):
    client.force_login(leader)
    parsed = page(client, change_url(office))
    department = reverse("admin:members_department_change", args=[office.creator.department_id])
    assert department not in parsed.links  # the inline's rows are text for a viewer
    assert "人力资源部" in parsed.text
    assert "§4" in parsed.text


def test_a_family_link_only_for_who_may_open_the_first_group(client, group_admin, office):
    from tests.factories import ChatGroupFactory

    root = ChatGroupFactory(code="root", name="系列首群")
    office.family = root
    office.save()
    client.force_login(group_admin)
    parsed = page(client, change_url(office))
    assert change_url(root) not in parsed.links
    assert "系列首群" in parsed.text


# -- people by name ---------------------------------------------------------------------


@pytest.fixture
def hr_person(hr_user):
    """HR's login belongs to an employee: shown as 姓名（工号）."""
    EmployeeFactory(name="周敏", employee_no="JM099", user=hr_user)
    return hr_user


@pytest.mark.parametrize(
    "url",
    [
        "admin:groups_rostersnapshot_changelist",
        "admin:groups_reconciliationrun_changelist",
        "admin:groups_memberidentity_changelist",
    ],
)
def test_lists_show_who_did_it_by_name_never_by_login(client, hr_person, office, url):
    client.force_login(hr_person)
    parsed = page(client, reverse(url))
    assert "周敏（JM099）" in parsed.text
    assert "hr" not in parsed.text


def test_finding_page_shows_who_decided_by_name(client, hr_person, office):
    finding = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP)
    client.force_login(hr_person)
    parsed = page(client, reverse("admin:groups_finding_change", args=[finding.pk]))
    assert "周敏（JM099）" in parsed.text
    assert "hr" not in parsed.text
    assert not any("/admin/auth/" in link for link in parsed.links)


def test_snapshot_page_shows_the_uploader_by_name(client, hr_person, company):
    snapshot = capture(company.office, *compliant_rows())
    RosterSnapshot.objects.filter(pk=snapshot.pk).update(uploaded_by=hr_person)
    client.force_login(hr_person)
    parsed = page(client, reverse("admin:groups_rostersnapshot_change", args=[snapshot.pk]))
    assert "周敏（JM099）" in parsed.text
    assert not any("/admin/auth/" in link for link in parsed.links)


def test_group_history_names_who_changed_it(client, hr_person, office):
    office._history_user = hr_person  # as HistoryRequestMiddleware records an admin's save
    office.save()
    client.force_login(hr_person)
    parsed = page(client, reverse("admin:groups_chatgroup_history", args=[office.pk]))
    assert "周敏（JM099）" in parsed.text
    assert not any("/admin/auth/" in link for link in parsed.links)


# -- 5. raw values: the run's result in words, clauses with § -----------------------------


def test_run_summary_in_words():
    summary = {
        "opened": 3,
        "kept": 1,
        "resolved": 2,
        "counts": {Finding.Kind.STRANGER: 1, Finding.Kind.LEFT_GROUP: 1, Finding.Kind.DEPARTED: 2},
        "note": "欢乐谷2群 尚无成员快照，暂不判断应入群未入群",
    }
    assert run_summary_text(summary) == (
        "新增问题 3，仍存在 1，已解决 2。本次名单：离职人员仍在群 2、无关人员 1、退群 1。"
        "欢乐谷2群 尚无成员快照，暂不判断应入群未入群。"
    )
    assert run_summary_text({}) == "—"


def test_run_admin_page_shows_the_result_in_words_not_json(client, hr_user, office):
    run = ReconciliationRun.objects.get()
    client.force_login(hr_user)
    parsed = page(client, reverse("admin:groups_reconciliationrun_change", args=[run.pk]))
    text = " ".join(parsed.text)
    assert run.summary_text in parsed.text
    assert "无关人员 1" in run.summary_text
    assert '"opened"' not in text
    assert "{" not in text
    status = client.get(reverse("admin:groups_reconciliation_run_status", args=[run.pk]))
    assert status.json()["summary_text"] == run.summary_text


def test_finding_page_shows_the_clause_with_its_section_sign(client, hr_user, office):
    finding = Finding.objects.get(kind=Finding.Kind.STRANGER)
    client.force_login(hr_user)
    parsed = page(client, reverse("admin:groups_finding_change", args=[finding.pk]))
    assert "§5.3.c" in parsed.text
    assert "5.3.c" not in [t for t in parsed.text if not t.startswith("§")]
    assert "n:快递小哥" not in parsed.text  # the reconciliation's bookkeeping key


def test_todo_list_and_page_show_the_clause(client, hr_user, office):
    action = RosterAction.objects.get(finding__kind=Finding.Kind.STRANGER)
    client.force_login(hr_user)
    assert "§5.3.c" in page(client, reverse("admin:groups_rosteraction_changelist")).text
    change = reverse("admin:groups_rosteraction_change", args=[action.pk])
    assert "§5.3.c" in page(client, change).text


def test_eligibility_rules_show_the_clause_with_its_section_sign(client, hr_user, office):
    client.force_login(hr_user)  # edits them: "§" before the input
    html = client.get(change_url(office)).content.decode()
    assert re.search(r'§ <input type="text" name="rules-0-clause" value="4"', html)
    rules = page(client, reverse("admin:groups_eligibilityrule_changelist"))
    assert "§4" in rules.text


def test_allowed_content_is_checkboxes_not_the_english_selector(client, hr_user, office):
    from tests.factories import ContentKindFactory

    ContentKindFactory(name="工作通知")
    client.force_login(hr_user)
    html = client.get(change_url(office)).content.decode()
    assert "SelectFilter2.js" not in html
    assert '<input type="checkbox" name="allowed_content"' in html
    assert "selectfilter" not in html


ENGLISH_OF_DJANGO = ["By ", "All", "Show counts", "Hide counts", "Yes", "No", "Unknown"]


@pytest.mark.parametrize(
    "model",
    [
        "chatgroup",
        "finding",
        "rosteraction",
        "rostersnapshot",
        "reconciliationrun",
        "memberidentity",
        "membershipexception",
        "eligibilityrule",
    ],
)
def test_changelist_filters_and_choices_are_chinese(client, hr_user, office, model):
    client.force_login(hr_user)
    text = page(client, reverse(f"admin:groups_{model}_changelist") + "?_facets=True").text
    assert not [t for t in text if any(t.startswith(word) for word in ENGLISH_OF_DJANGO)]


# -- 6. every list filter, with 显示计数, as HR and as a group admin ----------------------------

GROUP_ADMIN_LISTS = ["chatgroup", "finding", "rosteraction", "rostersnapshot", "reconciliationrun"]
HR_LISTS = [*GROUP_ADMIN_LISTS, "memberidentity", "membershipexception", "eligibilityrule"]


@pytest.fixture
def second_group(office, group_admin):
    """Another group the group admin runs, with rows of every kind: two groups make every
    group filter show (a filter with one choice is not drawn)."""
    from tests.factories import ChatGroupFactory

    group = ChatGroupFactory(code="second", name="第二群", creator=office.creator)
    group.admins.add(group_admin.employee)
    run_execute(snapshot=capture(group, "路人丙"))
    MemberIdentity.objects.create(group=group, display_name="丙", employee=None)
    return group


def _list_links(client, url: str) -> list[str]:
    """The links of a changelist to itself (filters, sorting, dates, the facet toggle),
    one per set of query keys."""
    path = urlsplit(url).path
    by_keys: dict[tuple[str, ...], str] = {}
    for href in page(client, url).links:
        link = urljoin(url, href)
        parts = urlsplit(link)
        if parts.path == path and parts.query:
            keys = tuple(sorted({pair.split("=")[0] for pair in parts.query.split("&")}))
            by_keys.setdefault(keys, link)
    return sorted(by_keys.values())


@pytest.mark.parametrize(
    ("persona", "model"),
    [("hr_user", m) for m in HR_LISTS] + [("group_admin", m) for m in GROUP_ADMIN_LISTS],
)
def test_every_filter_survives_the_facet_counts(
    client, request, office, second_group, persona, model
):
    client.force_login(request.getfixturevalue(persona))
    base = reverse(f"admin:groups_{model}_changelist")
    response = client.get(base)
    assert response.status_code == 200
    if response.context["cl"].has_filters:
        assert any("_facets" in link for link in _list_links(client, base))
    with_counts = _list_links(client, base + "?_facets=True")
    assert with_counts
    for url in with_counts:
        assert client.get(url).status_code == 200, url
    for url in _list_links(client, base):
        assert client.get(url).status_code == 200, url


def test_a_group_admin_filter_names_only_their_groups(client, group_admin, office):
    from tests.factories import ChatGroupFactory

    ChatGroupFactory(code="elsewhere", name="别人的群")
    client.force_login(group_admin)
    response = client.get(reverse("admin:groups_finding_changelist") + "?_facets=True")
    assert "别人的群" not in response.content.decode()


def test_outsider_login_sees_nothing_of_the_group(client, office):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(change_url(office)).status_code == 403


# The index builds the app list twice (page and sidebar) and asks every admin whether a
# group's admin sees any row: 46 queries before common.admin.once_per_request, 22 after; the
# 待我审批 count at its top (announcements: the viewer's delegations, then the count) adds two;
# the header's 🔔 unread count (notices) one; the 工作台 (dashboard/) two more: the departments
# they head, their groups with their counts; 聊天记录导入 (screening) one: whether they run a
# group whose chat they may upload.
INDEX_QUERIES_FOR_A_GROUP_ADMIN = 30


def test_the_admin_index_asks_each_admin_once_for_a_group_admin(client, group_admin):
    client.force_login(group_admin)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "微信群" in response.content.decode()
    assert len(ctx.captured_queries) <= INDEX_QUERIES_FOR_A_GROUP_ADMIN


# -- the group form: no icons beside its foreign keys ---------------------------------------


def test_group_form_has_no_add_edit_delete_icons_beside_its_foreign_keys(client, hr_user, office):
    # The delete icon beside 群主 deleted the employee; 所属群系列 and 管理员 had theirs too.
    client.force_login(hr_user)
    html = client.get(change_url(office)).content.decode()
    for field in ["creator", "family", "admins"]:
        assert f'id="id_{field}"' in html, field  # the field is on the form
        for icon in ["change", "add", "delete", "view"]:
            assert f'id="{icon}_id_{field}"' not in html, (field, icon)
    # The rules' department neither: departments are edited on their own page.
    assert 'id="add_id_rules-0-department"' not in html
    assert "related-widget-wrapper-link" not in html


# -- a group outside the viewer's scope: 403 with the reason, not "may have been deleted" ----


def test_creator_typing_another_groups_address_is_told_it_is_outside_their_scope(
    client, creator, office
):
    from groups.admin.chat_group import ERROR_GROUP_OUT_OF_SCOPE
    from tests.factories import ChatGroupFactory

    other = ChatGroupFactory(code="other", name="别的群", creator=EmployeeFactory(name="钱多多"))
    client.force_login(creator)
    response = client.get(change_url(other))
    assert response.status_code == 403
    text = " ".join(Page(response.content.decode()).text)
    assert ERROR_GROUP_OUT_OF_SCOPE in text
    assert "可能已经被删除" not in text


def test_creator_opens_their_own_group(client, creator, office):
    client.force_login(creator)
    assert "成员核对（§4、§5）" in page(client, change_url(office)).text


def test_a_missing_group_keeps_the_admins_own_answer(client, creator, office):
    client.force_login(creator)
    response = client.get(reverse("admin:groups_chatgroup_change", args=[office.pk + 999]))
    assert response.status_code == 302  # Django's "may have been deleted", back to the index
    assert response.url == reverse("admin:index")


# -- the run page: its breadcrumb, and what the group's page lists now ---------------------


def test_run_page_breadcrumb_has_the_app_and_the_group_list(client, hr_user, office):
    run = ReconciliationRun.objects.get()
    client.force_login(hr_user)
    html = client.get(reverse("admin:groups_reconciliation_run", args=[run.pk])).content.decode()
    crumbs = Page(html.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0])
    assert crumbs.links == [
        reverse("admin:index"),
        reverse("admin:app_list", args=["groups"]),
        reverse("admin:groups_chatgroup_changelist"),
        change_url(office),
    ]
    assert (
        " ".join(" ".join(crumbs.text).split())
        == f"首页 › 微信群 › 微信群列表 › 办公群 › 核对 #{run.pk}"
    )


def test_a_pending_left_group_finding_is_listed_on_the_groups_page(client, hr_user, office):
    # §9.5: HR must decide it, so the group's page lists it among the open findings.
    group = office
    rows = [r for r in compliant_rows() if r != "人力资源部-王芳"]
    latest = capture(group, *[r for r in rows if r != "销售部-李娜"])
    run_execute(snapshot=latest)
    left = Finding.objects.get(kind=Finding.Kind.LEFT_GROUP, status=Finding.Status.OPEN)
    assert left.employee == group.creator.__class__.objects.get(name="李娜")
    client.force_login(hr_user)
    text = page(client, change_url(group)).text
    assert "退群（1）" in text
    assert "销售部-李娜" in text


def test_run_page_says_what_the_groups_page_lists_now(client, hr_user, office):
    # The office run saw 王芳 leave (退群 1 in its summary), HR has decided it since: the
    # run page says the group's page has no 退群 open, so the two pages agree.
    run = ReconciliationRun.objects.get()
    assert run.summary["counts"].get(Finding.Kind.LEFT_GROUP) == 1
    client.force_login(hr_user)
    text = " ".join(page(client, reverse("admin:groups_reconciliation_run", args=[run.pk])).text)
    assert "退群 1" in text  # what the list showed
    open_line = text.split("该群现有待处理问题：", 1)[1].split("。", 1)[0]
    assert "退群" not in open_line
    assert "同名待确认 1" in open_line
    status = client.get(reverse("admin:groups_reconciliation_run_status", args=[run.pk])).json()
    assert status["open_text"].startswith("该群现有待处理问题：")
    assert "退群" not in status["open_text"]


def test_sorting_by_a_roster_figure_tells_nothing_the_viewer_may_not_see(client, leader, company):
    """docs/security.md, 8: a company leader sees the groups, not their rosters (§6.1): the member
    counts show as —, and sorting by them (?o=…) must not put the groups in count order."""
    from tests.factories import ChatGroupFactory

    for code, members in [("b", 1), ("a", 3), ("c", 2)]:
        group = ChatGroupFactory(code=code, name=f"群{code}", is_confidential=True)
        capture(group, *[f"成员{i}" for i in range(members)])
    client.force_login(leader)
    changelist = reverse("admin:groups_chatgroup_changelist")
    column = client.get(changelist).context["cl"].list_display.index("member_count")

    def order(sort: str) -> list[str]:
        rows = client.get(changelist, {"o": sort}).context["cl"].result_list
        return [group.code for group in rows if group.code in "abc"]

    assert order(str(column)) == order(f"-{column}")  # no figure behind the order
