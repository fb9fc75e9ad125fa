"""Dates and times as people read them here, in words the services write into notices,
emails and messages: 2026年11月24日, 2026年11月24日 10:00 — a time in the company's zone
(Asia/Shanghai), whatever zone or language is active (a Celery worker has neither a request
nor its language). Pages format through DATE_FORMAT/DATETIME_FORMAT (config/formats), which
read the same."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def day_text(day: dt.date) -> str:
    """2026年11月24日."""
    return f"{day.year}年{day.month}月{day.day}日"


def moment_text(moment: dt.datetime) -> str:
    """2026年11月24日 10:00, in the company's zone."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{day_text(local)} {local:%H:%M}"
