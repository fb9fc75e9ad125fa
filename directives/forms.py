"""Forms for directives and questions: they parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime, FilteredSelectMultiple
from django.db.models import Q
from django.utils.html import format_html

from groups.models import ChatGroup
from members.models import Department, Employee

ISSUER_Q = (
    Q(headed_departments__isnull=False)
    | Q(user__groups__permissions__codename="issue_directive")
    | Q(user__user_permissions__codename="issue_directive")
)


class Chooser(FilteredSelectMultiple):
    """The two-box chooser in its own box, as ModelAdmin.filter_horizontal gives it (there
    RelatedFieldWidgetWrapper wraps it): SelectFilter2.js puts the boxes first in the
    select's parent, which bare is the row itself — the label then sat at the far right."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html('<div class="related-widget-wrapper">{}</div>', html)


class DirectiveForm(forms.Form):
    """记录指令: who gave it in which group, to whom, by when (§7.2)."""

    text = forms.CharField(label="指令内容", widget=forms.Textarea(attrs={"rows": 4}))
    issuer = forms.ModelChoiceField(
        label="下达人",
        queryset=Employee.objects.active().filter(ISSUER_Q).distinct(),
        help_text="公司领导或部门负责人（§7.2）。",
    )
    group = forms.ModelChoiceField(
        label="下达所在群", queryset=ChatGroup.objects.filter(is_active=True)
    )
    given_at = forms.SplitDateTimeField(label="下达时间", widget=AdminSplitDateTime)
    deadline = forms.SplitDateTimeField(label="完成期限", widget=AdminSplitDateTime, required=False)
    working_days = forms.IntegerField(
        label="或：几个工作日内完成",
        min_value=1,
        max_value=60,
        required=False,
        help_text="按工作日历计算（节假日不算，调休上班日算）；与完成期限二选一。",
    )
    employees = forms.ModelMultipleChoiceField(
        label="执行人",
        queryset=Employee.objects.active().select_related("department"),
        required=False,
        widget=Chooser("执行人", is_stacked=False),
    )
    departments = forms.ModelMultipleChoiceField(
        label="执行部门",
        queryset=Department.objects.all(),
        required=False,
        widget=Chooser("执行部门", is_stacked=False),
        help_text="整个部门（含下级部门）在职的人，登记时逐一列为执行人。",
    )


class QuestionForm(forms.Form):
    """登记群内问题 (§9.9)."""

    text = forms.CharField(label="问题", widget=forms.Textarea(attrs={"rows": 4}))
    group = forms.ModelChoiceField(
        label="反映所在群", queryset=ChatGroup.objects.filter(is_active=True)
    )
    department = forms.ModelChoiceField(label="负责部门", queryset=Department.objects.all())
    raised_by = forms.ModelChoiceField(
        label="提问人", queryset=Employee.objects.active(), required=False
    )
    raised_by_name = forms.CharField(
        label="提问人（非员工）", max_length=64, required=False, help_text="提问人不是员工时填写。"
    )
    raised_at = forms.SplitDateTimeField(label="提出时间", widget=AdminSplitDateTime)


class CommentActionForm(helpers.ActionForm):
    """The admin list's action bar with one text box: the reason of a 退回, the reply."""

    comment = forms.CharField(label="意见/回复", required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label="完成情况", widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    reply = forms.CharField(label="回复", widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    comment = forms.CharField(label="还有什么没有解决", widget=forms.Textarea(attrs={"rows": 2}))
