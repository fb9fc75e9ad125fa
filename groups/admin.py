from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from groups import selectors
from groups.models import ChatGroup, ContentKind, EligibilityRule


class EligibilityRuleInline(admin.TabularInline):
    model = EligibilityRule
    extra = 0
    fields = ["kind", "min_rank", "department", "category", "clause"]
    autocomplete_fields = ["department"]


@admin.register(ChatGroup)
class ChatGroupAdmin(SimpleHistoryAdmin):
    """HR sees every group; a creator or admin sees the groups they run (§5.1, §5.2).

    The changelist is filtered through groups.selectors, not guardian's
    GuardedModelAdmin, which does not filter it (PITFALLS.md).
    """

    list_display = [
        "name",
        "code",
        "family",
        "creator",
        "admin_count",
        "member_cap",
        "naming_convention",
        "is_confidential",
        "is_active",
    ]
    list_filter = ["is_active", "is_confidential", "naming_convention"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["creator", "admins", "family"]
    filter_horizontal = ["allowed_content"]
    readonly_fields = ["eligible_count"]
    inlines = [EligibilityRuleInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "family", "is_active"]}),
        ("§4 功能与内容", {"fields": ["function", "allowed_content", "is_confidential"]}),
        ("§5 管理", {"fields": ["creator", "admins", "member_cap", "naming_convention"]}),
        ("入群条件", {"fields": ["eligible_count"]}),
    ]

    def get_queryset(self, request):
        return selectors.chat_groups_visible_to(request.user).annotate(
            _admin_count=Count("admins", distinct=True)
        )

    def _has_any_object_permission(self, request) -> bool:
        return selectors.chat_groups_visible_to(request.user).exists()

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._has_any_object_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._has_any_object_permission(request)
        return request.user.has_perm("groups.view_chatgroup", obj)

    @admin.display(description="管理员人数", ordering="_admin_count")
    def admin_count(self, obj: ChatGroup) -> int:
        return obj._admin_count

    @admin.display(description="符合入群条件的在职员工")
    def eligible_count(self, obj: ChatGroup) -> str:
        if obj.pk is None:
            return "—"
        return f"{selectors.eligible_employees(obj).count()} 人"


@admin.register(ContentKind)
class ContentKindAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(admin.ModelAdmin):
    list_display = ["group", "kind", "min_rank", "department", "category", "clause"]
    list_filter = ["kind", "group"]
    list_select_related = ["group", "department"]
    autocomplete_fields = ["group", "department"]
