"""Admin pieces the appraisal's admins share."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from common.admin import WrittenByServicesMixin

# An empty value, on every appraisal page and list: the dash person_label() gives for nobody,
# not Django's "-" beside it (admin.site keeps its own default; these admins set theirs).
EMPTY = "—"


class LinksForTheViewerMixin:
    """Change pages whose related rows (an employee, a period, a case) are links only for
    whoever may open them, and plain names for everyone else.

    Django's read-only foreign keys link to the related page whoever looks; a display
    method sees only the row, so the row fetched for a page carries its request.
    """

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._viewer_request = request
        return obj

    def link_for_viewer(self, obj, related, text: str | None = None) -> str:
        if related is None:
            return EMPTY
        label = str(related) if text is None else text
        request = getattr(obj, "_viewer_request", None)
        if request is None or not may_open(self.admin_site, request, related):
            return label
        opts = related._meta
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(related.pk)],
        )
        return format_html('<a href="{}">{}</a>', url, label)


def may_open(admin_site, request, obj) -> bool:
    """Whether ``request.user`` may open ``obj``'s admin page (a model: its list)."""
    model = obj if isinstance(obj, type) else type(obj)
    model_admin = admin_site._registry.get(model)
    if model_admin is None:
        return False
    return model_admin.has_view_permission(request, None if isinstance(obj, type) else obj)


class ReadOnlyAdmin(LinksForTheViewerMixin, WrittenByServicesMixin, admin.ModelAdmin):
    """Rows that services write (a computation, a finance import): listed, never edited
    nor deleted."""

    empty_value_display = EMPTY

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # The period and the employee most of these rows belong to, linked for whoever may open them.
    @admin.display(description="考核期间")
    def period_shown(self, obj) -> str:
        return self.link_for_viewer(obj, obj.period)

    @admin.display(description="员工")
    def employee_shown(self, obj) -> str:
        return self.link_for_viewer(obj, obj.employee)
