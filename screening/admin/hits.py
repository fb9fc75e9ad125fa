"""筛查待审: HR's review queue of hits (issue 15, point 3) and each hit's page — the message in
its context, the sender, the group, the rule and its clause — with one-click 确认 / 驳回（误报）/
驳回（其他）, each its own POST form calling one service (screening.services.review), then on
to the next hit waiting.

Who decides is violations.services' call (HR, four eyes, not about themselves); the page
offers the buttons only to who may press them, and says why not to anyone else.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin import QuickCheckboxMixin, WrittenByServicesMixin, admin_link
from screening import selectors
from screening.models import Hit, Keyword
from screening.services.review import ReviewError, hit_confirm, hit_dismiss
from violations.models import Case
from violations.services import CaseError
from violations.services.cases import ERROR_OWN_REPORT, own_report
from violations.services.guards import DECIDE_PERMISSION, own_interest
from violations.services.telling import explanation_pending

UNMATCHED = "未匹配员工"
NO_CASE_REASON = (
    "发言人未匹配到员工（按微信号、已确认的身份和姓名都找不到），系统不凭猜测指认任何人，"
    "因此没有提出案件。如能确认发言人，可以在“违规案件”中人工登记。"
)
NOT_PROPOSED = "案件已处理（{state}），在案件页面查看处理记录。"
NOT_HR = "只有人力资源部（有“确认或驳回违规”权限的人）可以确认或驳回。"
ERROR_NO_SUCH_HIT = "没有这条筛查命中。"
ERROR_UNKNOWN_DECISION = "请选择确认或驳回。"
MESSAGE_DONE = "已{verb}案件 #{pk}（{rule}）。"
MESSAGE_REFUSED = "案件 #{pk} 未{verb}：{reason}"
MESSAGE_QUEUE_EMPTY = "待审的筛查命中已全部处理。"
# The buttons (decision → its verb in the messages).
VERBS = {"confirm": "确认", "false_positive": "驳回（误报）", "dismiss": "驳回"}


class ReviewFilter(admin.SimpleListFilter):
    """The case's state, 待审核 unless another is chosen: the list opens as HR's queue."""

    title = "审核状态"
    parameter_name = "review"
    PENDING = "pending"
    CHOICES = {
        PENDING: ("待审核", {"case__state": Case.State.PROPOSED}),
        "confirmed": ("已确认（含申诉）", {"case__state__in": selectors.CONFIRMED_STATES}),
        "dismissed": ("已驳回", {"case__state": Case.State.DISMISSED}),
        "no_case": ("无案件（未匹配员工）", {"case__isnull": True}),
        "all": ("全部", {}),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.CHOICES.items()]

    def value(self):
        value = super().value()
        return value if value in self.CHOICES else self.PENDING

    def choices(self, changelist):
        # No Django "全部" meaning "no filter": here no filter means 待审核. The counts of
        # 显示计数 as Django's own choices() writes them.
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        for i, (key, label) in enumerate(self.lookup_choices):
            if counts is not None:
                label = f"{label} ({counts.get(f'{i}__c', '-')})"
            yield {
                "selected": self.value() == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queryset.filter(**self.CHOICES[self.value()][1])


class EmployeeMatchFilter(admin.SimpleListFilter):
    title = "发言人"
    parameter_name = "sender"

    def lookups(self, request, model_admin):
        return [("matched", "已匹配员工"), ("unmatched", UNMATCHED)]

    def queryset(self, request, queryset):
        if self.value() in ("matched", "unmatched"):
            return queryset.filter(message__employee__isnull=self.value() == "unmatched")
        return queryset


def sender_label(request, message) -> str:
    """The employee (linked where the viewer may open them) and the chat's own name for them."""
    chat_name = message.sender_name or message.sender_wechat_id or "—"
    if message.employee is None:
        return format_html('<span class="unmatched">{}</span>（{}）', UNMATCHED, chat_name)
    return format_html("{}（群昵称 {}）", admin_link(request, message.employee), chat_name)


@admin.register(Hit)
class HitAdmin(WrittenByServicesMixin, QuickCheckboxMixin, admin.ModelAdmin):
    """Listed and reviewed, never edited: a hit is what the screening found."""

    list_display = [
        "sent_at",
        "group",
        "sender",
        "excerpt",
        "screening_rule",
        "weight",
        "case_state",
    ]
    list_display_links = ["sent_at", "excerpt"]
    list_filter = [
        ReviewFilter,
        "screening_rule",
        ("message__group", admin.RelatedFieldListFilter),
        EmployeeMatchFilter,
    ]
    list_select_related = selectors.HIT_LIST_RELATED
    list_per_page = 50
    show_full_result_count = False
    ordering = selectors.QUEUE_ORDER
    actions = None

    def get_queryset(self, request):
        return selectors.hits_for_list()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record behind a case

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for hit in changelist.result_list:
            hit._viewer_request = request  # for the sender's link (admin_link)
        return changelist

    # -- columns ------------------------------------------------------------------------------

    @admin.display(description="发送时间", ordering="message__sent_at")
    def sent_at(self, hit: Hit):
        return timezone.localtime(hit.message.sent_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="微信群", ordering="message__group__name")
    def group(self, hit: Hit) -> str:
        return hit.message.group.name

    @admin.display(description="发言人")
    def sender(self, hit: Hit) -> str:
        return sender_label(getattr(hit, "_viewer_request", None), hit.message)

    @admin.display(description="消息")
    def excerpt(self, hit: Hit) -> str:
        if not hit.message.content:  # an image, a sticker (§9.7): its kind, not a blank
            return f"[{hit.message.get_kind_display()}]"
        return selectors.highlighted(
            hit.message.content,
            selectors.searched_words(hit.matched),
            around=selectors.EXCERPT_CHARS,
        )

    @admin.display(description="案件状态", ordering="case__state")
    def case_state(self, hit: Hit) -> str:
        return hit.case.get_state_display() if hit.case is not None else "无案件"

    # -- a hit's page ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/decide/",
                wrap(self.decide_view),
                name="screening_hit_decide",
            ),
            *super().get_urls(),
        ]

    def _hit(self, request, object_id) -> Hit:
        if not self.has_view_permission(request):
            raise PermissionDenied
        hit = self.get_object(request, unquote(object_id))
        if hit is None:
            raise Http404(ERROR_NO_SUCH_HIT)
        return hit

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The message in context and the decision, instead of a form of the hit's fields."""
        hit = self._hit(request, object_id)
        if request.method == "POST":  # a hit is never edited: decisions go to decide_view
            raise PermissionDenied
        message = hit.message
        initials = Keyword.objects.filter(
            screening_rule_id=hit.screening_rule_id, word=hit.matched
        ).values_list("initials", flat=True)
        words = selectors.searched_words(hit.matched, [i for i in initials if i])
        rows = [
            {
                "message": m,
                "is_hit": m.pk == message.pk,
                "sender": sender_label(request, m),
                "content": selectors.highlighted(m.content, words)
                if m.pk == message.pk
                else m.content,
            }
            for m in selectors.message_context(message)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": hit,
            "title": f"筛查命中：{hit.screening_rule}",
            "hit": hit,
            "message": message,
            "rows": rows,
            "sender": sender_label(request, message),
            "case_link": admin_link(request, hit.case, f"#{hit.case_id}") if hit.case else "",
            "rule_link": admin_link(request, hit.screening_rule),
            "clause": hit.screening_rule.rule,
            "decide_url": reverse("admin:screening_hit_decide", args=[hit.pk]),
            "changelist_url": reverse("admin:screening_hit_changelist"),
            **self.decide_context(request, hit),
        }
        return TemplateResponse(request, "admin/screening/hit/review.html", context)

    def decide_context(self, request, hit: Hit) -> dict:
        """Why there is nothing to decide (``no_case``, ``refused``), or the buttons
        (``can_decide``; 确认 held back while the employee may still explain)."""
        case = hit.case
        if case is None:
            return {"no_case": NO_CASE_REASON}
        if case.state != Case.State.PROPOSED:
            return {"refused": NOT_PROPOSED.format(state=case.get_state_display())}
        user = request.user
        if not user.has_perm(DECIDE_PERMISSION):
            return {"refused": NOT_HR}
        party = own_interest(case, user) or (ERROR_OWN_REPORT if own_report(case, user) else "")
        if party:
            return {"refused": party}
        return {
            "can_decide": True,
            "confirm_refused": explanation_pending(case),
            "explanation": case.explanation,
        }

    def decide_view(self, request, object_id):
        """POST <id>/decide/: decision = confirm | false_positive | dismiss (with comment);
        then the next hit waiting, or the queue when none is left."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        hit = self._hit(request, object_id)
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        back = redirect("admin:screening_hit_change", hit.pk)
        key = request.POST.get("decision", "")
        if key not in VERBS:
            self.message_user(request, ERROR_UNKNOWN_DECISION, messages.ERROR)
            return back
        comment = request.POST.get("comment", "")
        try:
            if key == "confirm":
                case = hit_confirm(hit=hit, actor=request.user)
            else:
                case = hit_dismiss(
                    hit=hit,
                    actor=request.user,
                    false_positive=key == "false_positive",
                    comment=comment,
                )
        except (ReviewError, CaseError) as exc:
            refused = MESSAGE_REFUSED.format(pk=hit.case_id, verb=VERBS[key], reason=exc)
            self.message_user(request, refused, messages.ERROR)
            return back
        done = MESSAGE_DONE.format(verb=VERBS[key], pk=case.pk, rule=hit.screening_rule)
        self.message_user(request, done, messages.SUCCESS)
        following = selectors.next_in_queue(request.user, after=hit)
        if following is None:
            self.message_user(request, MESSAGE_QUEUE_EMPTY, messages.INFO)
            return redirect("admin:screening_hit_changelist")
        return redirect("admin:screening_hit_change", following.pk)
