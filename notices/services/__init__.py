"""Telling people: post an in-app notice; email is a second channel (docs/notices.md).

Every other app tells someone through ``notice_post``: the notice is the record that the
person was told (a case's appeal clock may start from it, never from an email). Email goes
out as one daily digest per person (notices.services.digests: the notices of the day still
unread), except a notice that starts a clock for its reader (URGENT_KINDS), mailed at once
after the transaction commits. Nobody who turned email off (EmailPreference) is mailed.
Every email is an EmailDelivery row: a failed send is recorded with its error and retried by
the ``notices.send_emails`` task (every 5 minutes), up to NOTICE_EMAIL_MAX_ATTEMPTS times,
never dropped silently: each failure is logged (a warning, the last one an error) and the
row stays in the admin's 邮件发送记录 with its error, where HR may try it again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.actors import Actor, actor_may, require_actor
from common.exceptions import ServiceError
from notices.models import EmailDelivery, EmailPreference, Notice

log = logging.getLogger(__name__)

EMAIL_FOOTER = "\n\n——\n此邮件由微信群合规管理系统发出，请登录系统查看详情。"
EMAIL_SUBJECT = "【微信群管理】{title}"
# The first retry 5 minutes after a failure, then 10, 20, 40 …: a mail server that is down
# for an hour is not hammered, and one that hiccuped is tried again soon.
RETRY_FIRST_DELAY = dt.timedelta(minutes=5)
# Rows sent per transaction: the locks are held while the mail server answers.
SEND_BATCH = 50
RETRY_PERMISSION = "notices.change_emaildelivery"
# Notices that start a clock for their reader are mailed at once, not in the evening's digest:
# a proposal opens the CASE_EXPLANATION_WORKING_DAYS window to explain (one working day by
# default, shorter than a digest may take), a confirmation the appeal window (§7.1). Both
# clocks count from the in-app notice (violations.services.telling), never from the email.
# A deadline reminder (§7.2 directives, §9.9 questions) is sent one working day before the
# deadline: in the evening's digest it could arrive after it, when a case is already proposed.
URGENT_KINDS = frozenset(
    {Notice.Kind.CASE_PROPOSED, Notice.Kind.CASE_CONFIRMED, Notice.Kind.DEADLINE_REMINDER}
)

ERROR_NOT_YOURS = "这条通知不是发给你的。"
ERROR_RETRY_FORBIDDEN = "只有人力资源部可以重新发送邮件。"
ERROR_PREFERENCE_NOT_YOURS = "只能设置自己是否接收邮件。"


class NoticeError(ServiceError):
    """A refused notices action; the message says why."""


def notice_post(
    *,
    recipient,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subject_key: str = "",
    email: bool = True,
    urgent: bool = False,
) -> Notice | None:
    """Tell ``recipient`` (a login) something; returns the notice, or None when nobody can be
    told (no login, or an inactive one: a leaver is told nothing).

    The same ``subject_key`` never tells the same person twice (returns the first notice,
    and queues no second email). With ``email``, the notice waits for the person's daily
    digest (digests.digests_compose); an urgent one (its kind in URGENT_KINDS, or ``urgent``:
    the caller knows the digest comes too late, e.g. a deadline before the next digest) is
    mailed instead, queued in the caller's transaction and sent after it commits
    (emails_send_due) — when the login has an address and its owner has not turned email off.
    """
    if recipient is None or not recipient.is_active:
        return None
    title = title[: Notice._meta.get_field("title").max_length]
    urgent = urgent or kind in URGENT_KINDS
    fields = {
        "kind": kind,
        "title": title,
        "body": body,
        "url": url,
        "in_digest": email and not urgent,
    }
    try:
        with transaction.atomic():
            if subject_key:
                notice, created = Notice.objects.get_or_create(
                    recipient=recipient, subject_key=subject_key, defaults=fields
                )
            else:
                notice, created = Notice.objects.create(recipient=recipient, **fields), True
    except IntegrityError:  # the same event told at once by two workers: the first one won
        return Notice.objects.get(recipient=recipient, subject_key=subject_key)
    if created and email and urgent and recipient.email and email_wanted(recipient):
        subject = EMAIL_SUBJECT.format(title=title)
        EmailDelivery.objects.create(
            notice=notice,
            recipient=recipient,
            to=recipient.email,
            subject=subject[: EmailDelivery._meta.get_field("subject").max_length],
            body=body + email_link(url) + EMAIL_FOOTER,
        )
        transaction.on_commit(_send_soon)
    return notice


def email_wanted(user) -> bool:
    """Whether ``user`` wants email (they have not turned it off on 我的通知). One query."""
    return not EmailPreference.objects.filter(user_id=user.pk, email_on=False).exists()


@transaction.atomic
def email_preference_set(*, user, email_on: bool, actor: Actor) -> EmailPreference:
    """A person turns their own email on or off (the digest and urgent mails alike); the
    in-app notices go on either way. Nobody sets another's (NoticeError)."""
    require_actor(actor)
    if actor.pk is None or actor.pk != user.pk:
        raise NoticeError(ERROR_PREFERENCE_NOT_YOURS)
    preference, _ = EmailPreference.objects.update_or_create(
        user=user, defaults={"email_on": email_on}
    )
    return preference


def site_url(path: str) -> str:
    """``path`` on this app as a mail reader opens it (NOTICE_SITE_URL), "" without one."""
    if path.startswith(("http://", "https://")):
        return path
    site = settings.NOTICE_SITE_URL.rstrip("/")
    return f"{site}/{path.lstrip('/')}" if site else ""


def email_link(url: str) -> str:
    """The line that takes an email's reader to the notice's page: the app's own path under
    NOTICE_SITE_URL (a mail reader opens no relative link), nothing without one."""
    url = site_url(url) if url else ""
    return f"\n\n查看详情：{url}" if url else ""


def _send_soon() -> None:
    # Imported here: the task module imports this one.
    from notices.tasks import send_emails

    try:
        send_emails.delay()
    except Exception:  # the broker is down: the beat schedule's next pass sends it
        log.warning("notices: could not queue send_emails; the schedule will retry", exc_info=True)


# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------


def retry_delay(attempts: int) -> dt.timedelta:
    """How long after its ``attempts``-th failure an email is tried again (5 min × 2^(n-1))."""
    return RETRY_FIRST_DELAY * 2 ** max(attempts - 1, 0)


def emails_due(now: dt.datetime):
    """The emails waiting to be sent at ``now``: pending, never tried or their retry due."""
    return EmailDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=EmailDelivery.Status.PENDING,
    )


def emails_send_due(*, now: dt.datetime | None = None) -> dict:
    """Send every email due at ``now`` through Django's email backend; returns the counts
    {"sent", "retrying", "failed"} (failed: given up after NOTICE_EMAIL_MAX_ATTEMPTS).

    Guarantees: two workers never send one email twice — each batch is taken under row
    locks that skip what another worker holds (PostgreSQL); SQLite takes its write lock at
    BEGIN (transaction_mode IMMEDIATE), so there the workers queue. A failed send is never
    dropped: its attempts, error and next try are recorded and logged, and after the last
    attempt the row is marked failed (logged as an error) and stays for HR to retry.
    """
    now = now or timezone.now()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    while True:
        with transaction.atomic():
            batch = list(
                emails_due(now).select_for_update(skip_locked=True).order_by("pk")[:SEND_BATCH]
            )
            if batch:
                _send_batch(batch, now, counts)
        # Every row handled is sent, failed or due later than now: the loop ends.
        if len(batch) < SEND_BATCH:
            return counts


def _send_batch(batch: list[EmailDelivery], now: dt.datetime, counts: dict) -> None:
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # the server cannot be reached: every row of the batch failed
        for delivery in batch:
            _record_failure(delivery, error, now, counts)
        return
    try:
        for delivery in batch:
            message = EmailMessage(
                subject=delivery.subject,
                body=delivery.body,
                to=[delivery.to],
                connection=connection,
            )
            try:
                message.send(fail_silently=False)
            except Exception as error:  # any backend's failure is this row's, recorded
                _record_failure(delivery, error, now, counts)
            else:
                delivery.status = EmailDelivery.Status.SENT
                delivery.sent_at = timezone.now()
                delivery.attempts += 1
                delivery.next_attempt_at = None
                delivery.save(update_fields=["status", "sent_at", "attempts", "next_attempt_at"])
                counts["sent"] += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection: the rows are already recorded
            log.warning("notices: could not close the email connection", exc_info=True)


def _record_failure(
    delivery: EmailDelivery, error: Exception, now: dt.datetime, counts: dict
) -> None:
    delivery.attempts += 1
    delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
    if delivery.attempts >= settings.NOTICE_EMAIL_MAX_ATTEMPTS:
        delivery.status = EmailDelivery.Status.FAILED
        delivery.next_attempt_at = None
        counts["failed"] += 1
        log.error(
            "notices: email %s to %s failed %s times, given up: %s",
            delivery.pk,
            delivery.to,
            delivery.attempts,
            delivery.last_error,
        )
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        counts["retrying"] += 1
        log.warning(
            "notices: email %s to %s failed (attempt %s), retrying at %s: %s",
            delivery.pk,
            delivery.to,
            delivery.attempts,
            delivery.next_attempt_at.isoformat(),
            delivery.last_error,
        )
    delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


@transaction.atomic
def emails_retry(*, deliveries: Iterable[EmailDelivery], actor: Actor) -> int:
    """HR's 立即重试: the chosen emails not yet sent are due now again (a failed one pending,
    for one more attempt); returns how many. Sent ones are left alone (never sent twice)."""
    if not actor_may(actor, RETRY_PERMISSION):
        raise NoticeError(ERROR_RETRY_FORBIDDEN)
    pks = [delivery.pk for delivery in deliveries]
    count = (  # one UPDATE: a row a worker is sending right now is sent, and excluded here
        EmailDelivery.objects.filter(pk__in=pks)
        .exclude(status=EmailDelivery.Status.SENT)
        .update(status=EmailDelivery.Status.PENDING, next_attempt_at=None)
    )
    if count:
        transaction.on_commit(_send_soon)
    return count


# ---------------------------------------------------------------------------
# Reading one's notices
# ---------------------------------------------------------------------------


@transaction.atomic
def notice_read(*, notice: Notice, actor: Actor) -> Notice:
    """The recipient opened ``notice``: it is read (the first time counts)."""
    require_actor(actor)
    if notice.recipient_id != actor.pk:
        raise NoticeError(ERROR_NOT_YOURS)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


@transaction.atomic
def notices_read_all(*, actor: Actor) -> int:
    """全部标为已读: every unread notice of the actor's login is read now; returns how many."""
    require_actor(actor)
    if actor.pk is None:  # the system has no notices
        return 0
    return Notice.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
