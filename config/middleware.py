"""The product speaks 简体中文, whatever language the browser asks for."""

from __future__ import annotations

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
