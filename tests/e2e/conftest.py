"""Real-browser tests: Playwright driving Debian's chromium against pytest-django's live_server.

Run with `make e2e` (they are marked ``e2e`` and deselected from `make test`). Every step
saves a full-page screenshot under test-artifacts/e2e/; a failing test also leaves
``failed-<test>.png`` there, the page as it was when the test gave up.

The data is the demo company of `make run` (seed_policy, then `demo --employees 30` with
DEMO_PASSWORD), so the logins are the personas' with real passwords, typed into the login
pages. live_server needs transactional_db: every test starts from the seeded policy (as every
test does, tests/conftest.py) and builds the demo company on it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect, sync_playwright

from company.roles import HR
from members.models import Employee

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The browser's own widgets (the file button, the date field's placeholder) in Chinese, as
# users' browsers show them: chromium on Linux takes its UI language from LANGUAGE, not
# --lang; its catalogue is Debian's chromium-l10n (.ci/run installs it). LANG is C.UTF-8, a
# UTF-8 locale every Debian has: under one the machine lacks, chromium names every download
# "download", its Chinese name lost.
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "zh_CN", "LANG": "C.UTF-8"}
CHROMIUM_ENV.pop("LC_ALL", None)
PASSWORD = "junma-demo"  # the demo personas' password (DEMO_PASSWORD), as `make run` sets it
DEMO_EMPLOYEES = 30
TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True)  # marked before `-m 'not e2e'` (pyproject.toml) deselects
def pytest_collection_modifyitems(items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def _allow_orm_beside_playwright(monkeypatch) -> None:
    """Playwright's sync API runs an asyncio event loop in the test's own thread (in a
    greenlet), so Django sees a running loop and refuses ORM calls from the test with
    SynchronousOnlyOperation — although nothing here is async: the test and the loop
    take turns in one thread. Allowed for these tests only, and only while the browser
    runs; the unit suite keeps Django's check."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_orm_beside_playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server, media, request):
    """open_page() → a new browser window (its own cookies: one login each), on live_server."""
    pages: list[Page] = []

    def open_() -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",  # LocaleMiddleware: the pages in Chinese, as users see them
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_
    if getattr(request.node, "e2e_failed", False) and pages:
        shot(pages[-1], f"failed-{request.node.name}")
    for page in pages:
        page.context.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot test-artifacts/e2e/<name>.png (name: NN-what)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^0-9A-Za-z_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the company and its logins ---------------------------------------------------------------


@dataclass
class Logins:
    hr: str  # the HR head: creator of the groups, files cases
    hr2: str  # a second HR clerk: confirms what hr filed (four eyes)
    finance: str
    employee: str  # a plain employee's login (not staff): /me/ only
    worker: Employee  # the employee behind it


@pytest.fixture
def demo(transactional_db, monkeypatch) -> Logins:
    """The `make run` company, small: seed_policy, then the demo with DEMO_PASSWORD."""
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_policy", stdout=StringIO())
    call_command("demo", employees=DEMO_EMPLOYEES, stdout=StringIO())
    user_model = get_user_model()
    hr2 = user_model.objects.create_user(username="hr2", password=PASSWORD, is_staff=True)
    hr2.groups.add(Group.objects.get(name=HR))
    # A line worker with no login, no department to head and no demo case (so that the
    # period's figures for them are this flow's alone), given a login of their own.
    worker = (
        Employee.objects.filter(
            status=Employee.Status.ACTIVE,
            category=Employee.Category.PRODUCTION,
            user__isnull=True,
            headed_departments__isnull=True,
            cases__isnull=True,
        )
        .select_related("department")
        .order_by("employee_no")
        .first()
    )
    worker.user = user_model.objects.create_user(
        username=worker.employee_no.lower(), password=PASSWORD
    )
    worker.save()
    return Logins(
        hr="hr", hr2="hr2", finance="finance", employee=worker.user.username, worker=worker
    )


def admin_login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Through the front door: /admin/login/, type, press 登录."""
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def pick_autocomplete(page: Page, field: str, search: str, option: str) -> None:
    """Choose in a select2 autocomplete (the admin's autocomplete_fields) as a user does."""
    page.locator(f"#id_{field} + .select2").click()
    page.locator(".select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=option).first.click()
