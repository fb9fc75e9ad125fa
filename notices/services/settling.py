"""A notice whose request is done or moot is settled: an approver told that an announcement
waits for them, once the step is decided by someone (a fellow leader, a delegate) or the
author withdraws it, no longer asks them for anything. Its unread copies are marked read, so
the bell stops counting them and the evening digest does not mail a request that is over
(docs/notices.md). The notices stay in 我的通知 as the record of what was asked."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from notices.models import Notice


def notices_settle(
    *,
    keys: Iterable[str] = (),
    key_prefixes: Iterable[str] = (),
    recipient_ids: Iterable[int] | None = None,
) -> int:
    """Mark read every unread notice whose subject key is one of ``keys`` or starts with one
    of ``key_prefixes`` — of ``recipient_ids`` only when given (a step escalated past some
    of its approvers); returns how many. One UPDATE."""
    match = Q(subject_key__in=list(keys))
    for prefix in key_prefixes:
        match |= Q(subject_key__startswith=prefix)
    notices = Notice.objects.filter(match, read_at__isnull=True)
    if recipient_ids is not None:
        notices = notices.filter(recipient_id__in=list(recipient_ids))
    return notices.update(read_at=timezone.now())
