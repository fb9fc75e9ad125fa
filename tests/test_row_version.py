"""docs/security.md, 1: a change form never saves over a row that moved after the page was built — a
lock, a computation, a decision, another clerk's edit — and says so in Chinese.

Django's admin saves every field of the row it has loaded; with a clerk's page open while
another clerk locked the period, the save put the period back to 未锁定
(history computed → locked → open). common.admin.RowVersionGuardMixin (on every
HistoryAdmin) compares the page's row version with the row, under a row lock.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal.models import Period
from appraisal.services import period_compute, period_get_or_create, period_lock
from common.admin import STALE_EDIT
from company.roles import HR
from groups.models import ChatGroup
from tests.factories import EmployeeFactory, UserFactory
from tests.html import Page, change_form_data, form_data, post_change_form
from violations.models import Rule

pytestmark = pytest.mark.django_db


def _states(period: Period) -> list[str]:
    return list(period.history.order_by("history_id").values_list("state", flat=True))


def _period_url(period: Period) -> str:
    return reverse("admin:appraisal_period_change", args=[period.pk])


@pytest.fixture
def period(seeded):
    return period_get_or_create(code="2026-10")


def test_a_period_page_opened_before_a_computation_does_not_undo_it(client, hr, hr2, period):
    client.force_login(hr)
    stale = change_form_data(client, _period_url(period), {"deduction_cap": "5"})
    period_compute(period=period, actor=hr2)

    response = client.post(_period_url(period), stale)

    assert response.status_code == 200
    assert STALE_EDIT in response.content.decode()
    period.refresh_from_db()
    assert period.state == Period.State.COMPUTED
    assert period.deduction_cap != Decimal("5")


def test_the_refused_page_stays_refused_until_reloaded(client, hr, hr2, period):
    client.force_login(hr)
    stale = change_form_data(client, _period_url(period), {"deduction_cap": "5"})
    period_compute(period=period, actor=hr2)
    refused = Page(client.post(_period_url(period), stale).content.decode())
    resent = form_data(next(f for f in refused.forms if f["id"] == "period_form"))

    response = client.post(_period_url(period), {**resent, "deduction_cap": ["5"]})

    assert STALE_EDIT in response.content.decode()
    assert post_change_form(client, _period_url(period), {"deduction_cap": "5"}).status_code == 302
    period.refresh_from_db()
    assert (period.deduction_cap, period.state) == (Decimal("5"), Period.State.OPEN)


def test_a_save_without_the_row_version_is_refused(client, hr, period):
    client.force_login(hr)
    data = change_form_data(client, _period_url(period), {"deduction_cap": "5"})
    del data["_row_version"]

    response = client.post(_period_url(period), data)

    assert STALE_EDIT in response.content.decode()
    period.refresh_from_db()
    assert period.deduction_cap != Decimal("5")


def test_an_unchanged_row_saves_and_a_computed_period_asks_for_a_recompute(client, hr, period):
    period_compute(period=period, actor=hr)
    client.force_login(hr)

    response = post_change_form(client, _period_url(period), {"deduction_cap": "5"})

    assert response.status_code == 302
    period.refresh_from_db()
    assert (period.deduction_cap, period.state) == (Decimal("5"), Period.State.OPEN)


def test_the_admins_a_group_gained_meanwhile_are_kept(client, hr, seeded):
    group = ChatGroup.objects.get(code="work")
    url = reverse("admin:groups_chatgroup_change", args=[group.pk])
    client.force_login(hr)
    stale = change_form_data(client, url, {"name": "俊马工作群（新）"})
    added = EmployeeFactory(name="孙丽")
    group.admins.add(added)  # another clerk appointed an admin (§5.2)

    response = client.post(url, stale)

    assert STALE_EDIT in response.content.decode()
    group.refresh_from_db()
    assert group.name != "俊马工作群（新）"
    assert added in group.admins.all()


def test_a_group_page_reads_its_links_once_and_an_unchanged_group_saves(client, hr, seeded):
    """The group's page reads its 管理员 and 内容 once each (prefetched for the form, the page's
    row version made from them, docs/performance.md): the version must still be the row's
    own, or every clerk's save would be refused as stale."""
    group = ChatGroup.objects.get(code="work")
    group.admins.add(EmployeeFactory(name="孙丽"))
    assert group.allowed_content.exists()
    url = reverse("admin:groups_chatgroup_change", args=[group.pk])
    client.force_login(hr)
    client.get(url)  # warm: content types, permissions
    with CaptureQueriesContext(connection) as queries:
        data = change_form_data(client, url, {"name": "俊马工作群（新）"})
    for table in ("groups_chatgroup_admins", "groups_chatgroup_allowed_content"):
        reads = [
            q["sql"]
            for q in queries.captured_queries
            if f'INNER JOIN "{table}"' in q["sql"]
            and not q["sql"].startswith('SELECT "members_employee"."user_id" FROM')
        ]
        assert len(reads) == 1, reads

    response = client.post(url, data)

    assert STALE_EDIT not in response.content.decode()
    group.refresh_from_db()
    assert group.name == "俊马工作群（新）"


def test_a_rule_changed_meanwhile_is_not_written_over(client, superuser, seeded):
    rule = Rule.objects.get(code="9.4")
    url = reverse("admin:violations_rule_change", args=[rule.pk])
    client.force_login(superuser)
    stale = change_form_data(client, url, {"title_zh": "旧页面上的标题"})
    Rule.objects.filter(pk=rule.pk).update(default_points=Decimal("7.00"))

    response = client.post(url, stale)

    assert STALE_EDIT in response.content.decode()
    rule.refresh_from_db()
    assert (rule.default_points, rule.title_zh) == (
        Decimal("7.00"),
        Rule.objects.get(pk=rule.pk).title_zh,
    )
    assert rule.title_zh != "旧页面上的标题"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: run with DATABASE_URL=postgres://..."
)
@pytest.mark.django_db(transaction=True)
def test_a_lock_and_a_save_at_the_same_moment_never_unlock_the_period(seeded):
    """Two real connections: the lock holds the period's row while the clerk's save arrives;
    the save waits for the row, then sees the lock and refuses (before: history
    computed → locked → open, 3 tries in 12)."""
    hr, hr2 = UserFactory(username="hr1", roles=[HR]), UserFactory(username="hr2", roles=[HR])
    period = period_get_or_create(code="2026-10")
    period_compute(period=period, actor=hr2)
    clerk = Client()
    clerk.force_login(hr)
    page = change_form_data(clerk, _period_url(period), {"deduction_cap": "5"})

    locked, release = threading.Event(), threading.Event()

    def lock_and_hold():
        try:
            with transaction.atomic():
                period_lock(period=period, actor=hr2)
                locked.set()
                release.wait(10)  # the row stays locked until this transaction ends
        finally:
            connection.close()

    answers = []

    def save():
        try:
            answers.append(clerk.post(_period_url(period), page))
        finally:
            connection.close()

    locker = threading.Thread(target=lock_and_hold)
    locker.start()
    assert locked.wait(10)
    saver = threading.Thread(target=save)
    saver.start()
    saver.join(1.0)
    assert saver.is_alive(), "the save must wait for the locked row"
    release.set()
    locker.join(10)
    saver.join(10)

    period.refresh_from_db()
    assert period.state == Period.State.LOCKED
    assert period.deduction_cap != Decimal("5")
    assert _states(period)[-1] == Period.State.LOCKED
    assert [answer.status_code for answer in answers] == [200]
    assert STALE_EDIT in answers[0].content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_revert_saves_under_the_row_lock_and_a_stale_one_is_refused(seeded):
    """A revert from the history page is a save like any other: it carries the row version,
    and runs in a transaction (select_for_update outside one fails on PostgreSQL)."""
    from members.services import department_get_or_create_by_path

    root = UserFactory(username="root", is_superuser=True)
    department = department_get_or_create_by_path(path="销售部")
    employee = EmployeeFactory(name="张伟", department=department)
    first = employee.history.earliest()
    employee.name = "张卫"
    employee.save()
    clerk = Client()
    clerk.force_login(root)
    url = reverse("admin:members_employee_simple_history", args=[employee.pk, first.history_id])

    fresh = clerk.post(url, change_form_data(clerk, url))
    assert fresh.status_code == 302
    employee.refresh_from_db()
    assert employee.name == "张伟"

    stale = change_form_data(clerk, url)
    employee.name = "张威"
    employee.save()
    response = clerk.post(url, stale)
    assert STALE_EDIT in response.content.decode()
    employee.refresh_from_db()
    assert employee.name == "张威"


def test_a_stale_login_page_does_not_give_a_leaver_their_login_back(client, superuser, seeded):
    """The superuser's user page opened before HR marked the employee 离职 (which deactivates
    the login, docs/security.md, 7): saving it must not set the login active again."""
    import datetime as dt

    from members.models import Employee

    employee = EmployeeFactory(name="王芳", user=UserFactory(username="wangfang", roles=[HR]))
    url = reverse("admin:auth_user_change", args=[employee.user.pk])
    client.force_login(superuser)
    stale = change_form_data(client, url)
    employee.status, employee.left_on = Employee.Status.LEFT, dt.date(2026, 11, 30)
    employee.save()

    response = client.post(url, stale)

    assert STALE_EDIT in response.content.decode()
    employee.user.refresh_from_db()
    assert employee.user.is_active is False
