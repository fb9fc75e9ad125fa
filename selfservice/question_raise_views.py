"""The employee records a question they raised in a group (/me/questions/new/, §9.9: 在群内反映的
问题, recorded by an admin or by the asker themselves).

Only the groups the employee belongs in are offered: the same notion the announcements use for
"an employee's groups" (acknowledgements_addressed_to): the active groups whose eligibility
rules and exceptions select them (groups.selectors.eligible_employee_ids). A forged group id is
a form error. The service (directives.services.question_raise) decides the rest — a head
asking their own department is refused there, and its message is shown on the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from directives.services import QuestionError, question_raise
from groups.models import ChatGroup
from groups.selectors import groups_of_employee
from members.models import Department, Employee
from selfservice.views import employee_required

RAISED = "问题已登记，负责部门的负责人会在时限内回复（§9.9）。"
ERROR_GROUP_REQUIRED = "请选择你在其中提出问题的微信群（只能选择你所在的群）。"
ERROR_DEPARTMENT_REQUIRED = "请选择负责回复的部门。"
ERROR_TEXT_REQUIRED = "请填写问题内容。"


def groups_of(employee: Employee) -> QuerySet[ChatGroup]:
    """The groups offered to ``employee``: those they belong in (groups_of_employee)."""
    return ChatGroup.objects.filter(pk__in=groups_of_employee(employee)).order_by("name")


class QuestionRaiseForm(forms.Form):
    group = forms.ModelChoiceField(
        label="群",
        queryset=ChatGroup.objects.none(),
        error_messages={
            "required": ERROR_GROUP_REQUIRED,
            "invalid_choice": ERROR_GROUP_REQUIRED,
        },
    )
    department = forms.ModelChoiceField(
        label="负责部门",
        queryset=Department.objects.order_by("path"),
        help_text="负责回复的部门；你是负责人的部门请选上级部门（§9.9）。",
        error_messages={"required": ERROR_DEPARTMENT_REQUIRED},
    )
    text = forms.CharField(
        label="问题内容",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": ERROR_TEXT_REQUIRED},
    )

    def __init__(self, *args, groups: QuerySet[ChatGroup], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]


@employee_required
def question_raise_view(request: HttpRequest) -> HttpResponse:
    employee = request.user.employee  # type: ignore[union-attr]
    form = QuestionRaiseForm(
        request.POST if request.method == "POST" else None, groups=groups_of(employee)
    )
    if request.method == "POST" and form.is_valid():
        now = timezone.now()  # 提出时间: now (one moment, so the deadline counts from it)
        try:
            question_raise(
                text=form.cleaned_data["text"],
                group=form.cleaned_data["group"],
                department=form.cleaned_data["department"],
                raised_at=now,
                raised_by=employee,
                actor=request.user,
                now=now,
            )
        except QuestionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, RAISED)
            return redirect("me:question_list")
    return render(request, "selfservice/question_raise.html", {"form": form})
