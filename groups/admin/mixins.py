from __future__ import annotations

from django.contrib import admin

from groups.selectors import can_view_roster, roster_groups_visible_to


class RosterScopedAdmin(admin.ModelAdmin):
    """For models that belong to a group's roster (snapshots, findings, to-dos …).

    HR (model permissions) sees all; a group's admins and creator see their own
    groups' rows through object permissions on the group (§5.1, §5.2), except the
    roster of a confidential group, which its creator does not see.
    """

    group_field = "group"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.has_perm(f"{self.opts.app_label}.view_{self.opts.model_name}"):
            return qs
        return qs.filter(**{f"{self.group_field}__in": roster_groups_visible_to(request.user)})

    def _sees_some_group(self, request) -> bool:
        return roster_groups_visible_to(request.user).exists()

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._sees_some_group(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._sees_some_group(request)
        return can_view_roster(request.user, getattr(obj, self.group_field))
