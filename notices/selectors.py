"""Reads of notices: a login's own notices, and how many are unread (the bell on /me/)."""

from __future__ import annotations

from django.db.models import QuerySet

from notices.models import Notice


def notices_of(user) -> QuerySet[Notice]:
    """The notices sent to ``user``'s login, newest first; nobody reads another's."""
    if user is None or user.pk is None:
        return Notice.objects.none()
    return Notice.objects.filter(recipient_id=user.pk).order_by("-created_at", "-pk")


def notices_unread_count(user) -> int:
    """How many of ``user``'s notices are unread (one query, on the recipient/read_at index)."""
    if user is None or user.pk is None:
        return 0
    return Notice.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
