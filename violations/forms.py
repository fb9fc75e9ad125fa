"""Admin forms for cases: filing with evidence, adding evidence, HR's decisions.

Forms only parse and pre-check input; the decisions are the services' (violations.services).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from violations.models import Case
from violations.services import EvidenceError, evidence_inspect
from violations.services.evidence import ERROR_EVIDENCE_SIZE

MAX_EVIDENCE_FILES = 5
ERROR_TOO_MANY_FILES = "一次最多上传 {limit} 个证据文件。"
ERROR_OVERRIDE_ONE_CASE = "调整扣分只能逐个案件进行：请只选择一个案件。"
ERROR_FILE_GROUP = "你不能为这个群登记违规：只能选择你担任群主或管理员的群。"
ERROR_GROUP_REQUIRED = "请选择发生违规的群。"
ERROR_DECISION_COMMENT = "请填写处理意见。"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Several screenshots/PDFs in one input; cleans to [(name, bytes)], each judged by content.

    Every file is checked before any is stored, so a refused second file never
    leaves the first on disk.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "证据")
        kwargs.setdefault(
            "help_text",
            f"截图（PNG、JPEG、GIF、WebP）或 PDF，最多 {MAX_EVIDENCE_FILES} 个，"
            f"每个不超过 {filesizeformat(settings.EVIDENCE_MAX_BYTES)}。",
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[tuple[str, bytes]]:
        uploads = [
            upload for upload in (data if isinstance(data, list | tuple) else [data]) if upload
        ]
        if not uploads:
            super().clean(None, initial)  # raises "required" when it is
            return []
        if len(uploads) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(ERROR_TOO_MANY_FILES.format(limit=MAX_EVIDENCE_FILES))
        files: list[tuple[str, bytes]] = []
        errors: list[str] = []
        for upload in uploads:
            upload = super().clean(upload, initial)
            limit = settings.EVIDENCE_MAX_BYTES
            # Refuse by the declared size before reading it into memory.
            if upload.size > limit:
                errors.append(
                    ERROR_EVIDENCE_SIZE.format(
                        name=upload.name,
                        size=filesizeformat(upload.size),
                        limit=filesizeformat(limit),
                    )
                )
                continue
            data = upload.read()
            try:
                evidence_inspect(data, name=upload.name)
            except EvidenceError as exc:
                errors.append(str(exc))
                continue
            files.append((upload.name, data))
        if errors:
            raise forms.ValidationError(errors)
        return files


class CaseFileForm(forms.ModelForm):
    """登记违规: the case's facts and its evidence; CaseAdmin.add_view calls case_file."""

    evidence = EvidenceFilesField()

    class Meta:
        model = Case
        fields = ["rule", "employee", "group", "occurred_at", "description"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Whether the group is required is the admin's call (CaseAdmin.formfield_for_foreignkey).
        self.fields["group"].error_messages.update(
            invalid_choice=ERROR_FILE_GROUP, required=ERROR_GROUP_REQUIRED
        )


class EvidenceAddForm(forms.Form):
    """More evidence for a case that is already filed."""

    evidence = EvidenceFilesField(required=True)


class DecisionForm(forms.Form):
    """HR's comment on a bulk decision: required, it goes into every case's record."""

    comment = forms.CharField(
        label="意见",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="写入每个案件的处理记录；必填。",
    )

    def __init__(self, *args, case_count: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.case_count = case_count


class ConfirmForm(DecisionForm):
    """Confirming: for a single case HR may set other points than the rule's, with a reason."""

    points = forms.DecimalField(
        label="调整扣分",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        help_text="留空则按条款（含累犯规则）计算。",
    )
    override_reason = forms.CharField(label="调整理由", required=False, max_length=255)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.case_count != 1:
            # Points are per case: an override never applies to a batch.
            del self.fields["points"]
            del self.fields["override_reason"]

    def clean(self):
        cleaned = super().clean()
        if self.case_count != 1 and self.data.get("points"):
            raise forms.ValidationError(ERROR_OVERRIDE_ONE_CASE)
        return cleaned


class CaseDecideForm(ConfirmForm):
    """The 处理 box of one case's page: 处理意见 always; for a proposal, optionally other
    points than the rule's, with a reason (case_confirm checks both)."""

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case_count=1, **kwargs)
        comment = self.fields["comment"]
        comment.label = "处理意见"
        comment.help_text = "写入案件的处理记录；必填。"
        comment.error_messages["required"] = ERROR_DECISION_COMMENT
        if case.state != Case.State.PROPOSED:
            del self.fields["points"]
            del self.fields["override_reason"]
