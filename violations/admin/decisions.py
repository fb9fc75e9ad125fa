"""HR's decisions on cases as admin actions: confirm, dismiss, uphold, overturn.

Each shows a confirmation page with a required comment, then calls one service
per case, each in its own transaction, and reports every refusal (four eyes,
wrong state) by case.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from violations.forms import ConfirmForm, DecisionForm
from violations.models import Case, Sanction
from violations.services import (
    CaseError,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    repeat_offence,
)


class CaseDecisionActions:
    """Mixed into CaseAdmin; gated by has_decide_permission (violations.decide_case)."""

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("violations.decide_case")

    @admin.action(description="确认所选案件（填写意见）", permissions=["decide"])
    def confirm_cases(self, request, queryset):
        def confirm(case, data):
            case_confirm(
                case=case,
                actor=request.user,
                comment=data["comment"],
                points=data.get("points"),
                override_reason=data.get("override_reason", ""),
            )

        return self._decide(
            request, queryset, "confirm_cases", "确认", confirm, ConfirmForm, preview=True
        )

    @admin.action(description="驳回所选案件（填写理由）", permissions=["decide"])
    def dismiss_cases(self, request, queryset):
        def dismiss(case, data):
            case_dismiss(case=case, actor=request.user, comment=data["comment"])

        return self._decide(request, queryset, "dismiss_cases", "驳回", dismiss)

    @admin.action(description="申诉不成立：维持原处理", permissions=["decide"])
    def uphold_appeals(self, request, queryset):
        def uphold(case, data):
            case_decide_appeal(case=case, actor=request.user, uphold=True, comment=data["comment"])

        return self._decide(request, queryset, "uphold_appeals", "维持", uphold)

    @admin.action(description="申诉成立：撤销处理", permissions=["decide"])
    def overturn_appeals(self, request, queryset):
        def overturn(case, data):
            case_decide_appeal(case=case, actor=request.user, uphold=False, comment=data["comment"])

        return self._decide(request, queryset, "overturn_appeals", "撤销", overturn)

    @staticmethod
    def _offence(case: Case) -> dict:
        """What confirming would fix, shown before HR confirms."""
        offence = repeat_offence(case)
        return {
            "points": offence.points,
            "sanction": Sanction(offence.sanction).label,
            "number": offence.number,
        }

    def _decide(
        self, request, queryset, action, verb, decide, form_class=DecisionForm, *, preview=False
    ):
        """Show the confirmation page with the comment; on "apply", decide case by case."""
        cases = list(queryset.order_by("created_at", "pk"))
        bound = "apply" in request.POST
        form = form_class(request.POST if bound else None, case_count=len(cases))
        if bound and form.is_valid():
            done = []
            for case in cases:
                try:
                    decide(case, form.cleaned_data)
                except CaseError as exc:
                    self.message_user(request, f"案件 #{case.pk} 未{verb}：{exc}", messages.ERROR)
                else:
                    done.append(f"#{case.pk}")
            if done:
                self.message_user(
                    request, f"已{verb} {len(done)} 个案件：{'、'.join(done)}。", messages.SUCCESS
                )
            return None
        rows = [(case, self._offence(case) if preview else None) for case in cases]
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
