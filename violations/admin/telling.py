"""The employee's side of a case in the admin (issue 12, point 6): whether they explained (a
list column; the explanation itself is shown beside the 处理 box, decisions.py), and
记录已告知员工 — HR telling the employee of a confirmed case in person, the start of their
appeal window when no notice or view told them earlier (violations.services.telling).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from violations import selectors
from violations.models import Case
from violations.services import CaseError, case_record_told
from violations.services.telling import (
    TOLD_IN_PERSON,
    appeal_deadline,
    explanation_due,
    explanation_untils,
    told_in_person_refusal,
)

MESSAGE_TOLD = "已记录案件 {numbers} 已当面告知员工，申诉期自现在起算。"
MESSAGE_TOLD_BEFORE = "案件 #{pk} 已于 {at:%Y年%-m月%-d日 %H:%M} 告知员工（{how}），申诉期不变。"
MESSAGE_TOLD_REFUSED = "案件 #{pk} 未记录告知：{reason}"
# The 员工说明 column, in words.
EXPLAINED = "已说明"
EXPLANATION_AWAITED = "待说明（至 {until:%-m月%-d日}）"
NOTHING_ASKED = "—"
APPEAL_NOT_STARTED = "尚未告知员工，申诉期未开始"


class CaseTellingActions:
    """Mixed into CaseAdmin, next to CaseDecisionActions (its has_decide_permission)."""

    @admin.display(description="员工说明", ordering="explained_at")
    def explained(self, obj: Case) -> str:
        """已说明; 待说明（至 MM-DD） while HR waits for the employee's explanation of a
        proposal (explanation_due, from the page's proposals_told_at); — when nothing is
        asked (decided, nobody told, or the window passed)."""
        if obj.explained_at is not None:
            return EXPLAINED
        if obj.state != Case.State.PROPOSED:
            return NOTHING_ASKED
        if hasattr(obj, "explanation_until"):  # the list's: get_changelist_instance below
            until = obj.explanation_until
        else:
            until = explanation_due(obj)
        if until is None or timezone.now() >= until:
            return NOTHING_ASKED
        return EXPLANATION_AWAITED.format(until=timezone.localtime(until))

    def get_changelist_instance(self, request):
        """The list, each proposal with the end of its explanation window (one query for
        the page's notices, a calendar query per day, not per row)."""
        changelist = super().get_changelist_instance(request)
        self.mark_explanation_until(changelist.result_list)
        return changelist

    @staticmethod
    def queue_ask(case: Case) -> str:
        """What the case asks of HR now: a proposal whose employee may still explain can only
        be dismissed until then (violations.services.telling)."""
        until = getattr(case, "explanation_until", None)
        if until is not None and timezone.now() < until:
            return selectors.QUEUE_ASK_WAITING.format(until=timezone.localtime(until))
        return selectors.QUEUE_ASKS[case.state]

    @staticmethod
    def mark_explanation_until(cases) -> None:
        """Give each proposal not yet explained among ``cases`` (their employees loaded) its
        ``explanation_until``: one query for their notices
        (violations.selectors.proposals_told_at) and a calendar query per day, not per row
        (the list, the queue)."""
        rows = [
            case
            for case in cases
            if case.state == Case.State.PROPOSED and case.explained_at is None
        ]
        told = selectors.proposals_told_at(rows)
        untils = explanation_untils(told.values())
        for case in rows:
            told_at = told.get(case.pk)
            case.explanation_until = None if told_at is None else untils[told_at]

    @admin.display(description="申诉截止")
    def appeal_until(self, obj: Case) -> str:
        """The end of the appeal window, counted from when the employee was told (told_at)."""
        deadline = appeal_deadline(obj)
        if deadline is None:
            return APPEAL_NOT_STARTED if obj.confirmed_at is not None else NOTHING_ASKED
        return f"{timezone.localtime(deadline):%Y年%-m月%-d日 %H:%M}"

    @admin.action(description="记录已告知员工（当面告知）", permissions=["decide"])
    def record_told_in_person(self, request, queryset):
        cases = list(queryset.order_by("created_at", "pk"))
        if "apply" not in request.POST:  # first the confirmation page
            return self._told_confirm_page(request, cases, action="record_told_in_person")
        told = [f"#{case.pk}" for case in cases if self._record_told(request, case)]
        if told:
            self.message_user(
                request, MESSAGE_TOLD.format(numbers="、".join(told)), messages.SUCCESS
            )
        return None

    def _told_confirm_page(self, request, cases: list[Case], action: str = ""):
        """记录已告知员工, asked once more: it starts each case's appeal window now."""
        days = settings.CASE_APPEAL_WINDOW_DAYS
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "确认：记录已当面告知员工",
            "cases": cases,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "days": days,
            "deadline": timezone.localtime(timezone.now() + dt.timedelta(days=days)),
        }
        return TemplateResponse(request, "admin/violations/case/told_confirm.html", context)

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
        """<id>/told/: the case page's 记录已告知员工 — GET the confirmation page, POST
        (from it) the record."""
        case = self.get_case_or_refuse(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        if request.method == "GET":
            if case.told_at is not None:  # nothing left to confirm: say when, back to the case
                before = MESSAGE_TOLD_BEFORE.format(
                    pk=case.pk, at=timezone.localtime(case.told_at), how=case.told_how
                )
                self.message_user(request, before, messages.WARNING)
                return redirect("admin:violations_case_change", case.pk)
            return self._told_confirm_page(request, [case])
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        if self._record_told(request, case):
            self.message_user(request, MESSAGE_TOLD.format(numbers=f"#{case.pk}"), messages.SUCCESS)
        return redirect("admin:violations_case_change", case.pk)

    def telling_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [path("<path:object_id>/told/", wrap(self.told_view), name="violations_case_told")]
