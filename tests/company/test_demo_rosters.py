"""The demo's rosters: every anomaly HR meets, reconciled, and nothing added on a re-run."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from company.demo.rosters import build_rosters, demo_family_groups, demo_rosters_apply
from groups.models import ChatGroup, Finding, ReconciliationRun, RosterSnapshot

pytestmark = pytest.mark.django_db


def demo(employees: int = 300, seed: int = 3) -> None:
    call_command("demo", "--employees", str(employees), "--seed", str(seed), stdout=StringIO())


def test_demo_opens_on_reconciled_findings_of_every_kind(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    demo()
    for group in ChatGroup.objects.filter(is_active=True):
        latest = group.snapshots.order_by("-taken_at").first()
        assert group.snapshots.count() == 2, group
        assert latest.reconciled_at is not None, group
    kinds = set(Finding.objects.values_list("kind", flat=True))
    Kind = Finding.Kind
    assert kinds >= {
        Kind.DEPARTED,
        Kind.STRANGER,
        Kind.NOT_REAL_NAME,
        Kind.AMBIGUOUS,
        Kind.MISSING,
        Kind.INELIGIBLE,
        Kind.LEFT_GROUP,
    }
    # §4: leisure is for everyone, so nobody there is ineligible.
    assert not Finding.objects.filter(group__code="leisure", kind=Kind.INELIGIBLE).exists()


def test_demo_run_twice_adds_no_snapshot_finding_or_run(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    demo()
    counts = (
        RosterSnapshot.objects.count(),
        Finding.objects.count(),
        ReconciliationRun.objects.count(),
    )
    demo()
    assert (
        RosterSnapshot.objects.count(),
        Finding.objects.count(),
        ReconciliationRun.objects.count(),
    ) == counts


def test_rosters_are_the_same_for_the_same_seed(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    demo()
    family = [ChatGroup.objects.get(code="work")]
    first = build_rosters(family, rng=random.Random("3:work"))
    again = build_rosters(family, rng=random.Random("3:work"))
    other = build_rosters(family, rng=random.Random("4:work"))
    assert first == again
    assert first != other


def test_groups_too_big_for_wechat_get_family_groups(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    demo()
    created = demo_family_groups(capacity=100)
    leisure = ChatGroup.objects.get(code="leisure")
    family = ChatGroup.objects.filter(family=leisure).order_by("code")
    assert set(created) >= set(family)
    assert [g.name for g in family][:2] == ["俊马欢乐谷2群", "俊马欢乐谷3群"]
    assert all(g.creator_id == leisure.creator_id for g in family)
    assert demo_family_groups(capacity=100) == []  # idempotent


def _rerun_queries() -> int:
    with CaptureQueriesContext(connection) as ctx:
        demo_rosters_apply(seed=3)
    return len(ctx.captured_queries)


def test_a_demo_rosters_rerun_costs_the_same_at_any_size(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    demo(300)
    small = _rerun_queries()
    demo(600)  # adds employees; leisure now needs a second group
    large = _rerun_queries()
    assert large <= small + 4, (small, large)  # one more group's existence check, not per member
