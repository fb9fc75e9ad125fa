"""Celery tasks of notices: thin wrappers over notices.services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notices.send_emails")
def send_emails() -> dict:
    from notices.services import emails_send_due

    return emails_send_due()
