"""Admin pieces the appraisal's admins share."""

from __future__ import annotations

from django.contrib import admin

from common.admin import QuickCheckboxMixin, ViewerLinksMixin, WrittenByServicesMixin

# An empty value, on every appraisal page and list: the dash person_label() gives for nobody,
# not Django's "-" beside it (admin.site keeps its own default; these admins set theirs).
EMPTY = "—"


class ReadOnlyAdmin(QuickCheckboxMixin, ViewerLinksMixin, WrittenByServicesMixin, admin.ModelAdmin):
    """Rows that services write (a computation, a finance import): listed, never edited
    nor deleted."""

    empty_value_display = EMPTY

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # The period and the employee most of these rows belong to, linked for whoever may open them.
    @admin.display(description="考核期间")
    def period_shown(self, obj) -> str:
        return self.link(obj, obj.period)

    @admin.display(description="员工")
    def employee_shown(self, obj) -> str:
        return self.link(obj, obj.employee)
