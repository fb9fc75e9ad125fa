"""Telling people: post an in-app notice, and send its email (a second channel).

Every other app tells someone through ``notice_post``: the notice is the record that the
person was told (a case's appeal clock may start from it). The email is queued with it and
sent once the transaction commits; a failed send is recorded with its error and retried by
the ``notices.send_emails`` task (every 5 minutes), up to NOTICE_EMAIL_MAX_ATTEMPTS times,
never dropped silently.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from notices.models import EmailDelivery, Notice

log = logging.getLogger(__name__)

EMAIL_FOOTER = "\n\n——\n此邮件由微信群合规管理系统发出，请登录系统查看详情。"


def notice_post(
    *,
    recipient,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subject_key: str = "",
    email: bool = True,
) -> Notice | None:
    """Tell ``recipient`` (a login) something; returns the notice, or None when nobody can be
    told (no login, or an inactive one: a leaver is told nothing).

    The same ``subject_key`` never tells the same person twice (returns the first notice).
    With ``email`` and an address on the login, an email is queued and sent after commit.
    """
    if recipient is None or not recipient.is_active:
        return None
    try:
        with transaction.atomic():
            notice, created = (
                Notice.objects.get_or_create(
                    recipient=recipient,
                    subject_key=subject_key,
                    defaults={"kind": kind, "title": title, "body": body, "url": url},
                )
                if subject_key
                else (
                    Notice.objects.create(
                        recipient=recipient, kind=kind, title=title, body=body, url=url
                    ),
                    True,
                )
            )
    except IntegrityError:  # the same event told at once by two workers: the first one won
        return Notice.objects.get(recipient=recipient, subject_key=subject_key)
    if created and email and recipient.email:
        EmailDelivery.objects.create(
            notice=notice,
            to=recipient.email,
            subject=f"【微信群管理】{title}",
            body=body + EMAIL_FOOTER,
        )
        transaction.on_commit(_send_soon)
    return notice


def _send_soon() -> None:
    # Imported here: the task module imports this one.
    from notices.tasks import send_emails

    try:
        send_emails.delay()
    except Exception:  # the broker is down: the beat schedule's next pass sends it
        log.warning("notices: could not queue send_emails; the schedule will retry", exc_info=True)
