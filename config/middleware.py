"""The product speaks 简体中文, whatever language the browser asks for; refusals are logged."""

from __future__ import annotations

import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware without the Accept-Language negotiation.

    A browser set to English (headless Chromium sends en-US) got Django's own admin
    strings in English next to our Chinese ones. Here the language is LANGUAGE_CODE unless
    the user chose another one (the language cookie, as set_language writes it).
    """

    def process_request(self, request) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else None
        except LookupError:
            language = None
        translation.activate(language or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        # The parent also adds "Vary: Accept-Language", which no longer changes the page; the
        # language cookie does, so a shared cache must not serve one user's language to another.
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", translation.get_language())
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
