"""notices 0003 (the digest) migrates backwards even once digests exist: they carry no
notice, and EmailDelivery.notice is NOT NULL again before 0003 (its reverse-only step)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notices.models import EmailDelivery, Notice
from tests.factories import UserFactory

BEFORE_DIGESTS = ("notices", "0002_list_indexes")


def migrate(target: tuple[str, str]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor


@pytest.mark.django_db(transaction=True)
def test_notices_migrate_back_before_the_digest_and_forward_again():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("notices")[0]
    user = UserFactory(username="lina", email="lina@example.com")
    notice = Notice.objects.create(recipient=user, title="案件已确认", kind="case_confirmed")
    EmailDelivery.objects.create(notice=notice, recipient=user, to=user.email, subject="紧急")
    digest = EmailDelivery.objects.create(recipient=user, day="2026-12-07", to=user.email)
    Notice.objects.filter(pk=notice.pk).update(digest=digest)
    try:
        executor = migrate(BEFORE_DIGESTS)
        old = executor.loader.project_state(BEFORE_DIGESTS).apps
        # The urgent mail stays (it has its notice); the digest is gone.
        assert list(old.get_model("notices", "EmailDelivery").objects.values_list("subject")) == [
            ("紧急",)
        ]
    finally:
        migrate(latest)
    assert Notice.objects.get().pk == notice.pk
    assert EmailDelivery.objects.get().recipient == user  # 0004 fills it in again
