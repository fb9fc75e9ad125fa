"""The Finding admin's case actions: HR decides whether a member leaving a group is a case
(§9.5), and proposes a §5.3.a case against whoever invited a stranger or an ineligible member.

groups never imports violations (the apps depend one way: docs/architecture.md), so the
Finding admin of groups.admin.findings cannot offer a decision that proposes a case. It is
extended here, where both are known: the same admin with the actions added, put in its
place on the admin site (unregister, then register), so its URLs and action names stay. The
§5.3.a proposal is also a button on the finding's page (POST to propose-inviter-case/).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from groups.admin.findings import FindingAdmin
from groups.models import Finding
from violations.models import Case
from violations.services import CaseError, finding_decide_left_group
from violations.services.roster_cases import finding_propose_inviter_case

INVITER_CASE_KINDS = (Finding.Kind.STRANGER, Finding.Kind.INELIGIBLE)


class FindingDecisionAdmin(FindingAdmin):
    actions = ["decide_no_case", "decide_propose_case", "propose_inviter_case"]
    change_form_template = "admin/groups/finding/change_form_cases.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/propose-inviter-case/",
                self.admin_site.admin_view(self.propose_inviter_case_view),
                name="groups_finding_propose_inviter_case",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # §5.3.a from the finding's page: the button when HR may propose it, or the case.
        finding = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if finding is not None and finding.kind in INVITER_CASE_KINDS:
            extra["inviter_case"] = Case.objects.filter(
                source=Case.Source.RECONCILIATION, source_key=f"inviter:{finding.pk}"
            ).first()
            extra["can_propose_inviter_case"] = (
                extra["inviter_case"] is None
                and finding.inviter_id is not None
                and self.has_decide_permission(request)
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @staticmethod
    def _finding_page(finding_id) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:groups_finding_change", args=[finding_id]))

    def propose_inviter_case_view(self, request, object_id):
        """The button: one §5.3.a proposal against the inviter (HR only), back to the page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        finding = self.get_object(request, object_id)
        if finding is None:
            raise Http404
        try:
            case = finding_propose_inviter_case(finding=finding, actor=request.user)
        except CaseError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                f"已向 {case.employee.name} 提出 §5.3.a 违规（案件 #{case.pk}），待人力资源部审核。",
                messages.SUCCESS,
            )
        return self._finding_page(finding.pk)

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("groups.change_finding")

    @admin.action(description="§9.5 退群：不作处理", permissions=["decide"])
    def decide_no_case(self, request, queryset):
        self._decide(request, queryset, propose=False)

    @admin.action(description="§9.5 退群：提交违规审核", permissions=["decide"])
    def decide_propose_case(self, request, queryset):
        self._decide(request, queryset, propose=True)

    @admin.action(description="向邀请人提出 §5.3.a 违规", permissions=["decide"])
    def propose_inviter_case(self, request, queryset):
        """§5.3.a: one proposal per selected stranger/ineligible finding whose inviter is
        known; each refusal (no inviter, already proposed, another kind) is said."""
        proposed = 0
        for finding in queryset.select_related("group", "employee"):
            try:
                finding_propose_inviter_case(finding=finding, actor=request.user)
            except CaseError as exc:
                self.message_user(request, f"{finding}：{exc}", messages.ERROR)
            else:
                proposed += 1
        if proposed:
            self.message_user(
                request,
                f"已向邀请人提出 {proposed} 项 §5.3.a 违规，待人力资源部审核。",
                messages.SUCCESS,
            )

    def _decide(self, request, queryset, *, propose: bool) -> None:
        # Counted before deciding: the changelist's own filter (status=open) is part of
        # ``queryset``, so a count taken afterwards misses what was just decided.
        selected = queryset.count()
        findings = list(queryset.filter(kind=Finding.Kind.LEFT_GROUP, status=Finding.Status.OPEN))
        done = []
        for finding in findings:
            try:
                done.append(
                    finding_decide_left_group(
                        finding=finding, propose_case=propose, actor=request.user
                    )
                )
            # §9.5 switched off in the catalog, or another clerk decided it a moment ago.
            except CaseError as exc:
                self.message_user(request, f"{finding}：{exc}", messages.ERROR)
        if done:
            self.message_user(request, f"已处理 {len(done)} 条退群记录。", messages.SUCCESS)
        skipped = selected - len(findings)
        if skipped:
            self.message_user(
                request, f"{skipped} 条不是待决定的退群记录，未处理。", messages.WARNING
            )


admin.site.unregister(Finding)
admin.site.register(Finding, FindingDecisionAdmin)
