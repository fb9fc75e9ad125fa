"""The project's URLs with the three pages other apps add to /me/ standing in (an empty page
each), for the navigation test: what the menu shows once those names exist."""

from django.http import HttpResponse
from django.urls import include, path

from config import urls as project_urls
from selfservice import urls as selfservice_urls


def _page(request):
    return HttpResponse("")


STAND_INS = [
    path("directives/", _page, name="directive_list"),
    path("questions/", _page, name="question_list"),
    path("announcements/", _page, name="announcement_list"),
]
# The stand-ins only where the app has not registered its own page yet.
_names = {p.name for p in selfservice_urls.urlpatterns if getattr(p, "name", None)}
_me = [*selfservice_urls.urlpatterns, *(p for p in STAND_INS if p.name not in _names)]

urlpatterns = [
    path("me/", include((_me, "me"))) if str(p.pattern) == "me/" else p
    for p in project_urls.urlpatterns
]
