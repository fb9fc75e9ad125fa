from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper

from common import admin as common_admin
from common.admin import QuickCheckboxMixin, once_per_request
from groups.selectors import can_view_roster, roster_groups_visible_to


class ViewerLinksMixin(common_admin.ViewerLinksMixin):
    """Links only where the viewer may go (common.admin.ViewerLinksMixin), and on a page
    the viewer may only view, foreign-key fields swapped for display methods that do so.
    """

    # On a page the viewer may only view: field name -> the display method shown instead.
    view_only_swaps: dict[str, str] = {}

    def _viewing_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.view_only_swaps or not self._viewing_only(request, obj):
            return fieldsets
        swap = self.view_only_swaps

        def swapped(field):
            if isinstance(field, (list, tuple)):
                return type(field)(swap.get(f, f) for f in field)
            return swap.get(field, field)

        return [
            (name, {**options, "fields": [swapped(f) for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self.view_only_swaps and self._viewing_only(request, obj):
            readonly += self.view_only_swaps.values()
        return readonly


def linked_field(model, name: str):
    """A display method showing foreign key ``name`` of ``model`` through ViewerLinksMixin.link,
    under the field's own verbose name."""

    @admin.display(description=model._meta.get_field(name).verbose_name, ordering=name)
    def show(self, obj):
        return self.link(obj, getattr(obj, name))

    show.__name__ = f"{name}_shown"
    return show


class RosterScopedAdmin(QuickCheckboxMixin, ViewerLinksMixin, admin.ModelAdmin):
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

    @once_per_request
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


class GroupListFilter(admin.RelatedOnlyFieldListFilter):
    """微信群 as a list filter, bounded by the number of groups.

    Whoever sees every row of the list (the model's view permission: HR) is offered every
    group: one query on the groups table, never the related-only filter's SELECT DISTINCT
    over the whole list (findings, to-dos and snapshots grow with every reconciliation;
    docs/performance.md). Anyone else — a group's admin or creator, a department head —
    keeps the related-only choices, the groups of their own few rows: the names of groups
    they may not see are never offered (§6.1).
    """

    def field_choices(self, field, request, model_admin):
        opts = model_admin.opts
        if request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            return admin.RelatedFieldListFilter.field_choices(self, field, request, model_admin)
        return super().field_choices(field, request, model_admin)


def without_related_icons(formfield):
    """No add/edit/delete/view icons beside a foreign key: the delete icon beside 群主
    deleted the employee, and employees and departments are other pages' business."""
    widget = getattr(formfield, "widget", None)
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget.can_add_related = widget.can_change_related = False
        widget.can_delete_related = widget.can_view_related = False
    return formfield
