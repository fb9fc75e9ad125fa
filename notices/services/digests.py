"""The daily email digest (issue 14, point 3): one mail per person per day listing their
notices still unread, instead of one mail per event (docs/notices.md).

``digests_compose`` runs from the beat schedule (notices.send_digests, each evening) and
writes one EmailDelivery per person for the day; the existing machinery sends it, records a
failure and retries it (notices.services.emails_send_due), and HR may retry it by hand.

Guarantees:
- one digest per person and day however often it runs: the row is unique on (recipient,
  day), a person with today's digest is skipped, and a notice carried by one digest
  (Notice.digest) is never listed again;
- only notices posted for email (Notice.in_digest: not the urgent ones, mailed at once,
  nor those posted with email=False), unread when the digest is written, from the last
  DIGEST_LOOKBACK (a day the schedule missed is caught up, never a year of history);
- nobody without an address, with an inactive login, or who turned email off
  (EmailPreference) is mailed — their notices stay on their page;
- the queries are flat in the number of people: one read of the waiting notices, one
  INSERT per DIGEST_BATCH digests, one read back, one UPDATE per batch linking the notices.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from common.dates import day_text
from common.db import update_from_values
from notices.models import EmailDelivery, EmailPreference, Notice
from notices.services import EMAIL_FOOTER, EMAIL_SUBJECT, site_url

# A digest lists what arrived since the last one; after a schedule outage, at most this far back.
DIGEST_LOOKBACK = dt.timedelta(days=7)
DIGEST_BATCH = 500
DIGEST_TITLE = "每日通知摘要：{day}（{count} 条未读）"
DIGEST_GREETING = "{name}，你好：\n\n以下是你尚未阅读的 {count} 条通知（截至 {day} {time}）："
DIGEST_ALL = "全部通知：{url}"
DIGEST_OPT_OUT = "不想再收到邮件，可在“我的通知”页面关闭邮件提醒（站内通知照常显示）。"
# The beat entry that writes the digests (config/settings/base.py): its hours and minutes
# are when a notice left for the digest reaches a mailbox.
DIGEST_SCHEDULE = "notices-daily-digest"
# The digest is scheduled each evening (17:30): a run before this local hour is that
# evening's run delayed past midnight (a worker down, a backlog), and carries its day —
# else the day would have no digest and the next evening's would be a second one.
DIGEST_DAY_ENDS_AT = dt.time(12)


def digest_day(now: dt.datetime) -> dt.date:
    """The day a digest written at ``now`` is for: the local date, or the day before when it
    runs before DIGEST_DAY_ENDS_AT (the evening's run, late)."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    if local.time() < DIGEST_DAY_ENDS_AT:
        return local.date() - dt.timedelta(days=1)
    return local.date()


def next_digest_at(now: dt.datetime) -> dt.datetime:
    """When the next digest is written after ``now``, by the beat schedule's crontab
    (settings.CELERY_BEAT_SCHEDULE[DIGEST_SCHEDULE], local time, daily)."""
    schedule = settings.CELERY_BEAT_SCHEDULE[DIGEST_SCHEDULE]["schedule"]
    times = sorted(dt.time(hour, minute) for hour in schedule.hour for minute in schedule.minute)
    zone = timezone.get_default_timezone()
    local = timezone.localtime(now, zone)
    later = [t for t in times if t > local.time()]
    day = local.date() if later else local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, (later or times)[0]), zone)


def digest_waiting(*, now: dt.datetime, day: dt.date) -> QuerySet[Notice]:
    """The notices a digest of ``day`` written at ``now`` carries: posted for email, not yet
    carried, unread, from the last DIGEST_LOOKBACK, to a person who can and wants to be
    mailed and has no digest for ``day`` yet; by person, oldest first."""
    turned_off = EmailPreference.objects.filter(user_id=OuterRef("recipient_id"), email_on=False)
    has_today = EmailDelivery.objects.filter(recipient_id=OuterRef("recipient_id"), day=day)
    return (
        Notice.objects.filter(
            in_digest=True,
            digest__isnull=True,
            read_at__isnull=True,
            created_at__gte=now - DIGEST_LOOKBACK,
            created_at__lte=now,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .exclude(Exists(turned_off))
        .exclude(Exists(has_today))
        .select_related("recipient__employee")
        .order_by("recipient_id", "created_at", "pk")
    )


@transaction.atomic
def digests_compose(*, now: dt.datetime | None = None) -> int:
    """Write the day's digest (digest_day) of each person with notices waiting
    (digest_waiting); returns how many were written. They are sent by emails_send_due (the
    task calls it next)."""
    now = now or timezone.now()
    day = digest_day(now)
    by_person: dict[int, list[Notice]] = defaultdict(list)
    for notice in digest_waiting(now=now, day=day):
        by_person[notice.recipient_id].append(notice)
    if not by_person:
        return 0
    EmailDelivery.objects.bulk_create(
        [_digest(notices, now, day) for notices in by_person.values()],
        batch_size=DIGEST_BATCH,
        # A second run at the same moment (two beats): its rows lose to these, or these to its.
        ignore_conflicts=True,
    )
    # The digests written now are those of today listing no notice yet (an earlier run's
    # lists its notices: it linked them in its own transaction).
    written = dict(
        EmailDelivery.objects.filter(day=day, digest_notices__isnull=True).values_list(
            "recipient_id", "pk"
        )
    )
    carried = []
    for person, notices in by_person.items():
        if person in written:
            for notice in notices:
                notice.digest_id = written[person]
                carried.append(notice)
    update_from_values(Notice, carried, ["digest"])
    return sum(1 for person in by_person if person in written)


def _digest(notices: list[Notice], now: dt.datetime, day: dt.date) -> EmailDelivery:
    recipient = notices[0].recipient
    employee = getattr(recipient, "employee", None)
    name = employee.name if employee is not None else recipient.get_username()
    local = timezone.localtime(now, timezone.get_default_timezone())
    lines = [
        DIGEST_GREETING.format(
            name=name, count=len(notices), day=day_text(local.date()), time=f"{local:%H:%M}"
        )
    ]
    for number, notice in enumerate(notices, start=1):
        at = timezone.localtime(notice.created_at, timezone.get_default_timezone())
        lines.append("")
        lines.append(f"{number}. {notice.title}（{at.month}月{at.day}日 {at:%H:%M}）")
        if notice.body:
            lines.extend(f"   {line}" for line in notice.body.splitlines())
        link = site_url(notice.url) if notice.url else ""
        if link:
            lines.append(f"   查看详情：{link}")
    everything = site_url(_notice_list_path())
    if everything:
        lines.extend(["", DIGEST_ALL.format(url=everything)])
    lines.extend(["", DIGEST_OPT_OUT])
    subject = EMAIL_SUBJECT.format(title=DIGEST_TITLE.format(day=day_text(day), count=len(notices)))
    return EmailDelivery(
        recipient=recipient,
        day=day,
        to=recipient.email,
        subject=subject[: EmailDelivery._meta.get_field("subject").max_length],
        body="\n".join(lines) + EMAIL_FOOTER,
    )


def _notice_list_path() -> str:
    try:
        return reverse("me:notice_list")
    except NoReverseMatch:  # the /me/ pages are not mounted (a bare notices install)
        return ""
