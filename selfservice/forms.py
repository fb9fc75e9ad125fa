"""Forms of the employee's own pages: only input checks here, the decision is the service's."""

from __future__ import annotations

from django import forms

from violations.forms import EvidenceFilesField

ERROR_REASON_REQUIRED = "请填写申诉理由。"


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
