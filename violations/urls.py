"""Evidence files, served only to those allowed to see the case (never from MEDIA_ROOT directly)."""

from django.urls import path  # noqa: F401

app_name = "evidence"
urlpatterns: list = []
