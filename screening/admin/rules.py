"""HR's screening rules (issue 15, point 2): each tied to its catalog clause, with its words,
allowed phrases or domains by kind, and how precise it has been (confirmed ÷ proposed, point
3); and the allow-list suggestions that dismissals as 误报 make (accepted or rejected here).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When

from common.admin import QuickCheckboxMixin, RowVersionGuardMixin, WrittenByServicesMixin
from common.people import person_label
from screening import engine, selectors
from screening.models import AllowedPhrase, AllowSuggestion, Domain, Keyword, ScreeningRule
from screening.services.review import (
    RULES_PERMISSION,
    ReviewError,
    keyword_lines,
    keywords_add,
    suggestion_accept,
    suggestion_reject,
)

ERROR_FLOOD_LIMIT = "刷图规则须填写“每人每群每天图片与表情上限”。"
MESSAGE_KEYWORDS_ADDED = "已批量添加 {count} 个关键词。"
MESSAGE_ACCEPTED = "已加入允许词：{phrases}。"
MESSAGE_REJECTED = "已不采纳 {count} 条建议。"
MESSAGE_REFUSED = "“{phrase}”未处理：{reason}"
KEYWORD_KINDS = (ScreeningRule.Kind.KEYWORDS, ScreeningRule.Kind.CONFIDENTIAL)


class KeywordInline(admin.TabularInline):
    model = Keyword
    fields = ["word", "whole_word", "initials"]
    extra = 1


class AllowedPhraseInline(admin.TabularInline):
    model = AllowedPhrase
    fields = ["phrase", "added_by_name", "added_at"]
    readonly_fields = ["added_by_name", "added_at"]
    extra = 1

    @admin.display(description="添加人")
    def added_by_name(self, obj: AllowedPhrase) -> str:
        return person_label(obj.added_by) if obj.added_by_id else "—"


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["domain", "listing"]

    def clean_domain(self) -> str:
        # Stored as the engine compares it (screening.engine.clean_domain): lower case, no
        # scheme, path or "www." — so the list shows, and the unique check sees, what matches.
        return engine.clean_domain(self.cleaned_data["domain"])


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
    extra = 1


class ScreeningRuleForm(forms.ModelForm):
    bulk_keywords = forms.CharField(
        label="批量添加关键词（每行一个）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="保存时加入上面的关键词表；已有的词跳过。整词匹配和拼音首字母请在上表中逐个设置。",
    )

    class Meta:
        model = ScreeningRule
        fields = [
            "name",
            "kind",
            "rule",
            "is_active",
            "notes",
            "odd_hours_weight",
            "flag_short_links",
            "flag_unlisted_domains",
            "flag_mini_programs",
            "daily_limit",
        ]

    def clean_bulk_keywords(self) -> list[str]:
        try:
            return keyword_lines(self.cleaned_data.get("bulk_keywords") or "")
        except ReviewError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("kind") == ScreeningRule.Kind.FLOOD and not cleaned.get("daily_limit"):
            self.add_error("daily_limit", ERROR_FLOOD_LIMIT)
        return cleaned


COMMON = (None, {"fields": ["name", "kind", "rule", "is_active", "notes", "odd_hours_weight"]})
LINKS = (
    "链接、二维码与小程序",
    {"fields": ["flag_short_links", "flag_unlisted_domains", "flag_mini_programs"]},
)
FLOOD = ("刷图（§9.7）", {"fields": ["daily_limit"]})
BULK = ("批量添加关键词", {"fields": ["bulk_keywords"]})


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(QuickCheckboxMixin, RowVersionGuardMixin, admin.ModelAdmin):
    form = ScreeningRuleForm
    list_display = [
        "name",
        "kind",
        "rule",
        "is_active",
        "precision",
        "pending",
        "dismissed",
    ]
    # Only the clauses some screening rule is tied to: the catalog's other clauses would
    # each filter the list down to nothing.
    list_filter = ["kind", "is_active", ("rule", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["rule"]
    search_fields = ["name", "keywords__word", "domains__domain"]
    search_help_text = "按规则名称、关键词或域名搜索。"

    def get_queryset(self, request):
        # The figures in the same query as the rows: no query per rule (rules_with_precision).
        return selectors.rules_with_precision(super().get_queryset(request)).select_related("rule")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # the kind is not chosen yet: every option, each saying what it is for
            return [
                COMMON,
                (LINKS[0] + "（仅链接规则）", LINKS[1]),
                (FLOOD[0] + "（仅刷图规则）", FLOOD[1]),
                BULK,
            ]
        by_kind = {
            ScreeningRule.Kind.LINKS: [LINKS],
            ScreeningRule.Kind.FLOOD: [FLOOD],
        }
        return [COMMON, *by_kind.get(obj.kind, [BULK])]

    def get_inlines(self, request, obj):
        if obj is None:
            return [KeywordInline, AllowedPhraseInline, DomainInline]
        if obj.kind in KEYWORD_KINDS:
            return [KeywordInline, AllowedPhraseInline]
        if obj.kind == ScreeningRule.Kind.LINKS:
            return [DomainInline]
        return []

    def save_formset(self, request, form, formset, change):
        if formset.model is AllowedPhrase:
            for phrase in formset.save(commit=False):
                if phrase.pk is None:
                    phrase.added_by = request.user
                phrase.save()
            for gone in formset.deleted_objects:
                gone.delete()
            return
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        words = form.cleaned_data.get("bulk_keywords") or []
        if words:
            added = keywords_add(
                screening_rule=form.instance, text="\n".join(words), actor=request.user
            )
            self.message_user(request, MESSAGE_KEYWORDS_ADDED.format(count=len(added)))

    # -- columns ------------------------------------------------------------------------------

    @admin.display(description="准确率（确认 ÷ 提出）", ordering="confirmed")
    def precision(self, obj) -> str:
        return selectors.precision_text(obj.confirmed, obj.proposed)

    @admin.display(description="待审核", ordering="pending")
    def pending(self, obj) -> int:
        return obj.pending

    @admin.display(description="已驳回", ordering="dismissed")
    def dismissed(self, obj) -> int:
        return obj.dismissed


@admin.register(AllowSuggestion)
class AllowSuggestionAdmin(WrittenByServicesMixin, QuickCheckboxMixin, admin.ModelAdmin):
    """Made by 误报 dismissals (screening.services.review.hit_suggest); HR accepts or rejects."""

    list_display = [
        "phrase",
        "keyword",
        "screening_rule",
        "dismissals",
        "status",
        "example_excerpt",
        "updated_at",
    ]
    list_filter = ["status", "screening_rule"]
    list_select_related = ["screening_rule"]
    search_fields = ["phrase", "keyword"]

    def get_ordering(self, request):
        # The open ones first, the most often dismissed on top.
        open_first = Case(
            When(status=AllowSuggestion.Status.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [open_first.asc(), "-dismissals", "-updated_at"]

    actions = ["accept_suggestions", "reject_suggestions"]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(RULES_PERMISSION)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # 不采纳 closes one; its 误报 count keeps counting

    @admin.display(description="示例消息")
    def example_excerpt(self, obj: AllowSuggestion) -> str:
        return obj.example[:60] + ("…" if len(obj.example) > 60 else "")

    def _each(self, request, queryset, service) -> list[str]:
        done = []
        for suggestion in queryset.order_by("pk"):
            try:
                service(suggestion=suggestion, actor=request.user)
            except ReviewError as exc:
                refused = MESSAGE_REFUSED.format(phrase=suggestion.phrase, reason=exc)
                self.message_user(request, refused, messages.ERROR)
            else:
                done.append(suggestion.phrase)
        return done

    @admin.action(description="加入允许词", permissions=["decide"])
    def accept_suggestions(self, request, queryset):
        done = self._each(request, queryset, suggestion_accept)
        if done:
            accepted = MESSAGE_ACCEPTED.format(phrases="、".join(done))
            self.message_user(request, accepted, messages.SUCCESS)

    @admin.action(description="不采纳", permissions=["decide"])
    def reject_suggestions(self, request, queryset):
        done = self._each(request, queryset, suggestion_reject)
        if done:
            self.message_user(request, MESSAGE_REJECTED.format(count=len(done)), messages.SUCCESS)
