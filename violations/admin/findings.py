"""The Finding admin's case actions: HR decides whether a member leaving a group is a case
(§9.5), and proposes a §5.3.a case against whoever invited a stranger or an ineligible member.

groups never imports violations (the apps depend one way: docs/architecture.md), so the
Finding admin of groups.admin.roster cannot offer a decision that proposes a case. It is
extended here, where both are known: the same admin with the two actions added, put in its
place on the admin site (unregister, then register), so its URLs and action names stay.
"""

from __future__ import annotations

from django.contrib import admin, messages

from groups.admin.roster import FindingAdmin
from groups.models import Finding
from violations.services import CaseError, finding_decide_left_group
from violations.services.roster_cases import finding_propose_inviter_case


class FindingDecisionAdmin(FindingAdmin):
    actions = ["decide_no_case", "decide_propose_case", "propose_inviter_case"]

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
