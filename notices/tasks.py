"""Celery tasks of notices: thin wrappers over notices.services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notices.send_emails")
def send_emails() -> dict:
    from notices.services import emails_send_due

    return emails_send_due()


@shared_task(name="notices.send_digests")
def send_digests() -> dict:
    """Each evening (beat): write today's digest of each person, then send what is due
    (a failure stays for send_emails' retries). Run twice, it mails nobody twice."""
    from notices.services import emails_send_due
    from notices.services.digests import digests_compose

    written = digests_compose()
    return {"digests": written, **emails_send_due()}
