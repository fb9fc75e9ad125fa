"""Admin pieces the appraisal's admins share."""

from __future__ import annotations

from django.contrib import admin

from common.admin import WrittenByServicesMixin


class ReadOnlyAdmin(WrittenByServicesMixin, admin.ModelAdmin):
    """Rows that services write (a computation, a finance import): listed, never edited
    nor deleted."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
