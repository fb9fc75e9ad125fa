"""The employee reports a lost or stolen WeChat account (/me/account/, §6.3), and sees their
reports and whether HR has closed them.

The report is always the logged-in employee's own: the page has no employee field, and the
service (groups.services.accounts.account_report_create) accepts only an account that is
theirs (their registered WeChat id, or one a roster row of theirs shows). HR is told; from the
report on, reconciliation flags the account's rows in every group.

Also the person's own email setting (/me/email/, 邮件提醒): whether the daily digest of their
unread notices (and the urgent case mails) reach their address — every login's own choice,
with or without an employee record (notices.services.email_preference_set).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from groups.models import AccountReport
from groups.services.accounts import AccountReportError, account_report_create
from notices.services import email_preference_set, email_wanted
from selfservice.views import employee_required

REPORTED = "已报告，人力资源部会核实；在解除挂失前，该账号在各群名单中都会被标记（§6.3）。"
ERROR_WECHAT_ID_REQUIRED = "请填写丢失或被盗的微信号。"
ERROR_WECHAT_ID_TOO_LONG = "微信号不能超过 64 个字符。"
ERROR_KIND_REQUIRED = "请选择“丢失”或“被盗”。"
ERROR_BAD_DATE = "请按 2024-03-01 的格式填写发生日期，或留空。"
ERROR_NOTE_TOO_LONG = "说明不能超过 1000 个字符。"
EMAIL_ON = "已开启邮件提醒：每天一封摘要，列出当天未读的通知。"
EMAIL_OFF = "已关闭邮件提醒：不再给你发邮件，站内通知照常显示。"


class AccountReportForm(forms.Form):
    wechat_id = forms.CharField(
        label="微信号",
        max_length=64,
        error_messages={
            "required": ERROR_WECHAT_ID_REQUIRED,
            "max_length": ERROR_WECHAT_ID_TOO_LONG,
        },
    )
    kind = forms.ChoiceField(
        label="情况",
        choices=AccountReport.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": ERROR_KIND_REQUIRED, "invalid_choice": ERROR_KIND_REQUIRED},
    )
    happened_on = forms.DateField(
        label="发生日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={"invalid": ERROR_BAD_DATE},
    )
    note = forms.CharField(
        label="说明",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如何丢失、是否已冻结或找回等（可选）。",
        error_messages={"max_length": ERROR_NOTE_TOO_LONG},
    )


@employee_required
def account_report(request: HttpRequest) -> HttpResponse:
    employee = request.user.employee  # type: ignore[union-attr]
    form = AccountReportForm(
        request.POST if request.method == "POST" else None,
        initial={"wechat_id": employee.wechat_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_report_create(
                employee=employee,
                wechat_id=data["wechat_id"],
                kind=data["kind"],
                happened_on=data["happened_on"],
                note=data["note"],
                actor=request.user,
            )
        except AccountReportError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, REPORTED)
            return redirect("me:account_report")
    reports = AccountReport.objects.filter(employee=employee).order_by("-reported_at", "-pk")
    return render(request, "selfservice/account_report.html", {"form": form, "reports": reports})


class EmailSettingsForm(forms.Form):
    email_on = forms.BooleanField(
        label="接收邮件提醒（每天一封摘要）",
        required=False,
        help_text="每天傍晚把当天未读的通知汇总成一封邮件发给你；案件提出和确认（有期限）的通知即时发送。",
    )


@login_required
def email_settings(request: HttpRequest) -> HttpResponse:
    """邮件提醒: the person turns their own email on or off (POST), and sees where it goes."""
    user = request.user
    form = EmailSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"email_on": email_wanted(user)},
    )
    if request.method == "POST" and form.is_valid():
        email_on = form.cleaned_data["email_on"]
        email_preference_set(user=user, email_on=email_on, actor=user)
        messages.success(request, EMAIL_ON if email_on else EMAIL_OFF)
        return redirect("me:email_settings")
    return render(
        request, "selfservice/email_settings.html", {"form": form, "email_address": user.email}
    )
