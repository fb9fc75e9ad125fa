"""Notices and their emails: posted once per event to an active login, the email queued only
with an address, sent through Django's backend, a failed send recorded, retried with backoff,
marked failed after NOTICE_EMAIL_MAX_ATTEMPTS and retried by HR — never dropped silently."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from common.actors import SystemActor
from notices.models import EmailDelivery, Notice
from notices.services import (
    EMAIL_FOOTER,
    ERROR_RETRY_FORBIDDEN,
    NoticeError,
    emails_retry,
    emails_send_due,
    notice_post,
    retry_delay,
)
from notices.tasks import send_emails
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
FAILING = "tests.notices.test_emails.FailingBackend"
UNREACHABLE = "tests.notices.test_emails.UnreachableBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
Status = EmailDelivery.Status


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP 550 mailbox unavailable")


class UnreachableBackend(BaseEmailBackend):
    """A mail server that cannot be reached at all."""

    def open(self):
        raise TimeoutError("smtp.example.com:25 timed out")

    def send_messages(self, email_messages):  # never reached
        raise AssertionError("send after a failed open")


@pytest.fixture
def lina(seeded):
    return UserFactory(username="lina", is_staff=False, email="lina@example.com")


def post(user, key="case:1:confirmed", **kwargs):
    return notice_post(
        recipient=user,
        kind=Notice.Kind.CASE_CONFIRMED,
        title="你的违规案件 #1 已确认",
        body="扣分：2",
        url="/me/cases/1/",
        subject_key=key,
        **kwargs,
    )


# --- posting --------------------------------------------------------------------------------


def test_a_notice_with_an_address_queues_one_email(lina):
    notice = post(lina)

    delivery = EmailDelivery.objects.get()
    assert notice.recipient == lina
    assert notice.read_at is None
    assert (delivery.notice, delivery.to, delivery.status) == (notice, lina.email, Status.PENDING)
    assert delivery.subject == "【微信群管理】你的违规案件 #1 已确认"
    assert delivery.body == "扣分：2" + EMAIL_FOOTER


def test_the_email_links_to_the_notices_page_at_the_apps_address(lina, settings):
    settings.NOTICE_SITE_URL = "https://hr.junma.local/"
    post(lina)

    body = EmailDelivery.objects.get().body
    assert body == "扣分：2\n\n查看详情：https://hr.junma.local/me/cases/1/" + EMAIL_FOOTER


def test_without_the_apps_address_or_a_page_the_email_says_to_log_in(lina, settings):
    settings.NOTICE_SITE_URL = ""
    post(lina, key="a")  # a relative link opens nowhere from a mail reader
    settings.NOTICE_SITE_URL = "https://hr.junma.local"
    notice_post(recipient=lina, kind=Notice.Kind.CASE_CONFIRMED, title="无页面", body="说明")

    assert [d.body for d in EmailDelivery.objects.order_by("pk")] == [
        "扣分：2" + EMAIL_FOOTER,
        "说明" + EMAIL_FOOTER,
    ]


def test_the_same_event_tells_the_same_person_once(lina):
    first = post(lina)
    again = post(lina)

    assert again == first
    assert Notice.objects.count() == 1
    assert EmailDelivery.objects.count() == 1


def test_without_an_address_only_the_notice_is_posted(seeded):
    user = UserFactory(username="noaddress", email="")

    assert post(user) is not None
    assert not EmailDelivery.objects.exists()


def test_email_false_posts_no_email(lina):
    assert post(lina, email=False) is not None
    assert not EmailDelivery.objects.exists()


def test_nobody_is_told_without_an_active_login(seeded):
    leaver = UserFactory(username="leaver", email="leaver@example.com", is_active=False)

    assert post(None) is None
    assert post(leaver) is None
    assert not Notice.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_the_email_is_sent_after_commit(lina, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(lina)

    assert [m.to for m in mail.outbox] == [[lina.email]]
    assert EmailDelivery.objects.get().status == Status.SENT


# --- sending --------------------------------------------------------------------------------


def test_due_emails_are_sent_once(lina):
    post(lina)
    now = timezone.now()

    assert emails_send_due(now=now) == {"sent": 1, "retrying": 0, "failed": 0}
    assert emails_send_due(now=now) == {"sent": 0, "retrying": 0, "failed": 0}

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)
    assert delivery.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == delivery.subject


def test_the_task_sends_what_is_due(lina):
    post(lina)

    assert send_emails.delay().get() == {"sent": 1, "retrying": 0, "failed": 0}
    assert EmailDelivery.objects.get().status == Status.SENT


def test_an_email_due_later_waits(lina):
    post(lina)
    later = timezone.now() + dt.timedelta(minutes=5)
    EmailDelivery.objects.update(next_attempt_at=later)

    assert emails_send_due(now=later - dt.timedelta(seconds=1))["sent"] == 0
    assert emails_send_due(now=later)["sent"] == 1


def test_a_failed_send_is_recorded_logged_and_retried_later(lina, settings, caplog):
    settings.EMAIL_BACKEND = FAILING
    post(lina)
    now = timezone.now()

    with caplog.at_level(logging.WARNING, logger="notices.services"):
        assert emails_send_due(now=now) == {"sent": 0, "retrying": 1, "failed": 0}

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert delivery.last_error == "ConnectionRefusedError: SMTP 550 mailbox unavailable"
    assert delivery.next_attempt_at == now + dt.timedelta(minutes=5)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "mailbox unavailable" in caplog.records[0].getMessage()
    # Not due before its retry time: nothing tried.
    assert emails_send_due(now=now + dt.timedelta(minutes=4)) == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }
    # The server is back: the retry goes out.
    settings.EMAIL_BACKEND = LOCMEM
    assert emails_send_due(now=now + dt.timedelta(minutes=5))["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)


def test_the_backoff_doubles():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=10),
        dt.timedelta(minutes=20),
        dt.timedelta(minutes=40),
    ]


def test_after_the_last_attempt_the_email_is_failed_and_logged_as_an_error(lina, settings, caplog):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 3
    post(lina)
    now = timezone.now()

    with caplog.at_level(logging.WARNING, logger="notices.services"):
        for _ in range(3):
            emails_send_due(now=now)
            delivery = EmailDelivery.objects.get()
            now = delivery.next_attempt_at or now
        # Given up: never tried again by the schedule.
        assert emails_send_due(now=now + dt.timedelta(days=30))["failed"] == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert delivery.next_attempt_at is None
    assert "mailbox unavailable" in delivery.last_error
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING", "ERROR"]
    assert not mail.outbox


def test_an_unreachable_server_fails_every_email_of_the_batch(seeded, settings):
    settings.EMAIL_BACKEND = UNREACHABLE
    for n in range(3):
        post(UserFactory(username=f"u{n}", email=f"u{n}@example.com"))

    assert emails_send_due() == {"sent": 0, "retrying": 3, "failed": 0}
    assert set(EmailDelivery.objects.values_list("attempts", "last_error")) == {
        (1, "TimeoutError: smtp.example.com:25 timed out")
    }


def test_hr_retries_a_failed_email_now(lina, hr, settings):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 1
    post(lina)
    emails_send_due()
    assert EmailDelivery.objects.get().status == Status.FAILED

    settings.EMAIL_BACKEND = LOCMEM
    assert emails_retry(deliveries=EmailDelivery.objects.all(), actor=hr) == 1
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.next_attempt_at) == (Status.PENDING, None)
    assert emails_send_due()["sent"] == 1


def test_a_sent_email_is_never_retried(lina, hr):
    post(lina)
    emails_send_due()

    assert emails_retry(deliveries=EmailDelivery.objects.all(), actor=hr) == 0
    assert EmailDelivery.objects.get().status == Status.SENT
    assert len(mail.outbox) == 1


def test_only_hr_retries(lina):
    post(lina)
    with pytest.raises(NoticeError, match=ERROR_RETRY_FORBIDDEN):
        emails_retry(deliveries=EmailDelivery.objects.all(), actor=lina)
    with pytest.raises(TypeError):
        emails_retry(deliveries=EmailDelivery.objects.all(), actor=None)
    assert emails_retry(deliveries=EmailDelivery.objects.all(), actor=SystemActor("test")) == 1


# --- the admin ------------------------------------------------------------------------------


def test_hr_sees_the_emails_and_retries_from_the_list(client, lina, hr, settings):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 1
    post(lina)
    emails_send_due()
    delivery = EmailDelivery.objects.get()
    client.force_login(hr)
    url = reverse("admin:notices_emaildelivery_changelist")

    page = client.get(url, {"status__exact": "failed", "q": "lina@"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [delivery]
    assert "立即重试" in page.content.decode()
    assert (
        client.get(reverse("admin:notices_emaildelivery_change", args=[delivery.pk])).status_code
        == 200
    )

    client.post(url, {"action": "retry_now", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (Status.PENDING, None)


def test_the_email_list_is_read_only(client, lina, hr):
    post(lina)
    delivery = EmailDelivery.objects.get()
    client.force_login(hr)

    change = reverse("admin:notices_emaildelivery_change", args=[delivery.pk])
    assert client.post(change, {"to": "evil@example.com"}).status_code == 403
    assert client.get(reverse("admin:notices_emaildelivery_add")).status_code == 403
    assert (
        client.get(reverse("admin:notices_emaildelivery_delete", args=[delivery.pk])).status_code
        == 403
    )
    assert EmailDelivery.objects.get().to == lina.email


@pytest.mark.parametrize("persona", ["finance", "department_head", "group_admin"])
def test_other_staff_do_not_see_the_emails(client, lina, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("admin:notices_emaildelivery_changelist")).status_code == 403


def test_the_email_list_query_count_is_flat(client, seeded, hr, django_assert_max_num_queries):
    for n in range(20):
        post(UserFactory(username=f"m{n}", email=f"m{n}@example.com"))
    client.force_login(hr)

    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:notices_emaildelivery_changelist")).status_code == 200
