"""The test setup every app shares: the policy seeded once per session, the personas, and
private media in a temporary folder.

The database every test starts from holds what ``seed_policy`` creates (the standard
departments and positions, the four groups with their rules, the rule catalog and the
roles): it is written once, right after the test database is created, and each test runs in
a transaction rolled back at its end. A transactional test (``transaction=True``) empties the
tables when it ends, as Django's TransactionTestCase does; the policy is seeded again then
(``pytest_runtest_teardown`` below), so the next test finds it as every other test did.

`make test` runs the tests on every core (pytest-xdist): each worker has its own test database,
seeded the same way; the integration tests run on one worker (pytest_xdist_make_scheduler).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from company.roles import COMPANY_LEADERS, DEPARTMENT_HEADS, FINANCE, GROUP_ADMINS, HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # SQLite's test database is in memory (Django's default), one per pytest-xdist worker
    # process. Said explicitly: pytest-django tells SQLite by the stock engine's name only,
    # and would name our engine's (config.sqlite3) test database after the file's path + _gw0.
    from django.conf import settings

    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"] == "config.sqlite3" and not test.get("NAME"):
            test["NAME"] = ":memory:"


_DB_BLOCKER = pytest.StashKey[object]()


def _seed_policy() -> None:
    call_command("seed_policy", stdout=StringIO())


def _ensure_seeded() -> None:
    """Seed again if a transactional test emptied the tables (one query when it did not)."""
    if not Group.objects.filter(name=HR).exists():
        _seed_policy()


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    """The test database, migrated, with the policy seeded once for the whole session."""
    with django_db_blocker.unblock():
        _seed_policy()
    # For the teardown hook below, which runs outside any fixture: set only once the test
    # database exists, so the hook never touches another database.
    request.config.stash[_DB_BLOCKER] = django_db_blocker


INTEGRATION_TESTS = "tests/integration/"


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook; `make test` runs with -n auto
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """The tests go to the xdist workers one at a time, as each worker is free (whole files
    would leave one worker alone with the crawler at the end), except the integration tests:
    they all go to one worker, one after another, since they share one Redis database (each
    empties it) and its queues. A module-scoped fixture (the demo company of the crawler and
    of the permission matrix) is then built once on each worker."""
    from xdist.scheduler import LoadScopeScheduling

    class OneByOne(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return INTEGRATION_TESTS if nodeid.startswith(INTEGRATION_TESTS) else nodeid

    return OneByOne(config, log)


def _is_transactional(item: pytest.Item) -> bool:
    """The test empties the tables when it ends (pytest-django's own criteria)."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    fixtures = getattr(item, "fixturenames", ())
    return "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield
    # After the flush of a transactional test (its fixtures are torn down by now), seed the
    # policy again for the tests that follow. Not after the last test: the database is gone.
    # A transactional test skipped before its fixtures ran (no test database yet): nothing
    # to seed.
    blocker = item.config.stash.get(_DB_BLOCKER, None)
    if blocker is not None and nextitem is not None and _is_transactional(item):
        with blocker.unblock():
            _ensure_seeded()
    return result


@pytest.fixture
def seeded(db) -> None:
    """The policy's departments, four groups, rule catalog and roles.

    Seeded once per session (django_db_setup above); a test names this fixture to say it
    relies on them. Seeded again here only if a transactional test left the tables empty.
    """
    _ensure_seeded()


@pytest.fixture
def unseeded(db) -> None:
    """The database as the migrations leave it, for the few tests about an empty company (the
    org chart counting the departments it made, the roles' migration, the set-based writes
    counting rows): the seeded policy deleted inside this test's transaction, so it is back
    when the test ends."""
    from groups.models import ChatGroup, ContentKind
    from members.models import Department, Position
    from screening.models import ScreeningRule
    from violations.models import Rule

    ScreeningRule.objects.all().delete()  # they protect their catalog rules
    ChatGroup.objects.exclude(family=None).delete()
    ChatGroup.objects.all().delete()
    ContentKind.objects.all().delete()
    Rule.objects.all().delete()
    Group.objects.all().delete()
    Position.objects.all().delete()
    while Department.objects.exists():  # leaves first: a parent is protected
        Department.objects.filter(children=None).delete()
    for model in (ChatGroup, Rule, Department):  # the deletions' own history rows too
        model.history.all().delete()


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded files (evidence, imported sheets, exports) land in the test's own folder,
    never in MEDIA_ROOT of another test or of a developer's `make run`."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def media(_private_media):
    """The test's private MEDIA_ROOT, for a test that looks at the files stored there."""
    return _private_media


# -- personas every app's tests share (docs/architecture.md); a module may define its own ----
# Built on the seeded roles; each login's username is the persona's name (hr1/hr2 for the two
# HR clerks four eyes need). Employees behind them exist only where the persona is one.


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw")


@pytest.fixture
def hr(seeded):
    """One HR clerk (人力资源部's role)."""
    return UserFactory(username="hr1", roles=[HR])


@pytest.fixture
def hr2(seeded):
    """A second HR clerk: confirms what ``hr`` filed (four eyes, §7.1)."""
    return UserFactory(username="hr2", roles=[HR])


@pytest.fixture
def finance(seeded):
    """One finance clerk (财务's role)."""
    return UserFactory(username="fin1", roles=[FINANCE])


@pytest.fixture
def leader(seeded):
    """公司领导: views every group, case and appraisal result."""
    return UserFactory(username="leader", roles=[COMPANY_LEADERS])


@pytest.fixture
def department_head(seeded):
    """郭杰华, head of 销售部 (§9.12: supervises their own department), in the heads' role."""
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(
        name="郭杰华", department=sales, user=UserFactory(username="head", roles=[DEPARTMENT_HEADS])
    )
    department_set_head(department=sales, head=head)
    return head.user


@pytest.fixture
def office(seeded):
    """办公群, the group the creator and admin personas run."""
    return ChatGroupFactory(code="office", name="办公群")


@pytest.fixture
def group_creator(office):
    """赵敏, creator of 办公群 (§5.1): object permissions on that group only, no role."""
    creator = EmployeeFactory(name="赵敏", user=UserFactory(username="creator"))
    office.creator = creator
    office.save()
    return creator.user


@pytest.fixture
def group_admin(office):
    """王芳, an admin of 办公群 (§5.2), in the group admins' role."""
    admin = EmployeeFactory(
        name="王芳", user=UserFactory(username="groupadmin", roles=[GROUP_ADMINS])
    )
    office.admins.add(admin)
    return admin.user


@pytest.fixture
def employee(seeded):
    """李娜, a plain employee with a login that is not staff: her own pages (/me/) only."""
    return EmployeeFactory(name="李娜", user=UserFactory(username="lina", is_staff=False)).user


@pytest.fixture
def outsider(seeded):
    """A staff login with no role and no group: may open the admin, sees nothing in it."""
    return UserFactory(username="outsider")
