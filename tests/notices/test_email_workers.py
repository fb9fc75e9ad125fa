"""Two workers never send one email twice: a row another worker holds is skipped (PostgreSQL's
SKIP LOCKED), and sent by whoever holds it. SQLite serialises its writers instead (IMMEDIATE
transactions), so this is a PostgreSQL test."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from notices.models import EmailDelivery, Notice
from notices.services import emails_send_due
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_an_email_another_worker_holds_is_skipped_not_sent_twice():
    if connection.vendor != "postgresql":
        pytest.skip("row locks that skip: PostgreSQL only (SQLite serialises its writers)")
    # Queued rows (made directly: here every write commits at once, and notice_post's
    # after-commit send would take them before the test's workers do).
    for n in range(2):
        user = UserFactory(username=f"w{n}", email=f"w{n}@example.com")
        notice = Notice.objects.create(recipient=user, title=f"通知{n}")
        EmailDelivery.objects.create(notice=notice, to=user.email, subject=f"通知{n}", body="-")
    held = EmailDelivery.objects.order_by("pk").first()
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(EmailDelivery.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert locked.wait(10)
    try:
        counts = emails_send_due()
    finally:
        release.set()
        worker.join(10)

    assert counts == {"sent": 1, "retrying": 0, "failed": 0}
    assert EmailDelivery.objects.get(pk=held.pk).status == EmailDelivery.Status.PENDING
    assert emails_send_due()["sent"] == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["w0@example.com", "w1@example.com"]
