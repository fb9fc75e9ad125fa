"""HR's decisions on cases: confirm, dismiss, uphold, overturn — as list actions for many
cases and as the 处理 box on the case page for one (with the employee's explanation beside
it). 记录已告知员工 is telling.py's.

Both call the same service per case through DECISIONS, each in its own transaction;
the services enforce who may decide and four eyes, and a refusal is reported by case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from common.actors import Actor
from violations.forms import CaseDecideForm, ConfirmForm, DecisionForm
from violations.models import Case, Sanction
from violations.services import (
    CaseError,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    explanation_due,
    repeat_offence,
)
from violations.services.cases import own_report
from violations.services.guards import own_interest
from violations.services.telling import explanation_pending

ERROR_UNKNOWN_DECISION = "请选择一个处理结果。"
NOTE_OWN_REPORT = "你是报告人：请另一位人力资源部同事确认或驳回（四眼原则）。"
# What HR reads after deciding, on the case page and from the list (verb: Decision.verb).
MESSAGE_REFUSED = "案件 #{pk} 未{verb}：{reason}"
MESSAGE_DECIDED = "已{verb}案件 #{pk}。"
MESSAGE_DECIDED_MANY = "已{verb} {count} 个案件：{numbers}。"


@dataclass(frozen=True)
class Decision:
    verb: str  # the button's text and the messages' verb
    state: str  # the state a case must be in to be offered this decision
    apply: Callable[[Case, Actor, dict], object]  # (case, actor, cleaned form data)


def _confirm(case, actor, data) -> None:
    case_confirm(
        case=case,
        actor=actor,
        comment=data["comment"],
        points=data.get("points"),
        override_reason=data.get("override_reason", ""),
    )


DECISIONS = {
    "confirm": Decision("确认", Case.State.PROPOSED, _confirm),
    "dismiss": Decision(
        "驳回",
        Case.State.PROPOSED,
        lambda case, actor, data: case_dismiss(case=case, actor=actor, comment=data["comment"]),
    ),
    "uphold": Decision(
        "维持",
        Case.State.APPEALED,
        lambda case, actor, data: case_decide_appeal(
            case=case, actor=actor, uphold=True, comment=data["comment"]
        ),
    ),
    "overturn": Decision(
        "撤销",
        Case.State.APPEALED,
        lambda case, actor, data: case_decide_appeal(
            case=case, actor=actor, uphold=False, comment=data["comment"]
        ),
    ),
}


def decisions_for(case: Case) -> list[tuple[str, Decision]]:
    """The buttons of the case page's 处理 box: 确认/驳回 for a proposal, 维持/撤销 for an appeal."""
    return [(key, decision) for key, decision in DECISIONS.items() if decision.state == case.state]


def offence_preview(case: Case) -> dict:
    """What confirming would fix, shown before HR confirms."""
    offence = repeat_offence(case)
    return {
        "points": offence.points,
        "sanction": Sanction(offence.sanction).label,
        "number": offence.number,
    }


class CaseDecisionActions:
    """Mixed into CaseAdmin; gated by has_decide_permission (violations.decide_case)."""

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("violations.decide_case")

    @admin.action(description="确认所选案件（填写意见）", permissions=["decide"])
    def confirm_cases(self, request, queryset):
        return self._decide(request, queryset, "confirm_cases", "confirm", ConfirmForm, True)

    @admin.action(description="驳回所选案件（填写理由）", permissions=["decide"])
    def dismiss_cases(self, request, queryset):
        return self._decide(request, queryset, "dismiss_cases", "dismiss")

    @admin.action(description="申诉不成立：维持原处理", permissions=["decide"])
    def uphold_appeals(self, request, queryset):
        return self._decide(request, queryset, "uphold_appeals", "uphold")

    @admin.action(description="申诉成立：撤销处理", permissions=["decide"])
    def overturn_appeals(self, request, queryset):
        return self._decide(request, queryset, "overturn_appeals", "overturn")

    def _apply(self, request, case: Case, key: str, data: dict) -> bool:
        """One decision on one case; a refusal becomes a message naming the case."""
        decision = DECISIONS[key]
        try:
            decision.apply(case, request.user, data)
        except CaseError as exc:
            refused = MESSAGE_REFUSED.format(pk=case.pk, verb=decision.verb, reason=exc)
            self.message_user(request, refused, messages.ERROR)
            return False
        return True

    def _decide(self, request, queryset, action, key, form_class=DecisionForm, preview=False):
        """Show the confirmation page with the comment; on "apply", decide case by case."""
        verb = DECISIONS[key].verb
        cases = list(queryset.order_by("created_at", "pk"))
        bound = "apply" in request.POST
        form = form_class(request.POST if bound else None, case_count=len(cases))
        if bound and form.is_valid():
            done = [f"#{c.pk}" for c in cases if self._apply(request, c, key, form.cleaned_data)]
            if done:
                decided = MESSAGE_DECIDED_MANY.format(
                    verb=verb, count=len(done), numbers="、".join(done)
                )
                self.message_user(request, decided, messages.SUCCESS)
            return None
        rows = [(case, offence_preview(case) if preview else None) for case in cases]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{verb}违规案件",
            "verb": verb,
            "action": action,
            "rows": rows,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/violations/case/decide.html", context)

    # -- the 处理 box on the case page (its own form and URL, outside the change form) --------

    def decide_refusal(self, request, case: Case) -> str | None:
        """None: the case page offers no 处理 box (not HR, nothing to decide); "" it does;
        otherwise why this clerk does not decide it — party to it (own_interest) or, for a
        proposal, its reporter (four eyes, own_report)."""
        if not self.has_decide_permission(request) or not decisions_for(case):
            return None
        party = own_interest(case, request.user)
        return party or (NOTE_OWN_REPORT if own_report(case, request.user) else "")

    def shows_explanation(self, request, case: Case) -> bool:
        """The employee's explanation is shown beside the 处理 box (then not again in the
        change form's 员工说明 fieldset)."""
        return case.state == Case.State.PROPOSED and self.decide_refusal(request, case) == ""

    def decide_context(self, request, case: Case, form: CaseDecideForm | None = None) -> dict:
        """What the case page shows HR who may decide it; nothing for anyone else, and for
        HR who is party to the case (theirs, an appeal they filed, a proposal they reported)
        only why not. ``form``: the refused decision's, re-shown with what the clerk typed."""
        refused = self.decide_refusal(request, case)
        if refused is None:
            return {}
        if refused:
            return {"decide_refused": refused}
        proposed = case.state == Case.State.PROPOSED
        return {
            "decide_form": form or CaseDecideForm(case=case),
            "decisions": decisions_for(case),
            "offence": offence_preview(case) if proposed else None,
            # While the employee may still explain, 确认 is disabled with the reason.
            "confirm_refused": explanation_pending(case) if proposed else "",
            # The employee's side, read before deciding, and how long HR still waits for it.
            "explanation": case if proposed else None,
            "explanation_due": explanation_due(case) if proposed else None,
            "now": timezone.now(),
        }

    def decide_view(self, request, object_id):
        """POST <id>/decide/: one decision with its comment, then back to the case page."""
        case = self.get_case_or_refuse(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = redirect("admin:violations_case_change", case.pk)
        key = request.POST.get("decision", "")
        if key not in DECISIONS:
            self.message_user(request, ERROR_UNKNOWN_DECISION, messages.ERROR)
            return back
        verb = DECISIONS[key].verb
        form = CaseDecideForm(request.POST, case=case)
        if form.is_valid() and self._apply(request, case, key, form.cleaned_data):
            self.message_user(
                request, MESSAGE_DECIDED.format(verb=verb, pk=case.pk), messages.SUCCESS
            )
            return back
        for errors in form.errors.values():
            for error in errors:
                refused = MESSAGE_REFUSED.format(pk=case.pk, verb=verb, reason=error)
                self.message_user(request, refused, messages.ERROR)
        # Refused: the case page again, with what the clerk typed (not lost to a redirect).
        return self.case_page(request, object_id, decide_form=form)
