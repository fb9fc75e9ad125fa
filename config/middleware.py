"""The product speaks 简体中文, whatever language the browser asks for; refusals are logged."""

from __future__ import annotations

import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.utils import translation


class ChineseFirstLocaleMiddleware:
    """Every request in 简体中文, the one language the product offers (settings.LANGUAGES).

    Django's LocaleMiddleware would negotiate with Accept-Language: a browser set to English
    (headless Chromium sends en-US) got Django's own admin strings in English next to our
    Chinese ones. We offer no language switch (issue 14: one language done properly, no half
    state), so neither a header nor a cookie chooses another language, and the response varies
    on neither: a shared cache may serve one page to everyone.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


security_log = logging.getLogger("security")


class RefusalLogMiddleware:
    """Log every refused request (403): who, what, when (the record's time), from where.

    docs/security.md, 6: a PermissionDenied anywhere (admin, our views, guardian, CSRF) reaches
    here as a 403 response, so one place sees them all. Failed logins are logged by
    members.signals and kept as rows by django-axes.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            who = user.get_username() if user is not None and user.is_authenticated else "-"
            security_log.warning(
                "refused user=%s user_id=%s method=%s path=%s ip=%s",
                who,
                getattr(user, "pk", None),
                request.method,
                request.get_full_path(),
                get_client_ip_address(request),
            )
        return response
