"""Issue 14.1: each role's 工作台 on the demo company — every figure equals the count of the
list it links to, fetched as that persona (docs/dashboard.md)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.demo_company import demo_company_rolled_back

PASSWORD = "dashboard-demo-pass"
PERSONAS = ["admin", "hr", "leader", "head", "creator", "groupadmin", "finance"]
# <a … href="…" data-count="N">: the figures, the chart bars and the table cells alike.
FIGURE = re.compile(r'<a\b[^>]*?href="([^"]+)"[^>]*?data-count="(\d+)"')
RATE = re.compile(r'<a class="rate" href="([^"]+)" data-rate="([^"]+)"')

# The sections each persona's roles call for (docs/dashboard.md), and those they must not see.
SECTIONS = {
    "admin": {"dashboard-overview"},
    "hr": {"dashboard-overview"},
    "leader": {"dashboard-overview"},
    "head": {"dashboard-departments"},
    "creator": {"dashboard-groups"},
    "groupadmin": {"dashboard-groups"},
    "finance": {"dashboard-finance"},
}
ALL_SECTIONS = set().union(*SECTIONS.values())


@pytest.fixture(scope="module")
def company(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.test import override_settings

    media = tmp_path_factory.mktemp("dashboard-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        demo_company_rolled_back(employees=30, password=PASSWORD),
    ):
        yield {u.username: u for u in get_user_model().objects.filter(username__in=PERSONAS)}


@pytest.fixture(autouse=True)
def _private_media():
    """The module's demo company keeps its files in its own folder (see company)."""


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dashboard_html(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<div id="dashboard">')
    return html[start : html.index('id="all-models"')]


def figures(html: str) -> list[tuple[str, int]]:
    return [(unescape(url), int(n)) for url, n in FIGURE.findall(html)]


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_figure_is_the_count_of_the_list_it_links_to(db, company, persona):
    client = client_for(company[persona])
    found = figures(dashboard_html(client))
    assert found, f"{persona} sees no figure"
    for url, count in found:
        response = client.get(url)
        assert response.status_code == 200, (persona, url, response.status_code)
        changelist = response.context["cl"]
        assert changelist.result_count == count, (persona, url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_sees_its_own_sections(db, company, persona):
    html = dashboard_html(client_for(company[persona]))
    shown = {section for section in ALL_SECTIONS if f'id="{section}"' in html}
    assert SECTIONS[persona] <= shown
    if persona in ("creator", "groupadmin", "finance"):
        assert "dashboard-overview" not in shown  # HR's and leaders' only


def test_the_model_list_is_one_click_away_and_the_approvals_figure_shown_once(db, company):
    response = client_for(company["leader"]).get("/admin/")
    html = response.content.decode()
    assert 'href="#all-models"' in html
    assert 'id="all-models"' in html
    assert response.context["app_list"]  # Django's own list of models, below the dashboard
    # 待我审批 (the demo's announcement for the leader) once: the 工作台's figure, no banner.
    assert 'id="waiting-for-me"' not in html
    assert html.count("inbox=waiting") == 1


@pytest.mark.parametrize("persona", ["hr", "leader"])
def test_a_groups_rate_is_the_rate_its_row_in_the_group_list_shows(db, company, persona):
    client = client_for(company[persona])
    rates = [(unescape(url), text) for url, text in RATE.findall(dashboard_html(client))]
    assert rates, f"{persona} sees no group's rate"
    for url, text in rates:
        assert text != "—"
        changelist = client.get(url).context["cl"]
        assert changelist.result_count == 1
        (group,) = changelist.result_list
        assert changelist.model_admin.compliance(group) == text


def test_a_leader_reads_the_groups_figures_but_no_confidential_roster(db, company):
    """Issue 14: a leader saw the group list with every figure —. The figures of a group
    that is not confidential are theirs to see; a confidential group's stay — (§6.1)."""
    from groups.models import ChatGroup

    client = client_for(company["leader"])
    changelist = client.get("/admin/groups/chatgroup/").context["cl"]
    admin = changelist.model_admin
    shown = {g.code: g for g in changelist.result_list}
    open_groups = [g for g in shown.values() if not g.is_confidential and g.latest_reconciled_at]
    assert open_groups
    for group in open_groups:
        assert admin.compliance(group) != "—"
        assert admin.member_count(group) != "—"
        assert "href" not in str(admin.open_findings(group))  # their list is HR's and the group's
    for group in ChatGroup.objects.filter(is_confidential=True, code__in=shown):
        assert admin.compliance(shown[group.code]) == "—"
        assert admin.member_count(shown[group.code]) == "—"


def test_a_leader_sees_no_part_whose_list_they_may_not_open(db, company):
    html = dashboard_html(client_for(company["leader"]))
    assert "—" not in html
    assert 'id="dashboard-findings"' not in html  # findings and to-dos: HR's and the groups'
    assert 'id="dashboard-overdue"' not in html
    assert "（只读）" in html


def test_a_login_without_a_role_is_told_nothing_waits(db, company):
    from tests.factories import UserFactory

    html = dashboard_html(client_for(UserFactory(username="nobody")))
    assert "没有需要您处理的事项" in html
    assert "data-count" not in html


def test_the_roles_are_told_by_the_permissions_that_make_them(seeded):
    """dashboard.selectors tells a role by its defining permission: each role group holds its
    own, and no other role holds it (HR may import a pay sheet too, and gets 全公司 for it)."""
    from django.contrib.auth.models import Group

    from dashboard.selectors import ROLES_BY_PERMISSION

    def holds(role: str, perm: str) -> bool:
        app, codename = perm.split(".")
        return Group.objects.filter(
            name=role, permissions__codename=codename, permissions__content_type__app_label=app
        ).exists()

    for role, perm in ROLES_BY_PERMISSION.items():
        assert holds(role, perm), role
        others = [r for r in ROLES_BY_PERMISSION if r != role]
        held_by = [r for r in others if holds(r, perm)]
        assert held_by == (["人力资源部"] if role == "财务" else []), (role, held_by)
