"""The employee's own pages (/me/): my cases, each with its timeline, evidence, my
explanation while HR has not decided, and appeal (§7.1), and my appraisal: each period's
result with the lines it counted. Opening a confirmed case the first time is being told of
it: the appeal window starts then, if no notice told the employee earlier.

"My cases" means the cases of the employee linked to the login, whoever the login
is: HR, who may see every case in the admin, sees only their own here (and the
same for the appraisal).
"""

from __future__ import annotations

from collections import defaultdict
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from appraisal.selectors import lines_visible_to, results_visible_to
from selfservice.forms import AppealForm, ExplanationForm
from violations.models import Case, Evidence, Sanction
from violations.selectors import can_view_evidence, cases_visible_to
from violations.services import (
    CaseError,
    EvidenceError,
    case_appeal,
    case_explain,
    case_record_told,
    explanation_due,
)
from violations.services.telling import TOLD_BY_VIEW, appeal_deadline

APPEAL_SENT = "申诉已提交，人力资源部将由确认人以外的同事裁决，结果会显示在本页。"
EXPLANATION_SAVED = "说明已保存，人力资源部决定前会看到；决定前你可以修改。"


def employee_required(view):
    """Log in first; a login without an employee record gets a page that says so."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request.user, "employee", None) is None:
            return render(request, "selfservice/no_employee.html")
        return view(request, *args, **kwargs)

    return wrapper


def own_cases(user) -> QuerySet[Case]:
    return cases_visible_to(user).filter(employee__user=user)


@employee_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = own_cases(request.user).order_by("-occurred_at", "-pk")
    return render(
        request,
        "selfservice/case_list.html",
        {"employee": request.user.employee, "cases": cases},
    )


@employee_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(own_cases(request.user), pk=pk)
    if case.confirmed_at is not None and case.told_at is None:
        # The first view of a confirmed case nobody told them of: told now (the appeal clock).
        case, _ = case_record_told(case=case, how=TOLD_BY_VIEW, actor=request.user)
    return _detail(request, case, AppealForm())


@employee_required
@require_POST
def case_explain_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """我的说明: the employee explains while HR has not decided (editable until then)."""
    case = get_object_or_404(own_cases(request.user), pk=pk)
    form = ExplanationForm(request.POST)
    if form.is_valid():
        try:
            case_explain(case=case, text=form.cleaned_data["text"], actor=request.user)
        except CaseError as error:  # decided meanwhile: the page no longer has the form
            messages.error(request, str(error))
        else:
            messages.success(request, EXPLANATION_SAVED)
        return redirect("me:case_detail", pk=case.pk)
    return _detail(request, case, AppealForm(), explanation_form=form)


@employee_required
@require_POST
def case_appeal_submit(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(own_cases(request.user), pk=pk)
    form = AppealForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            case_appeal(
                case=case,
                actor=request.user,
                comment=form.cleaned_data["reason"],
                attachments=form.cleaned_data["attachments"],
            )
        except (CaseError, EvidenceError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, APPEAL_SENT)
            return redirect("me:case_detail", pk=case.pk)
    return _detail(request, case, form)


def _detail(
    request: HttpRequest,
    case: Case,
    form: AppealForm,
    explanation_form: ExplanationForm | None = None,
) -> HttpResponse:
    deadline = appeal_deadline(case)
    proposed = case.state == Case.State.PROPOSED
    if explanation_form is None and proposed:
        explanation_form = ExplanationForm(initial={"text": case.explanation})
    transitions = case.transitions.select_related("actor__employee")
    evidence = case.evidence.all() if can_view_evidence(request.user, case) else []
    return render(
        request,
        "selfservice/case_detail.html",
        {
            "case": case,
            "timeline": [(t, _who(t.actor)) for t in transitions],
            "evidence": [(e, evidence_url(e)) for e in evidence],
            "deadline": deadline,
            "appeal_days": settings.CASE_APPEAL_WINDOW_DAYS,
            # Not told yet (HR looking, or no view recorded): the window has not started.
            "can_appeal": (
                case.state == Case.State.CONFIRMED
                and (deadline is None or timezone.now() <= deadline)
            ),
            "form": form,
            "explanation_form": explanation_form if proposed else None,
            "explanation_due": explanation_due(case) if proposed else None,
        },
    )


def _who(user) -> str:
    if user is None:
        return "系统"
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def evidence_url(evidence: Evidence) -> str:
    """The evidence view (violations.views) checks again who may see the file."""
    return reverse("evidence:file", args=[evidence.pk])


@employee_required
def appraisal(request: HttpRequest) -> HttpResponse:
    """我的考核: my results, newest period first, each with its lines (two queries)."""
    employee = request.user.employee
    results = results_visible_to(request.user).filter(employee=employee)
    lines = lines_visible_to(request.user).filter(employee=employee)
    by_period = defaultdict(list)
    for line in lines.order_by("occurred_on", "case_id", "pk"):
        label = Sanction(line.sanction).label if line.sanction in Sanction.values else ""
        by_period[line.period_id].append((line, label))
    periods = [
        (result, by_period[result.period_id])
        for result in results.order_by("-period__starts_on", "-period_id")
    ]
    return render(request, "selfservice/appraisal.html", {"employee": employee, "periods": periods})
