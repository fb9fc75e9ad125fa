"""What every page of /me/ shows in its navigation."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notices.selectors import notices_unread_count


def notices(request: HttpRequest) -> dict:
    """The bell's unread count, counted (one query) only by a page that shows it: the /me/
    pages and the admin's header (templates/admin/base_site.html); a page without the bell
    never asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notices_unread": SimpleLazyObject(lambda: notices_unread_count(user))}
