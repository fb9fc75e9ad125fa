"""Directives (§7.2) and questions (§9.9) in the admin.

Who sees which row is directives.selectors' call, applied in get_queryset (HR all; the
issuer theirs; a department head their department's; a group's admins and creator their
groups'), never only by hiding buttons. Rows are written by the services only: the add
pages call directive_create / question_raise, the actions accept, reopen and reply, and each
service checks who may — a refusal comes back as a message naming the row.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from common.admin import (
    QuickCheckboxMixin,
    ReadOnlyInline,
    TimelineInline,
    ViewerLinksMixin,
    once_per_request,
    render_service_add_form,
)
from common.exceptions import ServiceError
from directives import selectors
from directives.forms import CommentActionForm, DirectiveForm, QuestionForm
from directives.models import (
    Directive,
    DirectiveAssignment,
    DirectiveTransition,
    Question,
    QuestionTransition,
    ReplySla,
)
from directives.services import (
    assignment_accept,
    assignment_acknowledge,
    assignment_done,
    assignment_reopen,
    directive_create,
    question_raise,
    question_reply,
)

MESSAGE_DONE = "{verb}：{count} 条。"
# One format for every refused row of every action here: who (state): what failed: why.
MESSAGE_REFUSED = "{row}：未能{verb}：{reason}"
State = DirectiveAssignment.State


class ScopedAdmin(QuickCheckboxMixin, ViewerLinksMixin, admin.ModelAdmin):
    """Read-only rows, listed by a selector: users without the model permission (a head,
    a group's admin) see their scope, and may open the list only when it has rows. Related
    rows are shown as links only where the viewer may go (ViewerLinksMixin), never as
    Django's read-only foreign keys, which link whoever looks."""

    def scoped(self, request):  # the selector's queryset
        raise NotImplementedError

    def get_queryset(self, request):
        return self.scoped(request)

    @once_per_request
    def _has_scope(self, request) -> bool:
        return request.user.is_staff and self.scoped(request).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._has_scope(request)
        return self.scoped(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._has_scope(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def run_service(self, request, rows, verb: str, call) -> None:
        """``call(row)`` for each row; refusals are reported one by one, nothing half-done."""
        done = 0
        for row in rows:
            try:
                call(row)
            except ServiceError as exc:
                message = MESSAGE_REFUSED.format(row=self.row_label(row), verb=verb, reason=exc)
                self.message_user(request, message, messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, MESSAGE_DONE.format(verb=verb, count=done), messages.SUCCESS)

    def row_label(self, row) -> str:
        """The row as a refusal message names it, its state in brackets: 问题 #3：…（待回复）."""
        return f"{row}（{row.get_state_display()}）"

    def render_add(self, request, form, title, form_url, extra_context):
        fieldsets = [(None, {"fields": list(form.fields)})]
        return render_service_add_form(
            self, request, form, fieldsets, title, form_url=form_url, extra_context=extra_context
        )

    def service_add_view(self, request, form_class, title, create, form_url, extra_context):
        """An add page whose save is one service call; its refusal goes back on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                obj = create(form.cleaned_data)
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                self.log_addition(request, obj, [{"added": {}}])
                return self.response_add(request, obj)
        return self.render_add(request, form, title, form_url, extra_context)


# -- directives ------------------------------------------------------------------------------


def _assignments(**conditions) -> Coalesce:
    """How many assignments of the outer directive (matching ``conditions``)."""
    rows = (
        DirectiveAssignment.objects.filter(directive=OuterRef("pk"), **conditions)
        .order_by()
        .values("directive")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


class AssignmentInline(ReadOnlyInline):
    model = DirectiveAssignment
    fields = readonly_fields = ("person", "state", "note", "done_at", "reminded_at")
    show_change_link = True

    @admin.display(description="执行人")
    def person(self, obj) -> str:
        return str(obj.employee)

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is not None  # whoever may open the directive sees its assignees

    def get_queryset(self, request):
        return DirectiveAssignment.objects.select_related("employee")


@admin.register(Directive)
class DirectiveAdmin(ScopedAdmin):
    list_display = ("__str__", "issuer", "group", "given_at", "deadline", "progress")
    # A date filter of fixed choices (a range on directive_given_idx), where a date
    # hierarchy read every directive for its links.
    list_filter = ("group", ("given_at", admin.DateFieldListFilter))
    search_fields = ("text", "issuer__name")
    inlines = [AssignmentInline]
    fields = readonly_fields = (
        "text",
        "issuer_link",
        "group_link",
        "given_at",
        "deadline",
        "recorder",
    )

    @admin.display(description="下达人")
    def issuer_link(self, obj) -> str:
        return self.link(obj, obj.issuer)

    @admin.display(description="下达所在群")
    def group_link(self, obj) -> str:
        return self.link(obj, obj.group)

    @admin.display(description="登记人")
    def recorder(self, obj) -> str:
        return self.link(obj, obj.created_by)

    def scoped(self, request):
        # Counted per row by correlated subqueries (the page's rows only), not by a GROUP BY
        # of every directive joined to every assignment before the page is cut.
        return selectors.directives_visible_to(request.user).annotate(
            total=_assignments(), finished=_assignments(state__in=[State.DONE, State.ACCEPTED])
        )

    @admin.display(description="完成情况")
    def progress(self, obj) -> str:
        return f"{obj.finished}/{obj.total}"

    def has_add_permission(self, request) -> bool:
        user = request.user
        employee = selectors.user_employee(user)
        return (
            user.has_perm("directives.add_directive")
            or user.has_perm(selectors.ISSUE_PERMISSION)
            or (employee is not None and employee.is_department_head)
            or selectors.run_groups(user).exists()
        )

    def add_view(self, request, form_url="", extra_context=None):
        def create(data):
            return directive_create(
                text=data["text"],
                issuer=data["issuer"],
                group=data["group"],
                given_at=data["given_at"],
                deadline=data["deadline"],
                working_days=data["working_days"],
                employees=data["employees"],
                departments=data["departments"],
                actor=request.user,
            )

        return self.service_add_view(
            request, DirectiveForm, "记录群内指令", create, form_url, extra_context
        )


class DirectiveTimelineInline(TimelineInline):
    model = DirectiveTransition


@admin.register(DirectiveAssignment)
class DirectiveAssignmentAdmin(ScopedAdmin):
    # What a clerk scans, narrow enough for the admin's content column: the note is cut
    # short (whole on the row's page) and the state never wraps.
    list_display = ("directive", "employee", "state_shown", "deadline", "done_at", "note_short")
    list_filter = ("state",)
    list_select_related = ("directive", "employee")
    # Newest directive first, from assignment_list_idx: not sorted through the directives
    # and employees tables as the model's order is.
    ordering = ("-directive_id", "employee_id")
    list_per_page = 50  # a row per person told: rendering the rows is most of the page's CPU
    search_fields = ("employee__name", "directive__text")
    fields = readonly_fields = (
        "directive_link",
        "person",
        "state",
        "due_at",
        "note",
        "done_at",
        "reminded_at",
    )
    inlines = [DirectiveTimelineInline]
    action_form = CommentActionForm
    actions = ["accept", "reopen", "acknowledge_for", "done_for"]

    def scoped(self, request):
        visible = selectors.directives_visible_to(request.user).values("pk")
        return DirectiveAssignment.objects.filter(directive__in=visible).select_related(
            "directive", "employee"
        )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="指令")
    def directive_link(self, obj) -> str:
        return self.link(obj, obj.directive)

    @admin.display(description="执行人")
    def person(self, obj) -> str:
        return self.link(obj, obj.employee)

    def row_label(self, row) -> str:
        return f"{row.employee}（{row.get_state_display()}）"  # 赵博（JM00026）（已确认收到）

    @admin.display(description="状态", ordering="state")
    def state_shown(self, obj) -> str:
        return format_html('<span style="white-space: nowrap">{}</span>', obj.get_state_display())

    @admin.display(description="完成说明")
    def note_short(self, obj) -> str:
        return obj.note if len(obj.note) <= 20 else obj.note[:20] + "…"  # as __str__ cuts

    @admin.display(description="本人期限", ordering="due_at")
    def deadline(self, obj):
        return obj.due_at

    @admin.action(description="验收所选（人力资源部或下达人）")
    def accept(self, request, queryset):
        comment = request.POST.get("comment", "")
        self.run_service(
            request,
            queryset,
            "验收",
            lambda a: assignment_accept(assignment=a, actor=request.user, comment=comment),
        )

    @admin.action(description="退回重做（在上方填写原因）")
    def reopen(self, request, queryset):
        comment = request.POST.get("comment", "")
        self.run_service(
            request,
            queryset,
            "退回",
            lambda a: assignment_reopen(assignment=a, actor=request.user, comment=comment),
        )

    # An assignee without a login reports by word of mouth: HR or the issuer records it for
    # them (the timeline row names who did and says 代为登记), so they too can avoid a case.
    @admin.action(description="代为确认收到（人力资源部或下达人）")
    def acknowledge_for(self, request, queryset):
        self.run_service(
            request,
            queryset,
            "代为确认收到",
            lambda a: assignment_acknowledge(assignment=a, actor=request.user),
        )

    @admin.action(description="代为报告完成（在上方填写完成情况）")
    def done_for(self, request, queryset):
        note = request.POST.get("comment", "")
        self.run_service(
            request,
            queryset,
            "代为报告完成",
            lambda a: assignment_done(assignment=a, note=note, actor=request.user),
        )


# -- questions -------------------------------------------------------------------------------


class QuestionTimelineInline(TimelineInline):
    model = QuestionTransition


@admin.register(Question)
class QuestionAdmin(ScopedAdmin):
    list_display = ("__str__", "group", "department", "asker", "deadline", "state")
    list_filter = ("state", "group")
    search_fields = ("text", "raised_by__name", "raised_by_name")
    fields = readonly_fields = (
        "text",
        "group_link",
        "department_link",
        "asker",
        "recorder",
        "head_link",
        "raised_at",
        "deadline",
        "state",
        "reply",
        "replier",
        "replied_at",
    )
    inlines = [QuestionTimelineInline]
    action_form = CommentActionForm
    actions = ["record_reply"]

    def scoped(self, request):
        return selectors.questions_visible_to(request.user)

    @admin.display(description="提问人")
    def asker(self, obj) -> str:
        return self.link(obj, obj.raised_by) if obj.raised_by_id else obj.raised_by_name

    @admin.display(description="反映所在群")
    def group_link(self, obj) -> str:
        return self.link(obj, obj.group)

    @admin.display(description="负责部门")
    def department_link(self, obj) -> str:
        return self.link(obj, obj.department)

    @admin.display(description="登记人")
    def recorder(self, obj) -> str:
        return self.link(obj, obj.recorded_by)

    @admin.display(description="回复人")
    def replier(self, obj) -> str:
        return self.link(obj, obj.replied_by)

    def has_add_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("directives.add_question") or selectors.run_groups(user).exists()

    def add_view(self, request, form_url="", extra_context=None):
        def create(data):
            return question_raise(
                text=data["text"],
                group=data["group"],
                department=data["department"],
                raised_by=data["raised_by"],
                raised_by_name=data["raised_by_name"],
                raised_at=data["raised_at"],
                actor=request.user,
            )

        return self.service_add_view(
            request, QuestionForm, "登记群内问题", create, form_url, extra_context
        )

    @admin.display(description="负责人（提出时）")
    def head_link(self, obj) -> str:
        return self.link(obj, obj.head) if obj.head_id else "—"

    @admin.action(description="记录回复（部门负责人，或人力资源部代为登记；在上方填写回复）")
    def record_reply(self, request, queryset):
        reply = request.POST.get("comment", "")
        self.run_service(
            request,
            queryset,
            "回复",
            lambda q: question_reply(question=q, reply=reply, actor=request.user),
        )


@admin.register(ReplySla)
class ReplySlaAdmin(admin.ModelAdmin):
    """HR sets a group's reply time limit (§9.9); the model permissions decide."""

    list_display = ("group", "working_days")
    list_select_related = ("group",)
