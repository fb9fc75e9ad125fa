"""Forms of the employee's own pages: only input checks here, the decision is the service's."""

from __future__ import annotations

from django import forms

from violations.forms import EvidenceFilesField

ERROR_REASON_REQUIRED = "请填写申诉理由。"
ERROR_EXPLANATION_REQUIRED = "请填写说明。"


class AppealForm(forms.Form):
    reason = forms.CharField(
        label="申诉理由",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "请说明你认为处理不当的理由和事实。"}
        ),
        error_messages={"required": ERROR_REASON_REQUIRED},
    )
    attachments = EvidenceFilesField(label="申诉材料（可选）")


class ExplanationForm(forms.Form):
    text = forms.CharField(
        label="我的说明",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "请说明当时的情况，人力资源部决定前会看到。"}
        ),
        error_messages={"required": ERROR_EXPLANATION_REQUIRED},
    )
