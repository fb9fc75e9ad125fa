"""The admin's forms for announcements: drafting and revising, a decision's comment, the
posting in a group, a delegation. Input checks only: the services decide (they check again)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from announcements.models import Announcement
from announcements.services import AnnouncementError, announcement_check_targets
from announcements.services.errors import (
    ERROR_COMMENT_REQUIRED,
    ERROR_DELEGATION_SELF,
    ERROR_NO_GROUP,
    ERROR_POSTED_IN_FUTURE,
)
from announcements.services.posting import CLOCK_SKEW
from common.people import person_label
from groups.models import ChatGroup
from violations.forms import EvidenceFilesField


class AnnouncementForm(forms.ModelForm):
    """The author's draft or revision. The §4/§6.1 check (announcement_check_targets) runs
    here too, so a refused target is shown on the form before anything is written."""

    files = EvidenceFilesField(
        label="附件",
        help_text="图片（PNG、JPEG、GIF、WebP）或 PDF，按文件内容检查类型；修改时新上传的附件加在原有附件之后。",
    )

    class Meta:
        model = Announcement
        fields = [
            "target_groups",
            "category",
            "classification",
            "title",
            "body",
            "requires_acknowledgement",
        ]
        widgets = {"target_groups": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "target_groups" in self.fields:
            self.fields["target_groups"].queryset = ChatGroup.objects.filter(
                is_active=True
            ).order_by("code")

    def clean(self):
        cleaned = super().clean()
        category, groups = cleaned.get("category"), cleaned.get("target_groups")
        if category is not None and groups is not None:
            try:
                announcement_check_targets(
                    category=category,
                    groups=groups,
                    classification=cleaned.get("classification")
                    or Announcement.Classification.INTERNAL,
                )
            except AnnouncementError as error:
                raise forms.ValidationError(str(error)) from error
        return cleaned


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="意见",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class RejectForm(CommentForm):
    comment = forms.CharField(
        label="退回意见",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": ERROR_COMMENT_REQUIRED},
    )


class PublishForm(forms.Form):
    group = forms.ModelChoiceField(
        label="已发布到",
        queryset=ChatGroup.objects.none(),
        error_messages={"required": ERROR_NO_GROUP},
    )
    posted_at = forms.DateTimeField(label="发布时间", initial=timezone.now)

    def clean_posted_at(self):
        # Shown on the form; announcement_publish checks it again.
        posted_at = self.cleaned_data["posted_at"]
        if posted_at is not None and posted_at > timezone.now() + CLOCK_SKEW:
            minutes = int(CLOCK_SKEW.total_seconds() // 60)
            raise forms.ValidationError(ERROR_POSTED_IN_FUTURE.format(minutes=minutes))
        return posted_at

    def __init__(self, *args, announcement: Announcement, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        posted = announcement.publications.values("group_id")
        self.fields["group"].queryset = announcement.target_groups.exclude(pk__in=posted)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


def logins():
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .select_related("employee")
        .order_by("username")
    )


class DelegationForm(forms.Form):
    required_css_class = "required"

    approver = UserChoiceField(label="审批人", queryset=logins())
    delegate = UserChoiceField(label="代理人", queryset=logins())
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="事由", required=False, max_length=200)

    def __init__(self, *args, may_choose_approver: bool, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        delegate = self.fields["delegate"]
        delegate.error_messages["invalid_choice"] = ERROR_DELEGATION_SELF
        if not may_choose_approver:  # an approver sets their own (the service checks it too)
            del self.fields["approver"]
            approver = user.pk
        else:  # HR for another approver: once chosen, that approver is no delegate of theirs
            approver = self["approver"].value()
        # Nobody delegates to themselves: not offered, rather than offered and refused.
        if str(approver or "").isdigit():
            delegate.queryset = delegate.queryset.exclude(pk=int(approver))
