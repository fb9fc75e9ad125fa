from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header

from appraisal.exports import XLSX_CONTENT_TYPE
from common.admin import HistoryAdmin, RowVersionGuardMixin, once_per_request
from common.spreadsheets import validate_upload_size
from groups import selectors
from groups.admin.mixins import ViewerLinksMixin, linked_field
from groups.exports import todo_workbook
from groups.models import ChatGroup, ContentKind, EligibilityRule, ReconciliationRun
from groups.models.roster import compliance_display
from groups.services import reconcile_start
from groups.services.roster import RosterImportError, roster_snapshot_import


class ClauseInput(forms.TextInput):
    """The clause code typed without its "§", shown with it (§4, §5.3.a)."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html("§ {}", super().render(name, value, attrs, renderer))


def clause_label(clause: str) -> str:
    return f"§{clause}" if clause else "—"


# The group's page refuses a group outside the viewer's scope in these words (§5.1, §5.2).
ERROR_GROUP_OUT_OF_SCOPE = "此微信群不在你的管理范围内。"


def without_related_icons(formfield):
    """No add/edit/delete/view icons beside a foreign key: the delete icon beside 群主
    deleted the employee, and employees and departments are other pages' business."""
    widget = getattr(formfield, "widget", None)
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget.can_add_related = widget.can_change_related = False
        widget.can_delete_related = widget.can_view_related = False
    return formfield


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


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="成员名单文件",
        help_text="xlsx 或 csv（UTF-8 / GBK），列：群昵称（必填）、微信号、备注。",
    )
    taken_at = forms.DateTimeField(
        label="采集时间",
        required=False,
        help_text="从微信复制名单的时间；留空为现在。",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_file(self):
        return validate_upload_size(self.cleaned_data["file"])


@admin.register(ChatGroup)
class ChatGroupAdmin(ViewerLinksMixin, HistoryAdmin):
    """HR sees every group; a creator or admin sees the groups they run (§5.1, §5.2).

    The changelist is filtered through groups.selectors, not guardian's
    GuardedModelAdmin, which does not filter it (PITFALLS.md).
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
    readonly_fields = ["eligible_count"]
    inlines = [EligibilityRuleInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "family", "is_active"]}),
        ("§4 功能与内容", {"fields": ["function", "allowed_content", "is_confidential"]}),
        ("§5 管理", {"fields": ["creator", "admins", "member_cap", "naming_convention"]}),
        ("入群条件", {"fields": ["eligible_count"]}),
    ]
    change_form_template = "admin/groups/chatgroup/change_form.html"
    # Who only views the group sees these foreign keys linked only where they may go.
    view_only_swaps = {"family": "family_shown", "creator": "creator_shown"}

    def get_queryset(self, request):
        return selectors.groups_for_changelist(request.user)

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
    # its roster (§6.1); roster_visible is annotated by the selector.

    @admin.display(description="最近快照", ordering="latest_taken_at")
    def latest_snapshot(self, obj: ChatGroup):
        if not obj.roster_visible or not obj.latest_taken_at:
            return "—"
        return timezone.localtime(obj.latest_taken_at)

    @admin.display(description="成员数", ordering="latest_member_count")
    def member_count(self, obj: ChatGroup):
        if not obj.roster_visible or obj.latest_member_count is None:
            return "—"
        return obj.latest_member_count

    @admin.display(description="合规率")
    def compliance(self, obj: ChatGroup) -> str:
        if not obj.roster_visible or not obj.latest_reconciled_at:
            return "—"
        return compliance_display(obj.latest_member_count, obj.latest_flagged)

    @admin.display(description="待处理问题", ordering="open_findings")
    def open_findings(self, obj: ChatGroup):
        if not obj.roster_visible:
            return "—"
        if not obj.open_findings:
            return 0
        url = reverse("admin:groups_finding_changelist")
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
            context["findings_by_kind"] = selectors.open_findings_by_kind(group)
            context["latest_run"] = group.runs.order_by("-created_at", "-pk").first()
        return context

    def get_urls(self):
        wrap = self.admin_site.admin_view
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

    @staticmethod
    def _exists(object_id) -> bool:
        try:
            return ChatGroup.objects.filter(pk=unquote(object_id)).exists()
        except (ValueError, TypeError, ValidationError):
            return False

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
                if run.dispatch_failed:  # issue 9, point 5: the snapshot is kept all the same
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
        if run.dispatch_failed:  # issue 9, point 5
            self.message_user(request, run.error, messages.WARNING)
        return redirect("admin:groups_reconciliation_run", run_id=run.pk)

    def todo_export_view(self, request, object_id):
        group = self._group_or_404(request, object_id)
        if not selectors.can_view_roster(request.user, group):
            raise PermissionDenied
        stamp = timezone.localdate().isoformat()
        response = HttpResponse(todo_workbook(group), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"todo-{group.code}-{stamp}.xlsx"
        )
        return response

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
        counts = [
            f"{label} {len(findings)}"
            for label, findings in selectors.open_findings_by_kind(run.group)
        ]
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


@admin.register(ContentKind)
class ContentKindAdmin(RowVersionGuardMixin, admin.ModelAdmin):
    list_display = ["name", "code"]  # the name opens the row; the code is for the seed data
    search_fields = ["code", "name"]


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(RowVersionGuardMixin, ViewerLinksMixin, admin.ModelAdmin):
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
