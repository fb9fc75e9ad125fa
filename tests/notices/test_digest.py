"""The daily email digest (issue 14, point 3): one mail per person per day listing that day's
unread notices — whatever the number of events, however often the task runs; a failed send
recorded and retried, then sent; nobody who turned email off is mailed; the clock-starting
case notices mailed at once instead (URGENT_KINDS), their clocks still counted from the
in-app notice."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from celery.schedules import crontab
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from notices.models import EmailDelivery, EmailPreference, Notice
from notices.services import (
    EMAIL_FOOTER,
    URGENT_KINDS,
    emails_retry,
    emails_send_due,
    notice_post,
)
from notices.services.digests import (
    DIGEST_LOOKBACK,
    DIGEST_SCHEDULE,
    digests_compose,
    next_digest_at,
)
from notices.tasks import send_digests
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = EmailDelivery.Status
FAILING = "tests.notices.test_digest.FailingBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
# 2026-12-07 18:00 in Shanghai.
EVENING = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP 550 mailbox unavailable")


@pytest.fixture
def lina(seeded):
    return EmployeeFactory(
        name="李娜", user=UserFactory(username="lina", email="lina@example.com", is_staff=False)
    ).user


@pytest.fixture
def wang(seeded):
    return UserFactory(username="wang", email="wang@example.com")


def tell(user, n: int, kind=Notice.Kind.ROSTER_TODO, **kwargs) -> Notice:
    notice = notice_post(
        recipient=user,
        kind=kind,
        title=f"通知{n}",
        body=f"内容{n}",
        url=f"/me/cases/{n}/",
        subject_key=f"test:{n}",
        **kwargs,
    )
    assert notice is not None
    return notice


def told_at(notices: list[Notice], at: dt.datetime) -> None:
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(created_at=at)


def test_events_wait_for_the_digest_no_mail_per_event(lina, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = tell(lina, 1)

    assert notice.in_digest
    assert not EmailDelivery.objects.exists()
    assert not mail.outbox


def test_one_mail_per_person_per_day_listing_their_unread_notices(lina, wang, settings):
    settings.NOTICE_SITE_URL = "https://hr.junma.local"
    mine = [tell(lina, n) for n in (1, 2, 3)]
    read = tell(lina, 4)
    Notice.objects.filter(pk=read.pk).update(read_at=timezone.now())
    theirs = [tell(wang, 5)]
    told_at([*mine, read, *theirs], EVENING - dt.timedelta(hours=3))

    assert digests_compose(now=EVENING) == 2
    assert emails_send_due(now=EVENING)["sent"] == 2

    assert sorted(m.to[0] for m in mail.outbox) == ["lina@example.com", "wang@example.com"]
    digest = EmailDelivery.objects.get(recipient=lina)
    assert digest.day == dt.date(2026, 12, 7)
    assert digest.subject == "【微信群管理】每日通知摘要：2026年12月7日（3 条未读）"
    assert digest.body.startswith(
        "李娜，你好：\n\n以下是你尚未阅读的 3 条通知（截至 2026年12月7日 18:00）："
    )
    for n in (1, 2, 3):
        assert f"通知{n}（12月7日 15:00）" in digest.body
        assert f"查看详情：https://hr.junma.local/me/cases/{n}/" in digest.body
    assert "通知4" not in digest.body  # read already
    assert "全部通知：https://hr.junma.local/me/notices/" in digest.body
    assert digest.body.endswith(EMAIL_FOOTER)
    assert set(Notice.objects.filter(recipient=lina, digest=digest)) == set(mine)


def test_the_digest_twice_the_same_day_mails_each_person_once(lina):
    told_at([tell(lina, 1)], EVENING - dt.timedelta(hours=1))
    assert digests_compose(now=EVENING) == 1
    # Another notice after the evening's digest: it waits for tomorrow's, no second mail today.
    told_at([later := tell(lina, 2)], EVENING + dt.timedelta(minutes=30))

    assert digests_compose(now=EVENING + dt.timedelta(hours=1)) == 0
    emails_send_due(now=EVENING + dt.timedelta(hours=1))
    assert EmailDelivery.objects.filter(recipient=lina, day=dt.date(2026, 12, 7)).count() == 1

    tomorrow = EVENING + dt.timedelta(days=1)
    assert digests_compose(now=tomorrow) == 1
    later.refresh_from_db()
    assert later.digest.day == dt.date(2026, 12, 8)


def test_the_task_writes_the_digests_and_sends_them(lina):
    tell(lina, 1)

    assert send_digests.delay().get() == {"digests": 1, "sent": 1, "retrying": 0, "failed": 0}
    assert send_digests.delay().get() == {"digests": 0, "sent": 0, "retrying": 0, "failed": 0}
    assert [m.to for m in mail.outbox] == [["lina@example.com"]]


def test_the_person_and_day_are_unique_in_the_database(lina):
    EmailDelivery.objects.create(
        recipient=lina, day=EVENING.date(), to=lina.email, subject="a", body="-"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        EmailDelivery.objects.create(
            recipient=lina, day=EVENING.date(), to=lina.email, subject="b", body="-"
        )


def test_a_failed_digest_is_recorded_retried_and_then_sent(lina, hr, settings, caplog):
    told_at([tell(lina, 1)], EVENING - dt.timedelta(hours=1))
    settings.EMAIL_BACKEND = FAILING
    digests_compose(now=EVENING)

    with caplog.at_level(logging.WARNING, logger="notices.services"):
        assert emails_send_due(now=EVENING) == {"sent": 0, "retrying": 1, "failed": 0}
    digest = EmailDelivery.objects.get()
    assert (digest.status, digest.attempts) == (Status.PENDING, 1)
    assert "mailbox unavailable" in digest.last_error
    assert digest.next_attempt_at == EVENING + dt.timedelta(minutes=5)
    assert "mailbox unavailable" in caplog.records[0].getMessage()
    # Failed again later; HR retries it by hand once the server is back.
    emails_send_due(now=digest.next_attempt_at)
    settings.EMAIL_BACKEND = LOCMEM
    assert emails_retry(deliveries=EmailDelivery.objects.all(), actor=hr) == 1
    assert emails_send_due(now=EVENING + dt.timedelta(minutes=6))["sent"] == 1

    digest.refresh_from_db()
    assert (digest.status, digest.attempts) == (Status.SENT, 3)
    assert [m.to for m in mail.outbox] == [["lina@example.com"]]
    # Sent: the next run of the day writes no second digest.
    assert digests_compose(now=EVENING + dt.timedelta(hours=1)) == 0


def test_whoever_turned_email_off_gets_no_digest_but_keeps_the_notices(lina, wang):
    EmailPreference.objects.create(user=lina, email_on=False)
    told_at([tell(lina, 1), tell(wang, 2)], EVENING - dt.timedelta(hours=1))

    assert digests_compose(now=EVENING) == 1
    assert list(EmailDelivery.objects.values_list("to", flat=True)) == ["wang@example.com"]
    assert Notice.objects.filter(recipient=lina, read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "case",
    ["no address", "inactive", "email=False", "too old", "another digest's"],
)
def test_who_and_what_the_digest_leaves_out(lina, case):
    notice = tell(lina, 1, email=case != "email=False")
    at = EVENING - (
        DIGEST_LOOKBACK + dt.timedelta(hours=1) if case == "too old" else dt.timedelta(hours=1)
    )
    told_at([notice], at)
    if case == "no address":
        type(lina).objects.filter(pk=lina.pk).update(email="")
    if case == "inactive":
        type(lina).objects.filter(pk=lina.pk).update(is_active=False)
    if case == "another digest's":
        earlier = EmailDelivery.objects.create(
            recipient=lina, day=dt.date(2026, 12, 6), to=lina.email, subject="昨天", body="-"
        )
        Notice.objects.filter(pk=notice.pk).update(digest=earlier)

    assert digests_compose(now=EVENING) == 0
    assert not EmailDelivery.objects.filter(day=EVENING.date()).exists()


def test_urgent_case_notices_are_mailed_at_once_and_not_again_in_the_digest(
    lina, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notice = tell(lina, 1, kind=Notice.Kind.CASE_CONFIRMED)

    assert not notice.in_digest
    assert [m.to for m in mail.outbox] == [["lina@example.com"]]
    assert EmailDelivery.objects.get().notice == notice
    told_at([notice], EVENING - dt.timedelta(hours=1))
    assert digests_compose(now=EVENING) == 0


def test_urgent_mail_honours_the_opt_out_too(lina):
    EmailPreference.objects.create(user=lina, email_on=False)

    assert tell(lina, 1, kind=Notice.Kind.CASE_PROPOSED) is not None
    assert not EmailDelivery.objects.exists()


def test_the_digest_query_count_is_flat_as_people_grow(seeded, django_assert_num_queries):
    def people(start: int, count: int) -> None:
        for n in range(start, start + count):
            user = UserFactory(username=f"p{n}", email=f"p{n}@example.com")
            told_at([tell(user, 10 * n), tell(user, 10 * n + 1)], EVENING - dt.timedelta(hours=1))

    people(0, 2)
    # The waiting notices, one INSERT, the read back, one UPDATE (and the savepoint's two).
    with django_assert_num_queries(6) as few:
        assert digests_compose(now=EVENING) == 2
    people(2, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        assert digests_compose(now=EVENING) == 30


def test_a_caller_may_mark_one_notice_urgent(lina, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = tell(lina, 1, urgent=True)  # e.g. a to-do due before the evening's digest

    assert not notice.in_digest
    assert [m.to for m in mail.outbox] == [["lina@example.com"]]
    assert tell(lina, 2, urgent=False).in_digest  # the kind's own urgency otherwise


def test_deadline_reminders_are_urgent():
    assert Notice.Kind.DEADLINE_REMINDER in URGENT_KINDS


def test_the_next_digest_follows_the_beat_schedule(settings):
    shanghai = timezone.get_default_timezone()

    def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 12, day, hour, minute, tzinfo=shanghai)

    assert next_digest_at(local(7, 10)) == local(7, 17, 30)
    assert next_digest_at(local(7, 17, 30)) == local(8, 17, 30)  # this one is being written
    assert next_digest_at(local(7, 23)) == local(8, 17, 30)
    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        DIGEST_SCHEDULE: {"task": "notices.send_digests", "schedule": crontab(hour=8, minute=0)},
    }
    assert next_digest_at(local(7, 10)) == local(8, 8)


def test_a_run_delayed_past_midnight_is_the_evenings_digest(lina):
    # The 17:30 run of Dec 7 is held up (a worker down) and runs at 00:30 on Dec 8, Shanghai.
    told_at([tell(lina, 1)], EVENING - dt.timedelta(hours=1))
    after_midnight = dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC)
    assert digests_compose(now=after_midnight) == 1
    assert EmailDelivery.objects.get().day == dt.date(2026, 12, 7)
    # Dec 8's own evening digest still goes out: no day is skipped.
    told_at([later := tell(lina, 2)], after_midnight + dt.timedelta(hours=2))
    assert digests_compose(now=EVENING + dt.timedelta(days=1)) == 1
    later.refresh_from_db()
    assert later.digest.day == dt.date(2026, 12, 8)
