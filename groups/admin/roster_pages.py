"""The group page's roster pages: upload a member list, reconcile, the creator's to-do list,
and a reconciliation run's progress (§5.1, §5.3; docs/security.md, 5).

A mixin of ChatGroupAdmin: each view checks the viewer's scope (groups.selectors) and calls
one service (groups.services.roster, groups.services.reconcile_start).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from common.downloads import file_response
from common.spreadsheets.formats import validate_upload_size
from groups import selectors
from groups.exports import todo_workbook
from groups.models import ChatGroup, ReconciliationRun
from groups.services import reconcile_start
from groups.services.roster import RosterImportError, roster_snapshot_import

# The group's page refuses a group outside the viewer's scope in these words (§5.1, §5.2).
ERROR_GROUP_OUT_OF_SCOPE = "此微信群不在你的管理范围内。"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="成员名单文件",
        help_text=(
            "xlsx 或 csv（UTF-8 / GBK），列：群昵称（必填）、微信号、备注；"
            "可选：邀请人、入群时间、入群方式（邀请 / 链接 / 二维码，扫码亦可）。"
        ),
    )
    taken_at = forms.DateTimeField(
        label="采集时间",
        required=False,
        help_text="从微信复制名单的时间；留空为现在。",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_file(self):
        return validate_upload_size(self.cleaned_data["file"])


class RosterPagesMixin:
    """The roster pages of ChatGroupAdmin, under its URLs (admin:groups_chatgroup_…)."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        # Before the admin's own, whose "<path:object_id>/" would take them.
        return [
            path(
                "<path:object_id>/roster/upload/",
                wrap(self.upload_roster_view),
                name="groups_chatgroup_upload_roster",
            ),
            path(
                "<path:object_id>/reconcile/",
                wrap(self.reconcile_view),
                name="groups_chatgroup_reconcile",
            ),
            path(
                "<path:object_id>/todo.xlsx",
                wrap(self.todo_export_view),
                name="groups_chatgroup_todo_export",
            ),
            path("runs/<int:run_id>/", wrap(self.run_view), name="groups_reconciliation_run"),
            path(
                "runs/<int:run_id>/status/",
                wrap(self.run_status_view),
                name="groups_reconciliation_run_status",
            ),
            *super().get_urls(),
        ]

    def _group_or_404(self, request, object_id) -> ChatGroup:
        group = self.get_object(request, object_id)
        if group is None or not self.has_view_permission(request, group):
            raise PermissionDenied(ERROR_GROUP_OUT_OF_SCOPE)
        return group

    def upload_roster_view(self, request, object_id):
        group = self._group_or_404(request, object_id)
        if not selectors.can_upload_roster(request.user, group):
            raise PermissionDenied
        # Bound on every POST, even an empty one, so that a missing file is an error.
        form = (
            RosterUploadForm(request.POST, request.FILES)
            if request.method == "POST"
            else RosterUploadForm()
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                snapshot = roster_snapshot_import(
                    group=group,
                    data=upload.read(),
                    filename=upload.name,
                    taken_at=form.cleaned_data["taken_at"],
                    actor=request.user,
                )
            except RosterImportError as exc:
                for error in exc.errors:
                    form.add_error("file", error)
            else:
                run = reconcile_start(snapshot=snapshot, actor=request.user)
                saved = f"已保存 {snapshot.member_count} 名成员的快照，"
                if run.dispatch_failed:  # the snapshot is kept all the same
                    self.message_user(request, saved + run.error, messages.WARNING)
                else:
                    self.message_user(request, saved + "开始核对。", messages.SUCCESS)
                return redirect("admin:groups_reconciliation_run", run_id=run.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": group,
            "form": form,
            "title": f"上传成员名单：{group.name}",
        }
        return TemplateResponse(request, "admin/groups/chatgroup/upload_roster.html", context)

    def reconcile_view(self, request, object_id):
        group = self._group_or_404(request, object_id)
        if request.method != "POST" or not selectors.can_upload_roster(request.user, group):
            raise PermissionDenied
        snapshot = group.snapshots.first()  # Meta.ordering: the latest first
        if snapshot is None:
            self.message_user(request, "该群还没有成员快照，请先上传名单。", messages.WARNING)
            return redirect("admin:groups_chatgroup_change", object_id=group.pk)
        run = reconcile_start(snapshot=snapshot, actor=request.user)
        if run.dispatch_failed:  # the queue is down: docs/security.md, 5
            self.message_user(request, run.error, messages.WARNING)
        return redirect("admin:groups_reconciliation_run", run_id=run.pk)

    def todo_export_view(self, request, object_id):
        group = self._group_or_404(request, object_id)
        if not selectors.can_view_roster(request.user, group):
            raise PermissionDenied
        stamp = timezone.localdate().isoformat()
        name = f"群成员待办-{group.name}-{stamp}.xlsx"  # Chinese, as every download (issue 14)
        return file_response(todo_workbook(group), filename=name)

    def _run_or_404(self, request, run_id) -> ReconciliationRun:
        run = get_object_or_404(ReconciliationRun.objects.select_related("group"), pk=run_id)
        if not selectors.can_view_roster(request.user, run.group) and not (
            selectors.can_upload_roster(request.user, run.group)
            and run.started_by_id == request.user.pk
        ):
            raise PermissionDenied
        return run

    def run_view(self, request, run_id):
        run = self._run_or_404(request, run_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": run.group,
            "run": run,
            # What the group's page lists now: the run's counts are what its snapshot
            # showed, some since decided (§9.5) or information only (新入群).
            "open_text": self._open_text(request, run),
            "status_url": reverse("admin:groups_reconciliation_run_status", args=[run.pk]),
            "title": f"核对 {run.group.name}",
        }
        return TemplateResponse(request, "admin/groups/reconciliationrun/progress.html", context)

    def _open_text(self, request, run: ReconciliationRun) -> str | None:
        """The group's open findings by kind, as its page lists them; None for who may not
        see the roster (a creator who only started the run of a confidential group)."""
        if not selectors.can_view_roster(request.user, run.group):
            return None
        # Counted, not loaded: the page polls this while the run works.
        counts = [f"{label} {n}" for label, n in selectors.open_finding_counts(run.group)]
        return f"该群现有待处理问题：{'、'.join(counts) or '无'}（群页面逐条列出）。"

    def run_status_view(self, request, run_id):
        run = self._run_or_404(request, run_id)
        return JsonResponse(
            {
                "status": run.status,
                "status_display": run.get_status_display(),
                "progress": run.progress,
                "summary": run.summary,
                "summary_text": run.summary_text,
                "error": run.error,
                "open_text": self._open_text(request, run),
                "finished": run.status
                in (
                    ReconciliationRun.Status.DONE,
                    ReconciliationRun.Status.SKIPPED,
                    ReconciliationRun.Status.FAILED,
                ),
            }
        )
