"""{% waiting_count as n %}: how many announcements wait for the logged-in user (待我审批), for
the admin's index page — one count query (announcements.selectors)."""

from __future__ import annotations

from django import template

from announcements.selectors import announcements_waiting_count

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return 0
    return announcements_waiting_count(user)
