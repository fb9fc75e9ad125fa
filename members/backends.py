"""The login lockout backend (docs/security.md, 6): django-axes', usable without a request."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuse a locked-out username or address before any password is checked.

    Every login over HTTP (the admin's and /accounts/login/) passes the request, and axes
    counts and locks it. axes raises when ``authenticate()`` gets no request; only code
    and tests call it so (Django's test client ``login()`` does), with no address to
    count, so here they skip the lockout check instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
