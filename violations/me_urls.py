"""The employee's own self-service pages (not the admin): their cases, and appeals."""

from django.urls import path  # noqa: F401

app_name = "me"
urlpatterns: list = []
