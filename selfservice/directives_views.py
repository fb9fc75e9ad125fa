"""The employee's own directives (§7.2) and questions (§9.9) under /me/.

My directives: what leaders asked of me, to acknowledge and to report done with a note. My
questions: those I raised (to confirm answered, or reopen) and, for a department head, those
my departments must answer (to reply). Rows come from directives.selectors (one's own only,
even for HR); every button calls one service, which checks again who may.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from directives.forms import NoteForm, ReopenForm, ReplyForm
from directives.models import DirectiveAssignment, Question
from directives.selectors import (
    assignments_of,
    is_answering_head,
    may_confirm,
    questions_for_me,
)
from directives.services import (
    DirectiveError,
    QuestionError,
    assignment_acknowledge,
    assignment_done,
    question_confirm,
    question_reopen,
    question_reply,
)
from selfservice.views import employee_required

ACKNOWLEDGED = "已确认收到。"
REPORTED_DONE = "已报告完成，等待人力资源部或下达人验收。"
REPLIED = "回复已记录，提问人确认后结束。"
CONFIRMED = "已确认问题解决。"
REOPENED = "已退回，负责人会再次回复。"


def _name(user) -> str:
    """A user's employee name, else the login name ("" for none: a task, a deleted user)."""
    if user is None:
        return ""
    employee = getattr(user, "employee", None)  # no Employee: AttributeError, so None
    return employee.name if employee is not None else user.get_username()


def _mark_overdue(assignment: DirectiveAssignment, now) -> DirectiveAssignment:
    # Past one's own due time and not yet reported done: what §7.2 would charge.
    assignment.overdue = (  # type: ignore[attr-defined]
        assignment.state in DirectiveAssignment.OPEN_STATES and assignment.due_at < now
    )
    return assignment


@employee_required
def directive_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "selfservice/directive_list.html",
        {"assignments": [_mark_overdue(a, now) for a in assignments_of(request.user)]},
    )


@employee_required
def directive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(assignments_of(request.user), pk=pk)
    form = NoteForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "acknowledge":
                assignment_acknowledge(assignment=assignment, actor=request.user)
                messages.success(request, ACKNOWLEDGED)
                return redirect("me:directive_detail", pk=pk)
            form = NoteForm(request.POST)
            if form.is_valid():
                assignment_done(
                    assignment=assignment, note=form.cleaned_data["note"], actor=request.user
                )
                messages.success(request, REPORTED_DONE)
                return redirect("me:directive_detail", pk=pk)
        except DirectiveError as error:
            messages.error(request, str(error))
            return redirect("me:directive_detail", pk=pk)
    State = DirectiveAssignment.State
    _mark_overdue(assignment, timezone.now())
    recorder = assignment.directive.created_by
    timeline = list(assignment.transitions.select_related("actor__employee"))
    for row in timeline:
        row.who = _name(row.actor) or "系统"  # type: ignore[attr-defined]
    return render(
        request,
        "selfservice/directive_detail.html",
        {
            "a": assignment,
            # Who typed it in, shown apart from the 下达人 when not the same person.
            "recorder": _name(recorder),
            "timeline": timeline,
            "can_acknowledge": assignment.state in (State.ASSIGNED, State.REOPENED),
            "can_report": assignment.state == State.ACKNOWLEDGED,
            "form": form,
        },
    )


@employee_required
def question_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = []
    now = timezone.now()
    for q in questions_for_me(user):
        waiting = q.state in Question.WAITING_STATES
        rows.append(
            {
                "q": q,
                "overdue": waiting and q.deadline < now,  # §9.9: the reply is late
                "can_reply": waiting and is_answering_head(user, q),
                "can_confirm": q.state == Question.State.REPLIED and may_confirm(user, q),
            }
        )
    return render(
        request,
        "selfservice/question_list.html",
        {
            "rows": rows,
            "reply_form": ReplyForm(auto_id=False),
            "reopen_form": ReopenForm(auto_id=False),
        },
    )


@employee_required
@require_POST
def question_act(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(questions_for_me(request.user), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "reply":
            question_reply(
                question=question, reply=request.POST.get("reply", ""), actor=request.user
            )
            messages.success(request, REPLIED)
        elif action == "confirm":
            question_confirm(question=question, actor=request.user)
            messages.success(request, CONFIRMED)
        elif action == "reopen":
            question_reopen(
                question=question, comment=request.POST.get("comment", ""), actor=request.user
            )
            messages.success(request, REOPENED)
    except QuestionError as error:
        messages.error(request, f"问题 #{question.pk}：{error}")
    return redirect("me:question_list")
