"""Admin pieces every app uses."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose "revert to this version" needs the change permission.

    simple_history's revert form saves a POST for anyone who may *view* the
    history (SIMPLE_HISTORY_REVERT_DISABLED only hides the button): a user with
    view rights could rewrite a group or an employee that way.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.revert_allowed(request, object_id):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_allowed(self, request, object_id) -> bool:
        return self.has_change_permission(request, self.get_object(request, unquote(object_id)))
