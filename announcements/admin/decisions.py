"""The moves on an announcement from the admin: the buttons of its page (提交审批, 撤回, 批准,
退回, 登记发布, 事后复核) and the list's bulk 批准/退回 with one comment.

Each button and each selected item calls one service in its own transaction
(announcements.services): it checks again who may and in which state, and a refusal is shown
as its Chinese message, naming the item; nothing of a refused item is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from announcements.admin.forms import CommentForm, PublishForm, RejectForm
from announcements.admin.scope import LEADER_PERMISSION, sees_every_announcement
from announcements.models import Announcement
from announcements.selectors import (
    announcement_unacknowledged_employees,
    announcements_waiting_for,
)
from announcements.services import (
    AnnouncementError,
    announcement_approve,
    announcement_publish,
    announcement_reject,
    announcement_review,
    announcement_submit,
    announcement_withdraw,
)
from announcements.services.posting import PUBLISH_PERMISSION
from common.admin import once_per_request

State = Announcement.State
MESSAGE_DONE = "公告“{title}”已{verb}。"
MESSAGE_REFUSED = "公告“{title}”未能{verb}：{reason}"
MESSAGE_DONE_MANY = "已{verb} {count} 份公告：{titles}。"
# An approval that moves the item on to its next step is not yet its approval (§4).
MESSAGE_STEP_AGREED = "公告“{title}”已同意（第 {step} 步，共 {steps} 步），等待下一环节审批。"
MESSAGE_AGREED_MANY = "已同意 {count} 份公告的当前环节，等待下一环节审批：{titles}。"
ERROR_UNKNOWN_MOVE = "请选择要做的操作。"
UNACKNOWLEDGED_SHOWN = 200  # the page lists the first ones; the count says how many in all


@dataclass(frozen=True)
class Move:
    verb: str
    form: type
    apply: Callable[[Announcement, object, dict], object]  # (item, actor, cleaned data)


MOVES = {
    "submit": Move(
        "提交审批",
        CommentForm,
        lambda a, user, data: announcement_submit(announcement=a, actor=user),
    ),
    "withdraw": Move(
        "撤回",
        CommentForm,
        lambda a, user, data: announcement_withdraw(
            announcement=a, actor=user, comment=data["comment"]
        ),
    ),
    "approve": Move(
        "批准",
        CommentForm,
        lambda a, user, data: announcement_approve(
            announcement=a, actor=user, comment=data["comment"]
        ),
    ),
    "reject": Move(
        "退回",
        RejectForm,
        lambda a, user, data: announcement_reject(
            announcement=a, actor=user, comment=data["comment"]
        ),
    ),
    "review": Move(
        "复核",
        CommentForm,
        lambda a, user, data: announcement_review(
            announcement=a, actor=user, comment=data["comment"]
        ),
    ),
    "publish": Move(
        "登记发布",
        PublishForm,
        lambda a, user, data: announcement_publish(
            announcement=a, group=data["group"], posted_at=data["posted_at"], actor=user
        ),
    ),
}


class AnnouncementMoves:
    """Mixed into AnnouncementAdmin."""

    # -- the list's bulk decisions ----------------------------------------------------------

    @once_per_request
    def _has_waiting(self, request) -> bool:
        return announcements_waiting_for(request.user).exists()

    def has_decide_permission(self, request) -> bool:
        # Offered to whoever has something waiting; the service decides per item anyway.
        return self._has_waiting(request)

    @admin.action(description="批准所选公告（可填写意见）", permissions=["decide"])
    def approve_selected(self, request, queryset):
        return self._bulk(request, queryset, "approve_selected", "approve")

    @admin.action(description="退回所选公告（须填写意见）", permissions=["decide"])
    def reject_selected(self, request, queryset):
        return self._bulk(request, queryset, "reject_selected", "reject")

    def _apply(self, request, announcement: Announcement, key: str, data: dict):
        """The service's result, or None after showing its refusal."""
        move = MOVES[key]
        try:
            return move.apply(announcement, request.user, data) or True
        except AnnouncementError as error:
            self.message_user(request, refused_message(announcement, move, error), messages.ERROR)
            return None

    def _bulk(self, request, queryset, action: str, key: str):
        """The page with the comment; on "apply", one service call per item."""
        move = MOVES[key]
        items = list(queryset.order_by("created_at", "pk"))
        bound = "apply" in request.POST
        form = move.form(request.POST if bound else None)
        if bound and form.is_valid():
            done, agreed = [], []
            for item in items:
                result = self._apply(request, item, key, form.cleaned_data)
                if result is not None:
                    (agreed if moved_on(key, result) else done).append(item.title)
            if done:
                summary = MESSAGE_DONE_MANY.format(
                    verb=move.verb, count=len(done), titles="、".join(done)
                )
                self.message_user(request, summary, messages.SUCCESS)
            if agreed:
                summary = MESSAGE_AGREED_MANY.format(count=len(agreed), titles="、".join(agreed))
                self.message_user(request, summary, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{move.verb}公告",
            "verb": move.verb,
            "action": action,
            "items": items,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/announcements/announcement/decide.html", context)

    # -- the buttons of one item's page (their own form, outside the change form) ----------

    def moves_context(self, request, announcement: Announcement) -> dict:
        """Which buttons the page offers this user; the services check again on POST."""
        user = request.user
        state = announcement.state
        is_author = announcement.author_id == user.pk
        waiting = announcements_waiting_for(user).filter(pk=announcement.pk).exists()
        offered = []
        if is_author and state == State.DRAFT:
            offered.append("submit")
        if waiting:
            offered += ["approve", "reject"]
        if (
            announcement.review_after
            and announcement.reviewed_at is None
            and state in (State.APPROVED, State.PUBLISHED)
            and not is_author
            and user.has_perm(LEADER_PERMISSION)
        ):
            offered.append("review")
        if is_author and state in (State.DRAFT, State.PENDING, State.REJECTED):
            offered.append("withdraw")
        context: dict = {"moves": [(key, MOVES[key].verb) for key in offered]}
        if offered:
            context["comment_form"] = CommentForm()
        if state == State.APPROVED and (is_author or user.has_perm(PUBLISH_PERMISSION)):
            context["publish_form"] = PublishForm(announcement=announcement)
        if (
            announcement.requires_acknowledgement
            and state == State.PUBLISHED
            and (is_author or sees_every_announcement(user))
        ):
            missing = announcement_unacknowledged_employees(announcement)
            context["unacknowledged"] = list(missing[:UNACKNOWLEDGED_SHOWN])
            context["unacknowledged_count"] = missing.count()
            context["acknowledged_count"] = announcement.acknowledgements.count()
        return context

    def move_view(self, request, object_id):
        """POST <id>/move/ with ``do`` (MOVES) and its form's fields, then back to the page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        announcement = self.get_object(request, object_id)
        if announcement is None:
            raise PermissionDenied
        back = redirect("admin:announcements_announcement_change", announcement.pk)
        key = request.POST.get("do", "")
        if key not in MOVES:
            self.message_user(request, ERROR_UNKNOWN_MOVE, messages.ERROR)
            return back
        move = MOVES[key]
        if move.form is PublishForm:
            form = PublishForm(request.POST, announcement=announcement)
        else:
            form = move.form(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    refused = refused_message(announcement, move, error)
                    self.message_user(request, refused, messages.ERROR)
            return back
        result = self._apply(request, announcement, key, form.cleaned_data)
        if result is not None:
            if moved_on(key, result):
                done = MESSAGE_STEP_AGREED.format(
                    title=announcement.title,
                    step=result.current_step - 1,
                    steps=result.steps.filter(version=result.version).count(),
                )
            else:
                done = MESSAGE_DONE.format(title=announcement.title, verb=move.verb)
            self.message_user(request, done, messages.SUCCESS)
        return back


def moved_on(key: str, result) -> bool:
    """An approval after which the item still waits for a later step."""
    return key == "approve" and getattr(result, "state", None) == State.PENDING


def refused_message(announcement: Announcement, move: Move, error) -> str:
    """The refusal naming the item once: 公告“X”未能批准：当前为…, not the title twice when
    the service's message names it already."""
    reason = str(error)
    named = f"公告“{announcement.title}”"
    if reason.startswith(named):
        reason = reason.removeprefix(named)
    return MESSAGE_REFUSED.format(title=announcement.title, verb=move.verb, reason=reason)
