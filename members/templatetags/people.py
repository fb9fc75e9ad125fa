"""Logins shown as the people behind them, in templates: {{ record.history_user|person }}."""

from __future__ import annotations

from django import template

from members.selectors import person_label

register = template.Library()


@register.filter
def person(user) -> str:
    return person_label(user)
