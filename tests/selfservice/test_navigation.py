"""One navigation for the employee's own pages: 我的案件, 我的考核, 我的指令, 我的群内问题,
待确认公告 — on every page of /me/, the current one marked."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENTRIES = [
    ("me:case_list", "我的案件"),
    ("me:appraisal", "我的考核"),
    ("me:directive_list", "我的指令"),
    ("me:question_list", "我的群内问题"),
    ("me:announcement_list", "待确认公告"),
]


def _nav(page: str) -> str:
    start = page.index('<nav class="me-nav"')
    return page[start : page.index("</nav>", start)]


@pytest.mark.parametrize(("current", "current_label"), ENTRIES)
def test_every_page_of_mine_shows_one_navigation_with_itself_marked(
    client, employee, current, current_label
):
    client.force_login(employee)
    response = client.get(reverse(current))
    assert response.status_code == 200
    nav = _nav(response.text)
    positions = [nav.index(f'href="{reverse(name)}"') for name, _ in ENTRIES]
    assert positions == sorted(positions)
    for name, label in ENTRIES:
        marked = ' aria-current="page"' if name == current else ""
        assert f'href="{reverse(name)}"{marked}>{label}</a>' in nav
    assert nav.count("aria-current") == 1


def test_a_login_without_an_employee_has_no_navigation(client, outsider):
    client.force_login(outsider)
    assert 'class="me-nav"' not in client.get(reverse("me:case_list")).text
