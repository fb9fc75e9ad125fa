"""Approval routes (§4: routes are data, HR keeps them) and delegations (an approver away names
who decides for them, for a date range; HR sees and sets every one)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse

from announcements.admin.forms import DelegationForm
from announcements.models import ApprovalRoute, ApprovalStep, ApproverKind, Delegation
from announcements.services import AnnouncementError, delegation_create
from announcements.services.posting import DELEGATE_PERMISSION
from common.admin import once_per_request
from common.people import person_label

ERROR_NAMED_NEEDS_APPROVER = "审批人选“指定人员”时，请选择指定审批人。"
ERROR_APPROVER_ONLY_NAMED = "只有审批人为“指定人员”时才选择指定审批人。"


class ApprovalStepForm(forms.ModelForm):
    """A step's approver in HR's words (the model's check constraint says it in English)."""

    class Meta:
        model = ApprovalStep
        fields = ["position", "approver_kind", "approver", "time_limit", "time_unit"]

    def clean(self):
        cleaned = super().clean()
        named = cleaned.get("approver_kind") == ApproverKind.NAMED
        if named and cleaned.get("approver") is None:
            self.add_error("approver", ERROR_NAMED_NEEDS_APPROVER)
        elif not named and cleaned.get("approver") is not None:
            self.add_error("approver", ERROR_APPROVER_ONLY_NAMED)
        return cleaned


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    form = ApprovalStepForm
    extra = 0
    fields = ["position", "approver_kind", "approver", "time_limit", "time_unit"]
    ordering = ["position", "pk"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "approver":
            field.label_from_instance = person_label
            field.queryset = field.queryset.filter(is_active=True).select_related("employee")
        return field


@admin.register(ApprovalRoute)
class ApprovalRouteAdmin(admin.ModelAdmin):
    """Per group × category, the ordered steps; no steps = no approval (欢乐谷's greetings).
    Editing a route never changes an item already submitted (it has its own copy)."""

    list_display = ["group", "category", "step_summary", "review_after", "note"]
    list_filter = ["group", "category", "review_after"]
    list_select_related = ["group", "category"]
    inlines = [ApprovalStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description="审批环节")
    def step_summary(self, obj: ApprovalRoute) -> str:
        steps = list(obj.steps.all())
        if not steps:
            return "无需审批"
        return " → ".join(s.get_approver_kind_display() for s in steps)


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    """An approver sets their own delegate; HR (add_delegation) anyone's and sees all.
    Made by announcements.services.delegation_create; ended early by deleting it."""

    list_display = ["approver_label", "delegate_label", "starts_on", "ends_on", "reason"]
    # People as names, not keys: a read-only login would link to the user admin (superuser's).
    fields = readonly_fields = [*list_display, "created_at"]
    list_select_related = ["approver__employee", "delegate__employee"]
    date_hierarchy = "starts_on"

    def _is_hr(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm(DELEGATE_PERMISSION)

    @once_per_request
    def _staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self._is_hr(request):
            return qs
        return qs.filter(Q(approver=request.user) | Q(delegate=request.user))

    def has_module_permission(self, request) -> bool:
        return self._staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._staff(request):
            return False
        return (
            obj is None
            or self._is_hr(request)
            or request.user.pk
            in (
                obj.approver_id,
                obj.delegate_id,
            )
        )

    def has_add_permission(self, request) -> bool:
        return self._staff(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a delegation is made, or deleted to end it early

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._is_hr(request)
        return self._is_hr(request) or obj.approver_id == request.user.pk

    @admin.display(description="审批人", ordering="approver__employee__name")
    def approver_label(self, obj: Delegation) -> str:
        return person_label(obj.approver)

    @admin.display(description="代理人", ordering="delegate__employee__name")
    def delegate_label(self, obj: Delegation) -> str:
        return person_label(obj.delegate)

    def add_view(self, request, form_url="", extra_context=None):
        """A delegation through delegation_create; a refusal is shown on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        hr = self._is_hr(request)
        form = DelegationForm(
            request.POST or None,
            may_choose_approver=hr,
            user=request.user,
            initial={"approver": request.GET.get("approver")} if hr else None,
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                delegation = delegation_create(
                    approver=data.get("approver") or request.user,
                    delegate=data["delegate"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except AnnouncementError as error:
                form.add_error(None, str(error))
            else:
                self.log_addition(request, delegation, [{"added": {}}])
                return self.response_add(request, delegation)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "设置审批代理",
            "form": form,
        }
        return TemplateResponse(request, "admin/announcements/delegation/add.html", context)
