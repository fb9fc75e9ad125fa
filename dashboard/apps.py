from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """工作台: the admin's front page, one section per role (docs/dashboard.md). No models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"
    verbose_name = "工作台"
