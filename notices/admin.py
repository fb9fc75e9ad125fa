"""The emails the system sent, in the admin (邮件发送记录): each person's daily digest (摘要日期
set) and the urgent case mails; read-only, so that a failed send is seen with its error, never
lost; HR (and the superuser) may try one again (立即重试)."""

from __future__ import annotations

from django.contrib import admin, messages

from common.admin import QuickCheckboxMixin, WrittenByServicesMixin
from notices.models import EmailDelivery
from notices.services import RETRY_PERMISSION, NoticeError, emails_retry

MESSAGE_RETRIED = "已安排 {count} 封邮件立即重新发送。"
MESSAGE_NOTHING_TO_RETRY = "所选邮件都已发送，无需重试。"


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(QuickCheckboxMixin, WrittenByServicesMixin, admin.ModelAdmin):
    list_display = [
        "to",
        "subject",
        "day",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    # A date filter of fixed choices (today, 7 days, this month, this year), each a range on
    # email_created_idx, where a date hierarchy read every email for its links.
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["to"]
    # About one email per confirmed case: 50 rows a page (rendering the rows is most of the
    # page's CPU), and one COUNT of the emails per page, not two (Django's "共 N 条").
    list_per_page = 50
    show_full_result_count = False
    list_select_related = ["notice"]
    readonly_fields = [
        "notice",
        "day",
        "to",
        "subject",
        "body",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["retry_now"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record that someone was (or could not be) told

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    @admin.action(description="立即重试", permissions=["retry"])
    def retry_now(self, request, queryset):
        try:
            count = emails_retry(deliveries=queryset, actor=request.user)
        except NoticeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        if count:
            self.message_user(request, MESSAGE_RETRIED.format(count=count), messages.SUCCESS)
        else:
            self.message_user(request, MESSAGE_NOTHING_TO_RETRY, messages.WARNING)
