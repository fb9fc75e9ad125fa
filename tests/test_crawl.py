"""The crawler: every page each demo persona can reach by following links answers, in Chinese.

On the demo company (``manage.py demo`` with DEMO_PASSWORD, built once for this module),
for the visitor who is not logged in and for each persona, follow with GET every same-site
link reachable from /admin/ and /me/cases/ — changelists with their filters, sorts, search
(the search box is a form: ``q=王``), facet counts (``_facets=True``) and date hierarchy,
change and history pages, custom views, downloads, the employee's own pages — one page per
URL shape (digits in the path folded, query keys sorted, values folded). Then:

- no page answers 5xx (every failure is collected and reported at once);
- a 403 is the Chinese page with a way back (templates/403.html), never "403 Forbidden";
- no link shown to a role answers 403 for that role: a link the role cannot follow must
  not be shown;
- the URL shapes the superuser reached but this persona was not linked to answer no 5xx,
  and a 403 among them is the Chinese page too.

Run with ``-s`` to see the number of URL shapes each persona visited; with CRAWL_LOG_DIR
set, each persona's visited URLs (status, CPU seconds, URL, linked from) are written there.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client

DEMO_EMPLOYEES = 30
PASSWORD = "crawl-demo-pass"  # noqa: S105 — the demo personas' password, tests only
SUPERUSER = "admin"  # manage.py ensure_admin
PERSONAS = ["anonymous", SUPERUSER, "hr", "finance", "leader", "head"]
PERSONAS += ["groupadmin", "creator", "employee"]
START = ("/admin/", "/me/cases/")
SHOW_SLOWEST = 3
SEARCH_TERM = "王"  # the commonest surname of the demo (members.demo)

# Not GET-safe, or leaves the session: never requested.
SKIP_PATH = re.compile(r"/logout/|^/static/|^/media/")
# Which links of a page the crawler follows, so that a changelist's filters, sorts, search
# and facet counts are each visited once, not in every combination: a page with a query is
# a leaf, except a date-hierarchy page, which leads deeper into the hierarchy. Keys that
# only carry where to go back (next, _changelist_filters) do not make a page another shape.
CARRIED_KEYS = {"next", "_changelist_filters"}
DATE_HIERARCHY_KEY = re.compile(r"__(year|month|day)$")
ERROR_PAGE_MARK = "无权访问"
WAYS_BACK = ('href="/admin/"', 'href="/me/cases/"', 'action="/accounts/logout/"')


def query_keys(url: str) -> set[str]:
    """The keys of the query that make a page what it is (not where it leads back to)."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return {key for key, _ in pairs} - CARRIED_KEYS


def url_shape(url: str) -> tuple[str, tuple[str, ...]]:
    """/admin/x/12/change/?b=1&a=2 → ('/admin/x/<n>/change/', ('a', 'b'))."""
    return re.sub(r"\d+", "<n>", urlsplit(url).path), tuple(sorted(query_keys(url)))


def expands(url: str) -> bool:
    return all(DATE_HIERARCHY_KEY.search(key) for key in query_keys(url))


def follows(page: str, link: str) -> bool:
    """Whether the crawler follows ``link`` found on ``page`` (an expanding page)."""
    page_keys = query_keys(page)
    if not page_keys or urlsplit(page).path != urlsplit(link).path:
        return True
    return all(DATE_HIERARCHY_KEY.search(key) for key in query_keys(link) - page_keys)


class PageLinks(HTMLParser):
    """The targets of a page's links (<a href>) and of its GET forms, filled in as a browser
    would submit them untouched (the search box gets SEARCH_TERM)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            get = a.get("method", "get").lower() == "get"
            self._form = {"action": a.get("action", ""), "fields": []} if get else None
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            value = SEARCH_TERM if a["name"] == "q" else a.get("value", "")
            self._form["fields"].append((a["name"], value))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            self._form["fields"].append((self._select, a.get("value", "")))
            self._select = None  # the first option stands for the select

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            action = self._form["action"].split("?")[0]
            self.links.append(f"{action}?{urlencode(self._form['fields'])}")
            self._form = None


@dataclass
class Visit:
    url: str
    status: int
    found_on: str  # the page that linked here ("" for a start page or a requested shape)
    error: str = ""  # the exception a request raised (a 500 in production)
    seconds: float = 0.0


@dataclass
class Crawl:
    persona: str
    visits: dict[tuple, Visit] = field(default_factory=dict)  # by URL shape
    seconds: float = 0.0

    def failures(self, *, linked: bool) -> list[str]:
        problems = []
        for visit in self.visits.values():
            where = f"{self.persona} GET {visit.url}" + (
                f" (linked from {visit.found_on})" if visit.found_on else ""
            )
            if visit.error or visit.status >= 500:
                problems.append(f"{where}: {visit.status} {visit.error}")
            elif visit.status == 403 and linked and visit.found_on:
                problems.append(f"{where}: 403 for a link shown to this role")
        return problems


def fetch(client: Client, url: str) -> tuple[int, str, str, str]:
    """(status, content type, body if HTML, error): an exception a view raises (Django's
    test client re-raises it) is a 500 in production, reported with its first line."""
    try:
        response = client.get(url)
    except Exception as exc:  # noqa: BLE001 — every failure is collected, then reported
        return 500, "", "", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    content_type = response.get("Content-Type", "")
    if response.streaming:
        # A download can fail while it streams, too. The test client closes the response
        # when the content is consumed (closing it again would close the database connection).
        try:
            b"".join(response.streaming_content)
        except Exception as exc:  # noqa: BLE001
            return 500, content_type, "", f"{type(exc).__name__}: {exc}"
        return response.status_code, content_type, "", ""
    body = response.content.decode(errors="replace") if "html" in content_type else ""
    if response.status_code in (301, 302, 303, 307, 308):
        body = f'<a href="{response["Location"]}"></a>'  # a redirect is a link too
    return response.status_code, content_type, body, ""


def links_on(page_url: str, body: str) -> list[str]:
    parser = PageLinks()
    parser.feed(body)
    found = []
    for href in parser.links:
        target = urljoin("http://testserver" + page_url, href.strip())
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            continue
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP_PATH.search(parts.path):
            found.append(url)
    return found


def crawl(client: Client, persona: str) -> tuple[Crawl, list[str]]:
    """Breadth-first from START, one page per URL shape; returns the crawl and the 403
    pages that are not the Chinese one."""
    started = time.process_time()
    result = Crawl(persona)
    bad_403: list[str] = []
    queue = deque((url, "") for url in START)
    while queue:
        url, found_on = queue.popleft()
        shape = url_shape(url)
        if shape in result.visits:
            continue
        began = time.process_time()
        status, _, body, error = fetch(client, url)
        result.visits[shape] = Visit(url, status, found_on, error, time.process_time() - began)
        if status == 403:
            problem = forbidden_page_problem(body)
            if problem:
                bad_403.append(f"{persona} GET {url}: {problem}")
            continue
        if status < 400 and body and expands(url):
            queue.extend((link, url) for link in links_on(url, body) if follows(url, link))
    result.seconds = time.process_time() - started
    return result, bad_403


def forbidden_page_problem(body: str) -> str:
    """'' when ``body`` is the Chinese 403 page with a way back, else what is wrong."""
    if "403 Forbidden" in body or ERROR_PAGE_MARK not in body:
        return "not the Chinese 403 page (templates/403.html)"
    if not any(way in body for way in WAYS_BACK):
        return "the 403 page offers no way back"
    return ""


# --- the demo company, once for the module --------------------------------------------------


@pytest.fixture(scope="module")
def demo_company(django_db_setup, django_db_blocker):
    """The demo company with its persona logins and the superuser, in one transaction that
    is rolled back after the module (each test runs in a savepoint inside it)."""
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMO_PASSWORD", PASSWORD)
        mp.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("demo", employees=DEMO_EMPLOYEES, stdout=StringIO())
            call_command("ensure_admin", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def client_for(persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(get_user_model().objects.get(username=persona))
    return client


@pytest.fixture(scope="module")
def superuser_crawl(demo_company, django_db_blocker) -> tuple[Crawl, list[str]]:
    with django_db_blocker.unblock(), transaction.atomic():
        found = crawl(client_for(SUPERUSER), SUPERUSER)
        transaction.set_rollback(True)
    return found


# --- the tests ------------------------------------------------------------------------------


def request_unlinked(client: Client, persona: str, found: Crawl, superuser: Crawl):
    """The superuser's URL shapes this persona was not linked to, requested as this persona."""
    began = time.process_time()
    unlinked = Crawl(persona)
    bad_403 = []
    for shape, visit in superuser.visits.items():
        if shape in found.visits:
            continue
        status, _, body, error = fetch(client, visit.url)
        unlinked.visits[shape] = Visit(visit.url, status, "", error)
        if status == 403 and (problem := forbidden_page_problem(body)):
            bad_403.append(f"{persona} GET {visit.url} (not linked): {problem}")
    unlinked.seconds = time.process_time() - began
    return unlinked, bad_403


def report(found: Crawl, unlinked: Crawl) -> None:
    """The figures the lead quotes (pytest -s), and with CRAWL_LOG_DIR every URL visited."""
    counts = Counter(visit.status for visit in found.visits.values())
    print(  # noqa: T201
        f"\ncrawl {found.persona}: {len(found.visits)} URL shapes followed "
        f"({', '.join(f'{s}: {n}' for s, n in sorted(counts.items()))}) in "
        f"{found.seconds:.1f} s CPU; {len(unlinked.visits)} more of the superuser's requested "
        f"in {unlinked.seconds:.1f} s"
    )
    for visit in found.visits.values():
        if visit.status == 404 and visit.found_on:  # a broken link: reported, not failed
            print(f"  404 {visit.url} (linked from {visit.found_on})")  # noqa: T201
    slowest = sorted(found.visits.values(), key=lambda v: -v.seconds)[:SHOW_SLOWEST]
    print("  slowest: " + ", ".join(f"{v.url} {v.seconds:.2f} s" for v in slowest))  # noqa: T201
    if log_dir := os.environ.get("CRAWL_LOG_DIR"):
        lines = [
            f"{v.status}\t{v.seconds:.3f}\t{v.url}\t{v.found_on or '(start)'}"
            for v in found.visits.values()
        ]
        lines += [f"{v.status}\t\t{v.url}\t(not linked)" for v in unlinked.visits.values()]
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        Path(log_dir, f"{found.persona}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_a_persona_can_reach_answers(db, superuser_crawl, persona):
    if persona == SUPERUSER:
        found, bad_403 = superuser_crawl
    else:
        found, bad_403 = crawl(client_for(persona), persona)
    unlinked, unlinked_bad_403 = request_unlinked(
        client_for(persona), persona, found, superuser_crawl[0]
    )
    report(found, unlinked)

    problems = found.failures(linked=True) + unlinked.failures(linked=False)
    problems += bad_403 + unlinked_bad_403
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    assert len(found.visits) > len(START)
