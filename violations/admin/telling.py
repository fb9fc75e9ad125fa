"""The employee's side of a case in the admin (issue 12, point 6): whether they explained (a
list column; the explanation itself is shown beside the 处理 box, decisions.py), and
记录已告知员工 — HR telling the employee of a confirmed case in person, the start of their
appeal window when no notice or view told them earlier (violations.services.telling).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone

from violations.models import Case
from violations.services import CaseError, case_record_told
from violations.services.telling import TOLD_IN_PERSON, told_in_person_refusal

MESSAGE_TOLD = "已记录案件 {numbers} 已当面告知员工，申诉期自现在起算。"
MESSAGE_TOLD_BEFORE = "案件 #{pk} 已于 {at:%Y-%m-%d %H:%M} 告知员工（{how}），申诉期不变。"
MESSAGE_TOLD_REFUSED = "案件 #{pk} 未记录告知：{reason}"


class CaseTellingActions:
    """Mixed into CaseAdmin, next to CaseDecisionActions (its has_decide_permission)."""

    @admin.display(description="员工说明", boolean=True, ordering="explained_at")
    def explained(self, obj: Case) -> bool | None:
        """Whether the employee explained; — for a case with nothing to explain any more."""
        if obj.explained_at is not None:
            return True
        return False if obj.state == Case.State.PROPOSED else None

    @admin.action(description="记录已告知员工（当面告知）", permissions=["decide"])
    def record_told_in_person(self, request, queryset):
        told = []
        for case in queryset.order_by("created_at", "pk"):
            if self._record_told(request, case):
                told.append(f"#{case.pk}")
        if told:
            self.message_user(
                request, MESSAGE_TOLD.format(numbers="、".join(told)), messages.SUCCESS
            )

    def _record_told(self, request, case: Case) -> bool:
        """One case: recorded (True), or a message saying why not (told before, undecided,
        or the clerk has a stake in the case: told_in_person_refusal)."""
        try:
            case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=request.user)
        except CaseError as exc:
            refused = MESSAGE_TOLD_REFUSED.format(pk=case.pk, reason=exc)
            self.message_user(request, refused, messages.ERROR)
            return False
        if not recorded:
            before = MESSAGE_TOLD_BEFORE.format(
                pk=case.pk, at=timezone.localtime(case.told_at), how=case.told_how
            )
            self.message_user(request, before, messages.WARNING)
        return recorded

    def told_context(self, request, case: Case) -> dict:
        """The case page's 告知员工 box, for HR, on a confirmed case nobody told the employee
        of yet: the button, or for a clerk with a stake in the case only why not."""
        if not self.has_decide_permission(request):
            return {}
        if case.confirmed_at is None or case.told_at is not None:
            return {}
        refused = told_in_person_refusal(case, request.user)
        return {"told_refused": refused} if refused else {"can_record_told": True}

    def told_view(self, request, object_id):
        """POST <id>/told/: the case page's 记录已告知员工 button."""
        case = self.get_case_or_refuse(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if self._record_told(request, case):
            self.message_user(request, MESSAGE_TOLD.format(numbers=f"#{case.pk}"), messages.SUCCESS)
        return redirect("admin:violations_case_change", case.pk)

    def telling_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [path("<path:object_id>/told/", wrap(self.told_view), name="violations_case_told")]
