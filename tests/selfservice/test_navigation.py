"""One navigation for the employee's own pages: 我的案件, 我的考核, 我的指令, 我的群内问题,
待确认公告 — each shown once its page exists, the current one marked."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

ALL_ENTRIES = ["我的案件", "我的考核", "我的指令", "我的群内问题", "待确认公告"]
LATER = {
    "me:directive_list": "我的指令",
    "me:question_list": "我的群内问题",
    "me:announcement_list": "待确认公告",
}


def _nav(page: str) -> str:
    start = page.index('<nav class="me-nav"')
    return page[start : page.index("</nav>", start)]


def test_the_pages_that_exist_are_in_the_navigation(client, employee):
    client.force_login(employee)
    nav = _nav(client.get(reverse("me:case_list")).text)
    assert f'href="{reverse("me:case_list")}" aria-current="page">我的案件' in nav
    assert f'href="{reverse("me:appraisal")}">我的考核' in nav
    for name, label in LATER.items():
        try:
            assert f'href="{reverse(name)}"' in nav
        except NoReverseMatch:
            assert label not in nav  # not registered yet: left out, never a broken link


@pytest.mark.urls("tests.selfservice.nav_urls")
def test_every_page_of_the_employee_is_in_one_navigation(client, employee):
    client.force_login(employee)
    nav = _nav(client.get(reverse("me:appraisal")).text)
    positions = [nav.index(label) for label in ALL_ENTRIES]
    assert positions == sorted(positions)
    for name in LATER:
        assert f'href="{reverse(name)}"' in nav
    assert f'href="{reverse("me:appraisal")}" aria-current="page">我的考核' in nav


def test_a_login_without_an_employee_has_no_navigation(client, outsider):
    client.force_login(outsider)
    assert 'class="me-nav"' not in client.get(reverse("me:case_list")).text
