"""Who may be in a group (§4, §5.3.a): its eligibility rules, inline on the group's page and
in their own list."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from common.admin import QuickCheckboxMixin, RowVersionGuardMixin
from groups.admin.mixins import ViewerLinksMixin, linked_field, without_related_icons
from groups.models import EligibilityRule


class ClauseInput(forms.TextInput):
    """The clause code typed without its "§", shown with it (§4, §5.3.a)."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html("§ {}", super().render(name, value, attrs, renderer))


def clause_label(clause: str) -> str:
    return f"§{clause}" if clause else "—"


class EligibilityRuleInline(admin.TabularInline):
    model = EligibilityRule
    extra = 0
    fields = ["kind", "min_rank", "department", "category", "clause"]
    # For those who only view the group (its admins, creator, company leaders): the
    # department as text (they may not open departments), the clause with its §.
    view_only_fields = ["kind", "min_rank", "department_name", "category", "clause_shown"]
    autocomplete_fields = ["department"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "clause":
            kwargs["widget"] = ClauseInput(attrs={"size": 8})
        return without_related_icons(super().formfield_for_dbfield(db_field, request, **kwargs))

    def _view_only(self, request, obj) -> bool:
        return not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        return self.view_only_fields if self._view_only(request, obj) else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_only_fields if self._view_only(request, obj) else []

    @admin.display(description="部门")
    def department_name(self, rule: EligibilityRule) -> str:
        return str(rule.department) if rule.department_id else "—"

    @admin.display(description="条款")
    def clause_shown(self, rule: EligibilityRule) -> str:
        return clause_label(rule.clause)


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(
    QuickCheckboxMixin, RowVersionGuardMixin, ViewerLinksMixin, admin.ModelAdmin
):
    list_display = ["group", "kind", "min_rank", "department", "category", "clause_shown"]
    view_only_swaps = {
        "group": "group_shown",
        "department": "department_shown",
        "clause": "clause_shown",
    }
    group_shown = linked_field(EligibilityRule, "group")
    department_shown = linked_field(EligibilityRule, "department")
    list_filter = ["kind", "group"]
    list_select_related = ["group", "department"]
    autocomplete_fields = ["group", "department"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "clause":
            kwargs["widget"] = ClauseInput(attrs={"size": 8})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="条款", ordering="clause")
    def clause_shown(self, rule: EligibilityRule) -> str:
        return clause_label(rule.clause)
