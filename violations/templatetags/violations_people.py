"""{{ user|person }}: a login shown as the person behind it (members.selectors.person_label)."""

from __future__ import annotations

from django import template

from members.selectors import person_label

register = template.Library()


@register.filter
def person(user) -> str:
    return person_label(user)
