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
- no link shown to a role answers 404 (a broken link);
- on every HTML page, no <form> starts inside another and every form="…" of a button or
  input names a form that exists and is not nested (browsers drop nested forms; tests/html.py);
- each persona reaches the pages of its work (MUST_REACH): a crawl that lands on the login
  page fails; the visitor and the employee open no admin page but the login;
- before the crawls HR dismisses a proposed case through its page, so that its history
  names a user; no page any persona but the superuser sees links to /admin/auth/user/;
- the URL shapes the superuser reached but this persona was not linked to, and the decided
  case's pages, answer no 5xx, and a 403 among them is the Chinese page too.

Run with ``-s`` to see the number of URL shapes each persona visited; with CRAWL_LOG_DIR
set, each persona's visited URLs (status, CPU seconds, URL, linked from) are written there.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.demo_company import demo_company_rolled_back
from tests.html import Page
from violations.models import Case

DEMO_EMPLOYEES = 30
PASSWORD = "crawl-demo-pass"  # the demo personas' password, tests only
SUPERUSER = "admin"  # manage.py ensure_admin
PERSONAS = ["anonymous", SUPERUSER, "hr", "finance", "leader", "head"]
PERSONAS += ["groupadmin", "creator", "employee"]
START = ("/admin/", "/me/cases/")
SHOW_SLOWEST = 3
SEARCH_TERM = "王"  # the commonest surname of the demo (company.demo.build)

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
USER_ADMIN = "/admin/auth/user/"  # only the superuser may open it (or be linked to it)
LOGIN_PAGES = {"/admin/login/", "/accounts/login/"}

# The pages each persona must reach by links (URL shapes' paths, digits folded): a crawl
# that lands on the login page, or loses a menu, fails here instead of passing on fewer
# pages. (The visitor and the employee are also held to no admin page but the login.)
CASE_PAGE = "/admin/violations/case/<n>/change/"
GROUP_PAGE = "/admin/groups/chatgroup/<n>/change/"
PERIOD_PAGE = "/admin/appraisal/period/<n>/change/"
FINDING_PAGE = "/admin/groups/finding/<n>/change/"
MUST_REACH = {
    "anonymous": {"/admin/login/", "/accounts/login/"},
    SUPERUSER: {CASE_PAGE, GROUP_PAGE, PERIOD_PAGE, "/admin/auth/user/<n>/change/"},
    "hr": {
        CASE_PAGE,
        "/admin/violations/case/queue/",
        "/admin/violations/case/<n>/history/",
        GROUP_PAGE,
        PERIOD_PAGE,
        "/admin/members/employee/import/",
        "/me/cases/",
    },
    "finance": {PERIOD_PAGE, "/admin/appraisal/settlement/import/", "/admin/appraisal/result/"},
    "leader": {CASE_PAGE, GROUP_PAGE, PERIOD_PAGE},
    "head": {CASE_PAGE, "/admin/members/employee/<n>/change/", "/me/cases/<n>/"},
    "groupadmin": {GROUP_PAGE, FINDING_PAGE, "/admin/violations/case/add/"},
    "creator": {GROUP_PAGE, FINDING_PAGE, "/admin/groups/chatgroup/<n>/roster/upload/"},
    "employee": {"/me/cases/<n>/", "/me/appraisal/"},
}
ONLY_LOGIN_IN_ADMIN = {"anonymous", "employee"}  # not staff: the admin shows them its login


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


@dataclass
class Visit:
    url: str
    status: int
    found_on: str  # the page that linked here ("" for a start page or a requested URL)
    error: str = ""  # the exception a request raised (a 500 in production)
    seconds: float = 0.0


@dataclass
class Crawl:
    persona: str
    visits: dict[tuple, Visit] = field(default_factory=dict)  # by URL shape
    seconds: float = 0.0
    page_defects: list[str] = field(default_factory=list)  # forms a browser breaks, 403 pages
    user_links: list[str] = field(default_factory=list)  # pages linking to the user admin

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
            elif visit.status == 404 and linked and visit.found_on:
                problems.append(f"{where}: 404, a broken link")
        return problems

    def reached(self) -> set[str]:
        """The paths (digits folded) of the pages that answered 200."""
        return {shape[0] for shape, visit in self.visits.items() if visit.status == 200}

    def look_at(self, url: str, status: int, body: str, *, linked: bool) -> Page | None:
        """Check a page as a browser would show it; returns it parsed (None if not HTML)."""
        if not body:
            return None
        page = Page(body)
        where = f"{self.persona} GET {url}" + ("" if linked else " (not linked)")
        self.page_defects += [f"{where}: {problem}" for problem in page.form_problems()]
        if status == 403 and (problem := forbidden_page_problem(body)):
            self.page_defects.append(f"{where}: {problem}")
        to_user_admin = sorted({h for h in page.links if urlsplit(h).path.startswith(USER_ADMIN)})
        if to_user_admin:
            self.user_links.append(f"{where} links to {', '.join(to_user_admin)}")
        return page


def fetch(client: Client, url: str) -> tuple[int, str, str, str]:
    """(status, content type, body if HTML, error): an exception a view raises (Django's
    test client re-raises it) is a 500 in production, reported with its first line."""
    try:
        response = client.get(url)
    except Exception as exc:  # every failure is collected, then reported
        return 500, "", "", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    content_type = response.get("Content-Type", "")
    if response.streaming:
        # A download can fail while it streams, too. The test client closes the response
        # when the content is consumed (closing it again would close the database connection).
        try:
            b"".join(response.streaming_content)
        except Exception as exc:
            return 500, content_type, "", f"{type(exc).__name__}: {exc}"
        return response.status_code, content_type, "", ""
    body = response.content.decode(errors="replace") if "html" in content_type else ""
    if response.status_code in (301, 302, 303, 307, 308):
        body = f'<a href="{response["Location"]}"></a>'  # a redirect is a link too
    return response.status_code, content_type, body, ""


def links_on(page_url: str, page: Page) -> list[str]:
    """The page's links and its GET forms as a browser would submit them untouched (the
    search box gets SEARCH_TERM), as same-site URLs the crawler may request."""
    hrefs = list(page.links)
    for form in page.forms:
        if form["method"] == "get" and not form["parents"]:
            fields = [(k, SEARCH_TERM if k == "q" else v) for k, v in form["fields"]]
            hrefs.append(f"{(form['action'] or '').split('?')[0]}?{urlencode(fields)}")
    found = []
    for href in hrefs:
        target = urljoin("http://testserver" + page_url, href.strip())
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            continue
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP_PATH.search(parts.path):
            found.append(url)
    return found


def crawl(client: Client, persona: str) -> Crawl:
    """Breadth-first from START, one page per URL shape."""
    started = time.process_time()
    result = Crawl(persona)
    queue = deque((url, "") for url in START)
    while queue:
        url, found_on = queue.popleft()
        shape = url_shape(url)
        if shape in result.visits:
            continue
        began = time.process_time()
        status, _, body, error = fetch(client, url)
        result.visits[shape] = Visit(url, status, found_on, error, time.process_time() - began)
        page = result.look_at(url, status, body, linked=True)
        if page is not None and status < 400 and expands(url):
            queue.extend((link, url) for link in links_on(url, page) if follows(url, link))
    result.seconds = time.process_time() - started
    return result


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
    is rolled back after the module (each test runs in a savepoint inside it); yields the
    pages of the case HR decided (see hr_decides_a_case)."""
    with (
        django_db_blocker.unblock(),
        demo_company_rolled_back(employees=DEMO_EMPLOYEES, password=PASSWORD),
    ):
        yield hr_decides_a_case()


def hr_decides_a_case() -> list[str]:
    """HR dismisses a proposed case with the 处理 box of its page, as in a browser: the demo
    writes its data without a request, so until now no history names who made a change,
    and a history page's link to that user (/admin/auth/user/N/) could not be seen. Returns
    the case's change and history pages, which every persona then requests."""
    hr = get_user_model().objects.get(username="hr")
    case = Case.objects.filter(state=Case.State.PROPOSED).exclude(reported_by=hr).first()
    client = client_for("hr")
    response = client.post(
        reverse("admin:violations_case_decide", args=[case.pk]),
        {"decision": "dismiss", "comment": "群昵称已改正，驳回。"},
    )
    assert response.status_code == 302, response.status_code
    case.refresh_from_db()
    assert case.state == Case.State.DISMISSED
    assert case.history.latest().history_user == hr  # recorded by HistoryRequestMiddleware
    return [
        reverse("admin:violations_case_change", args=[case.pk]),
        reverse("admin:violations_case_history", args=[case.pk]),
    ]


def client_for(persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(get_user_model().objects.get(username=persona))
    return client


@pytest.fixture(scope="module")
def superuser_crawl(demo_company, django_db_blocker) -> Crawl:
    with django_db_blocker.unblock(), transaction.atomic():
        found = crawl(client_for(SUPERUSER), SUPERUSER)
        transaction.set_rollback(True)
    return found


# --- the tests ------------------------------------------------------------------------------


def request_unlinked(client: Client, persona: str, urls: list[str]) -> Crawl:
    """``urls`` (the superuser's URL shapes this persona was not linked to, and the decided
    case's pages) requested as this persona, each page checked as a linked one is."""
    began = time.process_time()
    unlinked = Crawl(persona)
    for url in urls:
        status, _, body, error = fetch(client, url)
        unlinked.visits[(*url_shape(url), url)] = Visit(url, status, "", error)
        unlinked.look_at(url, status, body, linked=False)
    unlinked.seconds = time.process_time() - began
    return unlinked


def unreached(found: Crawl) -> list[str]:
    """The pages this persona must reach but did not (MUST_REACH); for the visitor and the
    employee, the admin pages other than its login that answered them."""
    reached = found.reached()
    problems = [
        f"{found.persona} reached no page {path} by links"
        for path in sorted(MUST_REACH[found.persona] - reached)
    ]
    if found.persona in ONLY_LOGIN_IN_ADMIN:
        problems += [
            f"{found.persona} opened {path}, an admin page other than the login"
            for path in sorted(reached)
            if path.startswith("/admin/") and path not in LOGIN_PAGES
        ]
    return problems


def report(found: Crawl, unlinked: Crawl) -> None:
    """Each persona's figures (pytest -s), and with CRAWL_LOG_DIR every URL visited."""
    counts = Counter(visit.status for visit in found.visits.values())
    print(
        f"\ncrawl {found.persona}: {len(found.visits)} URL shapes followed "
        f"({', '.join(f'{s}: {n}' for s, n in sorted(counts.items()))}) in "
        f"{found.seconds:.1f} s CPU; {len(unlinked.visits)} more requested (the superuser's "
        f"and the decided case's) in {unlinked.seconds:.1f} s"
    )
    must = ", ".join(sorted(MUST_REACH[found.persona] & found.reached()))
    print(f"  must reach, reached: {must}")
    slowest = sorted(found.visits.values(), key=lambda v: -v.seconds)[:SHOW_SLOWEST]
    print("  slowest: " + ", ".join(f"{v.url} {v.seconds:.2f} s" for v in slowest))
    if log_dir := os.environ.get("CRAWL_LOG_DIR"):
        lines = [
            f"{v.status}\t{v.seconds:.3f}\t{v.url}\t{v.found_on or '(start)'}"
            for v in found.visits.values()
        ]
        lines += [f"{v.status}\t\t{v.url}\t(not linked)" for v in unlinked.visits.values()]
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        Path(log_dir, f"{found.persona}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_a_persona_can_reach_answers(db, demo_company, superuser_crawl, persona):
    found = superuser_crawl if persona == SUPERUSER else crawl(client_for(persona), persona)
    urls = [v.url for shape, v in superuser_crawl.visits.items() if shape not in found.visits]
    urls += [url for url in demo_company if url not in {v.url for v in found.visits.values()}]
    unlinked = request_unlinked(client_for(persona), persona, urls)
    report(found, unlinked)

    # Every failure at once: 5xx, a 403 or 404 behind a shown link, a 403 page not ours,
    # a form a browser drops or a button naming no form, a page not reached, a user link.
    problems = found.failures(linked=True) + unlinked.failures(linked=False)
    problems += found.page_defects + unlinked.page_defects + unreached(found)
    if persona != SUPERUSER:
        problems += found.user_links + unlinked.user_links
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
