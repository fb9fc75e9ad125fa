"""The employee's own pages (/me/): my cases, each with its timeline, evidence and appeal (§7.1),
and my appraisal: each period's result with the lines it counted.

"My cases" means the cases of the employee linked to the login, whoever the login
is: HR, who may see every case in the admin, sees only their own here (and the
same for the appraisal).
"""

from __future__ import annotations

from collections import defaultdict
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from appraisal.selectors import lines_visible_to, results_visible_to
from selfservice.forms import AppealForm
from violations.models import Case, Evidence, Sanction
from violations.selectors import can_view_evidence, cases_visible_to
from violations.services import CaseError, EvidenceError, case_appeal
from violations.services.cases import appeal_deadline

APPEAL_SENT = "申诉已提交，人力资源部将由确认人以外的同事裁决，结果会显示在本页。"


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
    return _detail(request, case, AppealForm())


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


def _detail(request: HttpRequest, case: Case, form: AppealForm) -> HttpResponse:
    deadline = appeal_deadline(case)
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
            "can_appeal": (
                case.state == Case.State.CONFIRMED
                and deadline is not None
                and timezone.now() <= deadline
            ),
            "form": form,
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
