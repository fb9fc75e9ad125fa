"""Cases in the admin (§7.1): filing with evidence, the case page and timeline, HR's queue.

Who sees which case is violations.selectors' call (HR, leaders and finance all;
a group's admins and creator their groups'; a department head their department's,
§9.12); state changes only through violations.services.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.admin import HistoryAdmin, QuickChangeList, once_per_request, render_service_add_form
from jobs.list_export import BackgroundListExportMixin
from members.admin_search import EmployeeSearchMixin
from members.models import Employee
from members.selectors import person_label
from violations import selectors
from violations.admin.case_export import CASE_EXPORT_COLUMNS, CASE_EXPORT_RELATED
from violations.admin.decisions import CaseDecisionActions
from violations.admin.display import (
    READONLY_DISPLAY,
    CaseDisplay,
    CaseTransitionInline,
    EvidenceInline,
    attach_links,
    evidence_preview,
)
from violations.admin.filters import DepartmentFilter, GroupFilter, OccurredMonthFilter
from violations.admin.telling import CaseTellingActions
from violations.forms import CaseFileForm, EvidenceAddForm
from violations.models import Case, Rule
from violations.services import CaseError, EvidenceError, case_file, evidence_add_all
from violations.services.cases import CONFIRMATION_FIELDS

QUEUE_PAGE_SIZE = 50
ERROR_OUT_OF_SCOPE = "此案件不在你的查看范围内。"
ERROR_NO_SUCH_CASE = "没有这个案件。"
MESSAGE_EVIDENCE_ADDED = "已为案件 #{pk} 补充 {count} 个证据文件。"
DECIDE_FORM = "_refused_decide_form"  # case_page → change_view, never into the template
SEARCH_HELP = (
    "按员工姓名（包含即可）、工号（开头几位即可）或案件编号（如 #123）搜索；不搜索案情描述。"
)
MAX_CASE_NUMBER = 2**31 - 1


# -- the case list -------------------------------------------------------------------------


DECIDED_FIELDS = ["state", *CONFIRMATION_FIELDS, "told_at", "told_how", "appeal_until"]
EXPLANATION_FIELDS = ["explanation", "explained_at"]
SOURCE_FIELDS = ["source", "source_key", "reported_by", "created_at", "joint_of"]
APPEAL_STATES = (Case.State.APPEALED, Case.State.UPHELD, Case.State.OVERTURNED)
FACT_FIELDS = ["rule", "employee", "group", "occurred_at", "description"]


class CaseChangeList(QuickChangeList):
    """The case list loads what its rows show, not what the case page shows
    (cases_visible_to joins the confirmer and the reporter's employee too)."""

    def get_queryset(self, request, exclude_parameters=None):
        # Not apply_select_related: Django calls it only for a queryset without joins.
        qs = super().get_queryset(request, exclude_parameters)
        return (
            qs.select_related(None)
            .select_related(*selectors.CASE_LIST_RELATED)
            .prefetch_related(*selectors.CASE_LIST_PREFETCH)
        )


@admin.register(Case)
class CaseAdmin(
    BackgroundListExportMixin,
    EmployeeSearchMixin,
    CaseDisplay,
    CaseDecisionActions,
    CaseTellingActions,
    HistoryAdmin,
):
    """Cases: filed here or proposed by other parts; HR confirms, dismisses and decides appeals
    through the actions below, each calling one service per case."""

    list_display = [
        "case_number",
        "rule",
        "employee",
        "department",
        "group",
        "state",
        "explained",
        "points",
        "sanction",
        "source",
        "occurred_at",
        "reporter",
        "created_at",
    ]
    list_display_links = ["case_number", "rule"]
    list_filter = [
        "state",
        "rule",
        ("group", GroupFilter),
        DepartmentFilter,
        "source",
        OccurredMonthFilter,
    ]
    # Joined for the row's columns only (CaseChangeList), never Django's select_related()
    # of every key.
    list_select_related = selectors.CASE_LIST_RELATED
    # One COUNT per page: Django's "(共 N 条)" beside a search counts every case a second time.
    show_full_result_count = False
    # 50 rows, not Django's 100: rendering the rows is most of the page's CPU (85 → 58 ms
    # per request at 100,000 cases, docs/performance.md, "The admin under load").
    list_per_page = 50
    # Searched by search_word (EmployeeSearchMixin), not Django's LIKE '%…%' over these
    # joined columns (kept for the search box to show): the description is not searched.
    search_fields = ["employee__name", "employee__employee_no"]
    search_help_text = SEARCH_HELP
    add_fieldsets = [(None, {"fields": [*FACT_FIELDS, "evidence"]})]
    actions = [
        "confirm_cases",
        "dismiss_cases",
        "uphold_appeals",
        "overturn_appeals",
        "record_told_in_person",
    ]
    change_list_template = "admin/violations/case/change_list.html"
    export_columns = CASE_EXPORT_COLUMNS  # 导出 Excel (common.admin_export)
    export_filename = "违规案件"
    export_select_related = CASE_EXPORT_RELATED
    change_form_template = "admin/violations/case/change_form.html"

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def search_word(self, term: str) -> Q:
        """The cases one search word finds: its employee's name contains it, or their 工号
        starts with it (EmployeeSearchMixin), or (digits, with or without #) it is the case's
        number.

        The employees are picked on their own table (20,000 rows) and the cases by their
        employee's index; the description is not searched — LIKE '%…%' on it read all
        100,000 cases joined to their employees, twice per page (1.1 s on PostgreSQL), for
        words that name a person or a case far more often than a fact.
        """
        found = super().search_word(term)
        number = term.removeprefix("#")
        # isdecimal, not isdigit: "①" and "²" are digits that int() refuses.
        if number.isascii() and number.isdecimal() and int(number) <= MAX_CASE_NUMBER:
            found |= Q(pk=int(number))
        return found

    def get_queryset(self, request):
        # The selector decides who sees what; the start of each explanation window (the
        # 员工说明 column) is asked for the page's rows only (telling.py).
        return selectors.cases_visible_to(request.user)

    # -- permissions ------------------------------------------------------------------------

    @once_per_request
    def _sees_some_case(self, request) -> bool:
        return selectors.cases_visible_to(request.user).exists()

    @once_per_request
    def _files_somewhere(self, request) -> bool:
        user = request.user
        return (
            selectors.can_file_case(user, None) or selectors.groups_user_can_file_for(user).exists()
        )

    def has_module_permission(self, request) -> bool:
        return (
            super().has_module_permission(request)
            or self._sees_some_case(request)
            or self._files_somewhere(request)
        )

    def has_view_permission(self, request, obj=None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        if obj is None:
            return self._sees_some_case(request) or self._files_somewhere(request)
        return selectors.can_view_case(request.user, obj)

    def has_add_permission(self, request) -> bool:
        return self._files_somewhere(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # a case is a record: decided, never deleted

    def get_object(self, request, object_id, from_field=None):
        case = super().get_object(request, object_id, from_field)
        return None if case is None else attach_links(request, self, case)

    def get_case_or_refuse(self, request, object_id) -> Case:
        """The case, 403 if it exists outside the user's scope (not the admin's "may have
        been deleted"), 404 if there is no such case."""
        case = self.get_object(request, unquote(object_id))
        if case is None:
            if self._exists(object_id):
                raise PermissionDenied(ERROR_OUT_OF_SCOPE)
            raise Http404(ERROR_NO_SUCH_CASE)
        return case

    @staticmethod
    def _exists(object_id) -> bool:
        try:
            return Case.objects.filter(pk=unquote(object_id)).exists()
        except (ValueError, TypeError, ValidationError):
            return False

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def revert_allowed(self, request, object_id) -> bool:
        return False  # a revert would change the state behind the services' back

    # -- columns ----------------------------------------------------------------------------

    @admin.display(description="编号", ordering="pk")
    def case_number(self, obj: Case) -> str:
        return f"#{obj.pk}"

    @admin.display(description="部门", ordering="employee__department__path")
    def department(self, obj: Case) -> str:
        return obj.employee.department.path

    # -- forms ------------------------------------------------------------------------------

    def _facts_editable(self, request, obj: Case) -> bool:
        return obj.state == Case.State.PROPOSED and self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets

        def shown(fields, editable=False):
            return [f if editable else READONLY_DISPLAY.get(f, f) for f in fields]

        # The explanation once: beside the 处理 box when the clerk decides the case.
        explained = [] if self.shows_explanation(request, obj) else EXPLANATION_FIELDS
        return [
            ("案件", {"fields": shown(FACT_FIELDS, self._facts_editable(request, obj))}),
            *([("员工说明", {"fields": shown(explained)})] if explained else []),
            ("处理结果", {"fields": shown(DECIDED_FIELDS)}),
            ("来源", {"fields": shown(SOURCE_FIELDS)}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CaseFileForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A decided case is a record; a proposal's facts are HR's to correct.
        editable = FACT_FIELDS if self._facts_editable(request, obj) else []
        return [
            field
            for _, options in self.get_fieldsets(request, obj)
            for field in options["fields"]
            if field not in editable
        ]

    def get_autocomplete_fields(self, request):
        # The employee search is the Employee admin's: offered to those who may use it.
        employee_admin = self.admin_site.get_model_admin(Employee)
        return ["employee"] if employee_admin.has_view_permission(request) else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            # §5.2: a group's admins and creator file for their own groups only.
            kwargs["queryset"] = selectors.groups_user_can_file_for(request.user)
            kwargs["required"] = not selectors.can_file_case(request.user, None)
        elif db_field.name == "rule":
            kwargs["queryset"] = Rule.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        return [] if obj is None else [EvidenceInline, CaseTransitionInline]

    def add_view(self, request, form_url="", extra_context=None):
        """登记违规: the facts and evidence in one form; case_file stores all or nothing."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = self.get_form(request, None, change=False)
        if request.method == "POST":
            form = form_class(request.POST, request.FILES)
            if form.is_valid():
                case = self._file(request, form)
                if case is not None:
                    self.log_addition(request, case, [{"added": {}}])
                    return self.response_add(request, case)
        else:
            form = form_class(initial=self.get_changeform_initial_data(request))
        return self._render_add_form(request, form, form_url, extra_context)

    def _file(self, request, form) -> Case | None:
        data = form.cleaned_data
        try:
            return case_file(
                rule=data["rule"],
                employee=data["employee"],
                group=data["group"],
                occurred_at=data["occurred_at"],
                description=data["description"],
                evidence=data["evidence"],
                actor=request.user,
            )
        except EvidenceError as exc:
            form.add_error("evidence", str(exc))
        except CaseError as exc:
            form.add_error(None, str(exc))
        return None

    def _render_add_form(self, request, form, form_url, extra_context):
        return render_service_add_form(
            self,
            request,
            form,
            self.get_fieldsets(request),
            "登记违规",
            form_url=form_url,
            extra_context=extra_context,
        )

    def case_page(self, request, object_id, *, decide_form=None):
        """The case page as a GET shows it, answering a refused POST of its 处理 box (the
        clerk's comment kept in ``decide_form``): the change form must not take the POST."""
        request.method = "GET"
        return self.change_view(request, object_id, extra_context={DECIDE_FORM: decide_form})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self._exists(object_id):  # really missing: the admin's own answer
            return super().change_view(request, object_id, form_url, extra_context)
        case = self.get_case_or_refuse(request, object_id)
        editable = self._facts_editable(request, case)
        extra_context = dict(extra_context or {})
        decide_form = extra_context.pop(DECIDE_FORM, None)
        extra = {
            **extra_context,
            # A save row only where something can be edited (a proposal's facts), and never
            # 保存并增加另一个: a case page is about this case (decisions: the 处理 box).
            "show_save": editable,
            "show_save_and_continue": editable,
            "show_save_and_add_another": False,
            "can_add_evidence": selectors.can_add_evidence(request.user, case),
            **self.appeal_context(request, case),
            **self.decide_context(request, case, decide_form),
            **self.told_context(request, case),
        }
        return super().change_view(request, object_id, form_url, extra)

    def appeal_context(self, request, case: Case) -> dict:
        """The appeal (its reason and the employee's materials), shown where it is decided."""
        appeal = selectors.appeal_of(case) if case.state in APPEAL_STATES else None
        if appeal is None:
            return {}
        materials = []
        if selectors.can_view_evidence(request.user, case):
            materials = [evidence_preview(e) for e in case.evidence.filter(for_appeal=True)]
        return {"appeal": appeal, "appeal_by": person_label(appeal.actor), "materials": materials}

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        extra["has_decide_permission"] = self.has_decide_permission(request)
        return super().changelist_view(request, extra)

    # -- more evidence for a filed case -------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="violations_case_queue"),
            path(
                "<path:object_id>/decide/",
                wrap(self.decide_view),
                name="violations_case_decide",
            ),
            *self.telling_urls(),
            path(
                "<path:object_id>/evidence/add/",
                wrap(self.evidence_add_view),
                name="violations_case_add_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_add_view(self, request, object_id):
        case = self.get_case_or_refuse(request, object_id)
        if not selectors.can_add_evidence(request.user, case):
            raise PermissionDenied
        if request.method == "POST":
            form = EvidenceAddForm(request.POST, request.FILES)
        else:
            form = EvidenceAddForm()
        if form.is_bound and form.is_valid():
            files = form.cleaned_data["evidence"]
            try:  # all the files or none: the service checks every one before storing any
                evidence_add_all(case=case, files=files, actor=request.user)
            except EvidenceError as exc:
                form.add_error("evidence", str(exc))
            else:
                added = MESSAGE_EVIDENCE_ADDED.format(pk=case.pk, count=len(files))
                self.message_user(request, added)
                return redirect("admin:violations_case_change", case.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "form": form,
            "title": f"补充证据：案件 #{case.pk}",
        }
        return TemplateResponse(request, "admin/violations/case/add_evidence.html", context)

    # -- HR's work queue ---------------------------------------------------------------------

    def queue_view(self, request):
        """Proposals and appeals, oldest first, with their evidence: what HR decides next."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        # Without their own reports (four eyes); when each proposal's notice told its employee
        # is asked for the page's rows (mark_explanation_until).
        queue = selectors.proposed_queue(request.user)
        page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("p"))
        self.mark_explanation_until(page.object_list)
        changelist = reverse("admin:violations_case_changelist")
        # The changelist's "o" counts columns from 0, the action checkbox first (HR has actions).
        oldest_first = self.list_display.index("created_at") + 1
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "待处理：待审核的案件和申诉（先登记的在前）",
            "page": page,
            "rows": [(case, self.queue_ask(case)) for case in page.object_list],
            "bulk_url": f"{changelist}?state__exact={Case.State.PROPOSED}&o={oldest_first}",
            "appeals_url": f"{changelist}?state__exact={Case.State.APPEALED}&o={oldest_first}",
        }
        return TemplateResponse(request, "admin/violations/case/queue.html", context)
