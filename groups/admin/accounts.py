"""Admin of §6.3 account reports (微信账号挂失): HR lists them, records one for an employee,
and closes them (解除挂失) once the account is back in its owner's hands. Both writes go
through groups.services.accounts; nothing is edited or deleted here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from common.admin import QuickCheckboxMixin, render_service_add_form
from groups.admin.mixins import ViewerLinksMixin, linked_field
from groups.models import AccountReport
from groups.services.accounts import (
    AccountReportError,
    account_report_close,
    account_report_create,
)
from members.selectors import person_label


class AccountReportCloseForm(forms.Form):
    note = forms.CharField(
        label="人力资源部备注",
        required=False,
        max_length=AccountReport._meta.get_field("hr_note").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="选填，员工在“我的微信账号挂失”页面和通知中可以看到。",
    )
    # The confirmation's own submit: without it the form is unbound (the first step).
    apply = forms.CharField(widget=forms.HiddenInput, initial="1")


class AccountReportForm(forms.ModelForm):
    class Meta:
        model = AccountReport
        fields = ["employee", "wechat_id", "kind", "happened_on", "note"]


@admin.register(AccountReport)
class AccountReportAdmin(QuickCheckboxMixin, ViewerLinksMixin, admin.ModelAdmin):
    form = AccountReportForm
    list_display = [
        "wechat_id",
        "employee",
        "kind",
        "happened_on",
        "status",
        "reported_at",
        "reported_by_name",
        "closed_at",
    ]
    list_filter = ["status", "kind", "reported_at"]
    search_fields = ["wechat_id", "employee__name", "employee__employee_no"]
    list_select_related = ["employee", "reported_by__employee", "closed_by__employee"]
    autocomplete_fields = ["employee"]
    # No date hierarchy: its year links are a DISTINCT over every report; the 报告时间
    # filter offers fixed choices, each a range of the index account_report_list_order.
    actions = ["close_reports"]
    readonly_fields = [
        "employee_shown",
        "wechat_id",
        "kind",
        "happened_on",
        "note",
        "status",
        "reported_at",
        "reported_by_name",
        "closed_at",
        "closed_by_name",
        "hr_note",
    ]

    employee_shown = linked_field(AccountReport, "employee")

    @admin.display(description="报告人")
    def reported_by_name(self, obj: AccountReport) -> str:
        return person_label(obj.reported_by)

    @admin.display(description="解除人")
    def closed_by_name(self, obj: AccountReport) -> str:
        return person_label(obj.closed_by)

    def get_fields(self, request, obj=None):
        return AccountReportForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    # Written by the services only: no edit, no delete (the record of who reported what).
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_close_permission(self, request) -> bool:
        return request.user.has_perm("groups.change_accountreport")

    def add_view(self, request, form_url="", extra_context=None):
        """HR records a report for an employee (account_report_create tells HR)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = self.get_form(
            request, None, change=False, fields=AccountReportForm.Meta.fields
        )
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    report = account_report_create(
                        employee=data["employee"],
                        wechat_id=data["wechat_id"],
                        kind=data["kind"],
                        happened_on=data["happened_on"],
                        note=data["note"],
                        actor=request.user,
                    )
                except AccountReportError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.log_addition(request, report, [{"added": {}}])
                    return self.response_add(request, report)
        else:
            form = form_class(initial=self.get_changeform_initial_data(request))
        return render_service_add_form(
            self,
            request,
            form,
            [(None, {"fields": AccountReportForm.Meta.fields})],
            "登记微信账号挂失",
            form_url=form_url,
            extra_context=extra_context,
        )

    @admin.action(description="解除挂失", permissions=["close"])
    def close_reports(self, request, queryset):
        """§6.3: closing a report ends its protection (the account is the owner's again), so
        HR first sees the reports and may write the 人力资源部备注 the employee reads on
        /me/account/; the confirmation posts ``apply`` back to the list's action."""
        form = AccountReportCloseForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            reports = list(queryset.select_related("employee").order_by("reported_at", "pk"))
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "解除微信账号挂失",
                "reports": reports,
                "open_count": sum(r.status == AccountReport.Status.OPEN for r in reports),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/groups/accountreport/close_confirm.html", context
            )
        closed = 0
        for report in queryset:
            try:
                account_report_close(
                    report=report, actor=request.user, note=form.cleaned_data["note"]
                )
            except AccountReportError as exc:
                self.message_user(request, f"{report}：{exc}", messages.ERROR)
            else:
                closed += 1
        if closed:
            self.message_user(
                request,
                f"已解除 {closed} 条挂失；下次核对群成员名单时不再标记这些账号。",
                messages.SUCCESS,
            )
