"""The groups themselves (§4, §5): HR's list and each group's page.

The page's roster views (upload, reconcile, to-do list, run progress) are in roster_pages.py;
the eligibility rules in eligibility.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from common.admin import HistoryAdmin, QuickCheckboxMixin, RowVersionGuardMixin, once_per_request
from groups import selectors
from groups.admin.eligibility import EligibilityRuleInline
from groups.admin.mixins import ViewerLinksMixin, linked_field, without_related_icons
from groups.admin.roster_pages import ERROR_GROUP_OUT_OF_SCOPE, RosterPagesMixin
from groups.admin.succession import GroupSuccessionInline
from groups.models import ChatGroup, ContentKind
from groups.models.roster import compliance_display
from groups.provenance import provenance_of

__all__ = ["ERROR_GROUP_OUT_OF_SCOPE", "ChatGroupAdmin", "ContentKindAdmin"]


@admin.register(ChatGroup)
class ChatGroupAdmin(RosterPagesMixin, ViewerLinksMixin, HistoryAdmin):
    """HR sees every group; a creator or admin sees the groups they run (§5.1, §5.2).

    The changelist is filtered through groups.selectors, not guardian's
    GuardedModelAdmin, which does not filter it (docs/security.md, 10).
    """

    list_display = [
        "name",
        "code",
        "creator",
        "admin_count",
        "latest_snapshot",
        "member_count",
        "compliance",
        "open_findings",
        "is_active",
    ]
    # Related-only: the plain filter would list every group, confidential ones too.
    list_filter = [
        "is_active",
        "is_confidential",
        "naming_convention",
        ("family", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "code"]
    autocomplete_fields = ["creator", "admins", "family"]
    readonly_fields = ["eligible_count", "house_rules_shown"]
    # 交接记录: who succeeded a leaver as creator or admin, when (离职继承; HR's to see).
    inlines = [EligibilityRuleInline, GroupSuccessionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "family", "is_active"]}),
        ("§4 功能与内容", {"fields": ["function", "allowed_content", "is_confidential"]}),
        ("§5 管理", {"fields": ["creator", "admins", "member_cap", "naming_convention"]}),
        ("入群条件", {"fields": ["eligible_count"]}),
        # What HR should know before reading the findings: which come from this group's own
        # settings rather than the policy (selectors.house_rules).
        (selectors.HOUSE_RULE_LABEL, {"fields": ["house_rules_shown"]}),
    ]
    change_form_template = "admin/groups/chatgroup/change_form.html"
    # Who only views the group sees these foreign keys linked only where they may go.
    view_only_swaps = {"family": "family_shown", "creator": "creator_shown"}

    def get_queryset(self, request):
        # The list's figures (latest snapshot, open findings, admins: a subquery each per
        # group) for the list only; the group's page, autocompletes and the delete and history
        # pages fetch the bare group.
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.url_name != f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        ):
            return selectors.chat_groups_visible_to(request.user)
        return selectors.groups_for_changelist(request.user)

    def get_object(self, request, object_id, from_field=None):
        # Once per request: change_view fetches the group to check the viewer's scope, and
        # Django's form view fetches it again (docs/performance.md: the group page read the
        # annotated group twice).
        memo = request.__dict__.setdefault("_chat_group_objects", {})
        key = (object_id, from_field)
        if key not in memo:
            memo[key] = super().get_object(request, object_id, from_field)
        return memo[key]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "allowed_content":
            # A dozen content kinds: checkboxes, not filter_horizontal, whose Django 5.2
            # strings ("Choose all %s" …) have no Chinese translation.
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # 群主, 所属群系列 and 管理员 are chosen, never added, edited or deleted from here.
        return without_related_icons(super().formfield_for_dbfield(db_field, request, **kwargs))

    family_shown = linked_field(ChatGroup, "family")
    creator_shown = linked_field(ChatGroup, "creator")

    @once_per_request
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

    # -- columns -------------------------------------------------------------

    @admin.display(description="管理员人数", ordering="admin_count")
    def admin_count(self, obj: ChatGroup) -> int:
        return obj.admin_count

    # A confidential group's roster figures are shown only to those who may see
    # its roster (§6.1); a group's that is not confidential also to whoever sees every group
    # (公司领导, issue 14): figures_visible is annotated by the selector. The open findings
    # link to their list only for whoever sees the roster (roster_visible).

    @admin.display(description="最近快照", ordering="latest_taken_at")
    def latest_snapshot(self, obj: ChatGroup):
        if not obj.figures_visible or not obj.latest_taken_at:
            return "—"
        return timezone.localtime(obj.latest_taken_at)

    @admin.display(description="成员数", ordering="latest_member_count")
    def member_count(self, obj: ChatGroup):
        if not obj.figures_visible or obj.latest_member_count is None:
            return "—"
        return obj.latest_member_count

    @admin.display(description="合规率")
    def compliance(self, obj: ChatGroup) -> str:
        if not obj.figures_visible or not obj.latest_reconciled_at:
            return "—"
        return compliance_display(obj.latest_member_count, obj.latest_flagged)

    def get_changelist_instance(self, request):
        # The findings list's address reversed once per page, not once per row (待处理问题).
        changelist = super().get_changelist_instance(request)
        url = reverse("admin:groups_finding_changelist")
        for group in changelist.result_list:
            group.findings_list_url = url
        return changelist

    @admin.display(description="待处理问题", ordering="open_findings")
    def open_findings(self, obj: ChatGroup):
        if not obj.figures_visible:
            return "—"
        if not obj.open_findings:
            return 0
        if not obj.roster_visible:  # a count, not the findings: their list is not theirs
            return obj.open_findings
        url = getattr(obj, "findings_list_url", None) or reverse("admin:groups_finding_changelist")
        return format_html(
            '<a href="{}?group__id__exact={}&status__exact=open">{}</a>',
            url,
            obj.pk,
            obj.open_findings,
        )

    @admin.display(description="符合入群条件的在职员工")
    def eligible_count(self, obj: ChatGroup) -> str:
        if obj.pk is None:
            return "—"
        return f"{selectors.eligible_employees(obj).count()} 人"

    @admin.display(description="本群设置")
    def house_rules_shown(self, obj: ChatGroup) -> str:
        if obj.pk is None:
            return "—"
        rules = selectors.house_rules(obj)
        if not rules:
            return "无：本群设置与公司规定（§4、§5.3.b、微信群上限）一致。"
        return format_html(
            "<ul style='margin:0;padding-left:1.2em'>{}</ul>"
            "<p class='help'>由这些要求产生、公司规定本身不要求的核对问题，说明中注明“{}”。</p>",
            format_html_join("", "<li>{}</li>", ((r,) for r in rules)),
            selectors.HOUSE_RULE_LABEL,
        )

    # -- the group page: latest snapshot, findings, upload, run ---------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        group = self.get_object(request, unquote(object_id))
        if group is None or not self.has_view_permission(request, group):
            # A group that exists outside the viewer's scope: say so (403), not the
            # admin's "may have been deleted"; a missing id keeps the admin's answer.
            if self._exists(object_id):
                raise PermissionDenied(ERROR_GROUP_OUT_OF_SCOPE)
        extra = extra_context or {}
        if group is not None:
            # One read of the 管理员 and 内容 each, for the form's values and the page's row
            # version alike (common.admin.row_version), on the group get_object keeps for
            # the form view: they were read twice.
            prefetch_related_objects([group], *(f.name for f in ChatGroup._meta.many_to_many))
            extra.update(self._roster_context(request, group))
        return super().change_view(request, object_id, form_url, extra)

    def _roster_context(self, request, group: ChatGroup) -> dict:
        user = request.user
        context = {
            "can_upload_roster": selectors.can_upload_roster(user, group),
            "can_view_roster": selectors.can_view_roster(user, group),
            # 确认身份 is HR's decision (§5.3.b): the link only for those who may make it.
            "can_add_identity": user.has_perm("groups.add_memberidentity"),
        }
        if context["can_view_roster"]:
            context["latest_snapshot"] = group.snapshots.first()  # Meta.ordering: the latest first
            findings_by_kind = selectors.open_findings_by_kind(group)
            # §5.3.a: who brought a stranger or an ineligible member in, for the roster's
            # viewers (never in the finding's detail: groups.provenance).
            words = provenance_of([f for section in findings_by_kind for f in section.findings])
            for section in findings_by_kind:
                for f in section.findings:
                    f.provenance = words.get(f.pk, "")  # type: ignore[attr-defined]
            context["findings_by_kind"] = findings_by_kind
            context["findings_url"] = reverse("admin:groups_finding_changelist")
            # Reversed once, not once per ambiguous or stranger finding listed.
            context["identity_add_url"] = reverse("admin:groups_memberidentity_add")
            context["latest_run"] = group.runs.order_by("-created_at", "-pk").first()
        return context

    @staticmethod
    def _exists(object_id) -> bool:
        try:
            return ChatGroup.objects.filter(pk=unquote(object_id)).exists()
        except (ValueError, TypeError, ValidationError):
            return False


@admin.register(ContentKind)
class ContentKindAdmin(QuickCheckboxMixin, RowVersionGuardMixin, admin.ModelAdmin):
    list_display = ["name", "code"]  # the name opens the row; the code is for the seed data
    search_fields = ["code", "name"]
