"""Chat logs in (issue 15, point 1): the imports with what each held, the upload page that
runs one as a background job, the template to download, and the messages read in (a
read-only list for HR).

Who may upload for which group: screening.selectors.groups_user_can_import_for (HR any
group; a group's admins and creator theirs, as for its roster). The upload waits in private
media (common.import_files.job_upload_save) for the job, which deletes it whatever happens
(screening.jobs; jobs.services deletes it too if the queue refuses the job).
"""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from common.admin import QuickCheckboxMixin, WrittenByServicesMixin, once_per_request
from common.downloads import file_response
from common.import_files import job_upload_save
from common.people import person_label
from groups.admin.mixins import GroupListFilter
from groups.models import ChatGroup
from jobs.models import Job
from jobs.reporting import job_report
from jobs.services import job_start, job_url
from screening import selectors
from screening.admin.hits import sender_label
from screening.jobs import RESCREEN_PERMISSION
from screening.models import ChatImport, Message
from screening.readers import ERROR_TOO_LARGE, chatlog_template

TEMPLATE_FILENAME = "聊天记录导入模板.xlsx"
# What the job's file keeps of the upload's name: the reader tells the format by the header,
# the suffix only helps it (csv, xlsx, json lines).
KNOWN_SUFFIXES = {".csv", ".xlsx", ".xls", ".json", ".jsonl", ".txt"}
UPLOAD_HELP = (
    "微信电脑版导出工具导出的 CSV 或 Excel 文件、企业微信会话存档解密后的 JSON 行文件，"
    "或本系统模板（时间、群昵称、微信号、类型、内容）；UTF-8 或 GBK 编码均可。"
    "同一文件导入两次，消息不会重复保存。"
)


class ChatLogUploadForm(forms.Form):
    group: forms.ModelChoiceField = forms.ModelChoiceField(
        label="微信群", queryset=ChatGroup.objects.none()
    )
    file = forms.FileField(label="聊天记录文件", help_text=UPLOAD_HELP)
    room = forms.CharField(
        label="会话 ID",
        required=False,
        max_length=128,
        help_text=(
            "文件里有不止一个群聊的记录时，填写本群的会话 ID（导入时的提示会列出文件中的各个"
            "会话 ID）；只有本群的记录时留空。私聊一律不导入。"
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        groups = selectors.groups_user_can_import_for(user).order_by("name")
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]

    def clean_file(self):
        # Before anything reads it (docs/security.md, 2); the reader checks the same limit.
        upload = self.cleaned_data["file"]
        limit = settings.SCREENING_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                ERROR_TOO_LARGE.format(
                    size=filesizeformat(upload.size), limit=filesizeformat(limit)
                )
            )
        return upload


def store_upload(upload) -> str:
    """The upload saved, streamed, under a random name in private media for its job."""
    suffix = PurePath(upload.name or "").suffix.lower()
    suffix = suffix if suffix in KNOWN_SUFFIXES else ".bin"
    return job_upload_save(upload, suffix=suffix)


@admin.register(ChatImport)
class ChatImportAdmin(WrittenByServicesMixin, QuickCheckboxMixin, admin.ModelAdmin):
    """Each import's figures, read-only; 上传聊天记录 instead of the add form."""

    list_display = [
        "imported_at",
        "group",
        "original_name",
        "source_format",
        "rows_read",
        "messages_new",
        "messages_duplicate",
        "messages_skipped",
        "senders_unmatched",
        "hits",
        "cases_proposed",
        "importer",
    ]
    list_filter = [("group", GroupListFilter), "source_format"]
    list_select_related = ["group", "imported_by__employee"]
    change_list_template = "admin/screening/chatimport/change_list.html"
    actions = ["rescreen"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("group", "imported_by__employee")
        if request.user.has_perm("screening.view_chatimport"):
            return queryset
        return queryset.filter(group__in=selectors.groups_user_can_import_for(request.user))

    @once_per_request
    def _imports_somewhere(self, request) -> bool:
        return selectors.groups_user_can_import_for(request.user).exists()

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._imports_somewhere(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._imports_somewhere(request)
        return selectors.can_import_chatlog(request.user, obj.group)

    def has_add_permission(self, request) -> bool:
        return self._imports_somewhere(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its messages and hits stand on it

    def has_rescreen_permission(self, request) -> bool:
        return request.user.has_perm(RESCREEN_PERMISSION)

    @admin.action(description="按现在的筛查规则重新筛查", permissions=["rescreen"])
    def rescreen(self, request, queryset):
        """After HR changed the rules: each import's messages screened again in a job
        (screening.jobs.chatlog_rescreen_job); nothing found before is found twice."""
        for chat_import in queryset.select_related("group").order_by("pk"):
            job = job_start(
                kind=Job.Kind.CHATLOG_RESCREEN,
                actor=request.user,
                params={"chat_import": chat_import.pk},
                subject=f"{chat_import.group.name} · {chat_import.original_name[:100]}",
            )
            job_report(request, job)

    @admin.display(description="导入人", ordering="imported_by")
    def importer(self, obj: ChatImport) -> str:
        return person_label(obj.imported_by) if obj.imported_by_id else "系统"

    def get_urls(self):
        template_url = path(
            "template/",
            self.admin_site.admin_view(self.template_view),
            name="screening_chatimport_template",
        )
        return [template_url, *super().get_urls()]

    def template_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return file_response(chatlog_template(), filename=TEMPLATE_FILENAME)

    def add_view(self, request, form_url="", extra_context=None):
        """上传聊天记录: the file to private media and a job that imports it (screening.jobs);
        then the job's page, which follows it to its end."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ChatLogUploadForm(request.POST, request.FILES, user=request.user)
        else:
            form = ChatLogUploadForm(user=request.user)
        if form.is_bound and form.is_valid():
            group, upload = form.cleaned_data["group"], form.cleaned_data["file"]
            name = store_upload(upload)
            try:
                job = job_start(
                    kind=Job.Kind.CHATLOG_IMPORT,
                    actor=request.user,
                    params={
                        "upload": name,
                        "file_name": upload.name[:200],
                        "group": group.pk,
                        "room": form.cleaned_data["room"].strip(),
                    },
                    subject=f"{group.name} · {upload.name[:100]}",
                )
            except BaseException:
                default_storage.delete(name)  # no job will ever read it
                raise
            job_report(request, job)
            return redirect(job_url(job))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "上传聊天记录",
        }
        return TemplateResponse(request, "admin/screening/chatimport/upload.html", context)


class MessageKindFilter(admin.SimpleListFilter):
    title = "类型"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return Message.Kind.choices

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(WrittenByServicesMixin, admin.ModelAdmin):
    """The messages read in: HR looks them up; nobody adds, edits or deletes one."""

    list_display = ["sent_at_local", "group", "sender", "kind", "content_excerpt"]
    list_filter = [("group", GroupListFilter), MessageKindFilter, "sent_at"]
    list_select_related = ["group", "employee"]
    search_fields = ["content", "sender_name", "sender_wechat_id"]
    search_help_text = "按内容、群昵称或微信号搜索（包含即可）。"
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-sent_at", "-pk"]
    actions = None
    exclude = ["identity"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for message in changelist.result_list:
            message._viewer_request = request
        return changelist

    @admin.display(description="发送时间", ordering="sent_at")
    def sent_at_local(self, obj: Message) -> str:
        return timezone.localtime(obj.sent_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="发言人")
    def sender(self, obj: Message) -> str:
        return sender_label(getattr(obj, "_viewer_request", None), obj)

    @admin.display(description="内容")
    def content_excerpt(self, obj: Message) -> str:
        if not obj.content:  # an image, a sticker: its kind, not a blank
            return f"[{obj.get_kind_display()}]"
        return obj.content[:80] + ("…" if len(obj.content) > 80 else "")
