"""The demo's announcements: every state, made through the services, so that the leader and
head personas find items in 待我审批; nothing without the persona logins; made once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from announcements.models import Acknowledgement, Announcement, Delegation
from announcements.selectors import acknowledgements_pending_for, announcements_waiting_for

pytestmark = pytest.mark.django_db
State = Announcement.State
PASSWORD = "demo-pass-123"


def run_demo() -> str:
    out = StringIO()
    call_command("demo", "--employees", "300", "--seed", "3", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(monkeypatch) -> str:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    return run_demo()


def user(username: str):
    return get_user_model().objects.get(username=username)


def test_every_state_is_present(demo):
    assert set(Announcement.objects.values_list("state", flat=True)) == set(State.values)
    assert "公告（" in demo


def test_the_leader_and_head_personas_find_items_in_their_inbox(demo):
    head = {a.title for a in announcements_waiting_for(user("head"))}
    leader = {a.title for a in announcements_waiting_for(user("leader"))}
    hr = {a.title for a in announcements_waiting_for(user("hr"))}
    assert head == {"【演示】一车间设备检修的通知", "【演示】夜班补贴调整的通知"}
    assert leader == {"【演示】年终盘点的通知"}
    assert hr == {"【演示】冬至祝福"}


def test_a_rejected_item_was_revised_and_an_emergency_one_reviewed(demo):
    revised = Announcement.objects.get(title="【演示】夜班补贴调整的通知")
    assert (revised.version, revised.versions.count()) == (2, 2)
    assert revised.decisions.filter(to_state=State.REJECTED).exists()
    reviewed = Announcement.objects.filter(review_after=True, reviewed_by=user("leader"))
    assert reviewed.count() == 1
    assert Announcement.objects.filter(review_after=True, reviewed_at__isnull=True).count() == 1
    assert Delegation.objects.filter(approver=user("leader")).exists()
    assert Delegation.objects.filter(approver=user("head"), delegate=user("creator")).exists()


def test_the_employee_persona_has_an_item_to_confirm(demo):
    employee = user("employee").employee
    assert [a.title for a in acknowledgements_pending_for(employee)] == ["【演示】元旦联欢会报名"]
    assert Acknowledgement.objects.count() == 3  # some readers of the 工作群 notice confirmed


def test_a_second_run_makes_nothing(demo):
    before = list(Announcement.objects.values_list("pk", "state", "version", "updated_at"))
    out = run_demo()
    assert "本次新建 0 份" in out
    assert list(Announcement.objects.values_list("pk", "state", "version", "updated_at")) == before


def test_without_persona_logins_nothing_is_made(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = run_demo()
    assert "公告：需要演示账号（DEMO_PASSWORD），未创建。" in out
    assert not Announcement.objects.exists()


def test_a_small_company_gets_them_too(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    out = StringIO()
    call_command("demo", "--employees", "30", stdout=out)
    assert set(Announcement.objects.values_list("state", flat=True)) == set(State.values)
