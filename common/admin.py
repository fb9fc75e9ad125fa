"""Admin pieces every app uses."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, AdminErrorList, AdminForm
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from common.import_files import (
    KEEP,
    USE,
    confirmation_form,
    confirmation_salt,
    confirmation_token,
    import_file_discard,
    kept_tables,
)
from common.importing import import_error_lines, import_preview_rows, import_summary
from common.memory import cyclic_gc_paused
from common.people import person_label
from common.spreadsheets.limits import SpreadsheetError

if TYPE_CHECKING:
    # The mixins below are mixed into these classes: the type checker sees the methods they
    # extend with super(); at run time they stay plain mixins.
    from django import forms
    from import_export.admin import ImportMixin as _ImportMixin

    _ModelAdmin = admin.ModelAdmin
    _ModelForm = forms.ModelForm
else:
    _ModelAdmin = _ModelForm = _ImportMixin = object


def once_per_request(method):
    """Answer an admin's ``method(self, request)`` once per request and admin class.

    The admin asks "may this user see any row here?" of every model admin each time it
    builds the app list — twice on the index page (the page and the sidebar) — and again
    for every list and change page: for a group's admin or creator each answer is an
    object-permission query. Permissions do not change within one request (every write
    redirects), so the first answer serves the rest.
    """

    @functools.wraps(method)
    def wrapper(self, request):
        memo = request.__dict__.setdefault("_admin_answers", {})
        key = (type(self), method.__name__)
        if key not in memo:
            memo[key] = method(self, request)
        return memo[key]

    return wrapper


def may_open(request, target, site: admin.AdminSite = admin.site) -> bool:
    """Whether ``request.user`` may open ``target``'s admin page (a model class: its list),
    by the target admin's own answer."""
    model = target if isinstance(target, type) else type(target)
    if request is None or not site.is_registered(model):
        return False
    model_admin: admin.ModelAdmin = site.get_model_admin(model)
    obj = None if isinstance(target, type) else target
    return model_admin.has_view_permission(request, obj) or model_admin.has_change_permission(
        request, obj
    )


def admin_link(request, target, text: str | None = None, site: admin.AdminSite = admin.site) -> str:
    """``target`` as a link to its admin page when the viewer may open it, else as plain text.

    Django's read-only foreign keys link to the related page whoever looks: a clerk
    without the permission got a 403 behind every such link. A login is shown
    as the person behind it and never linked: /admin/auth/user/N/ is the superuser's.
    """
    if target is None:
        return "—"
    if isinstance(target, get_user_model()):
        return person_label(target)
    label = str(target) if text is None else text
    if not may_open(request, target, site):
        return label
    opts = target._meta
    try:
        url = reverse(
            f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(target.pk)]
        )
    except NoReverseMatch:
        return label
    return format_html('<a href="{}">{}</a>', url, label)


class QuickChangeList(ChangeList):
    """A list whose rows link to their pages with the very URLs Django's do, built once per
    page instead of once per link.

    For each row's link Django reverses the row's URL and, on a filtered list, merges the
    list's filters into it (add_preserved_filters), resolving the URL back to its view to
    do so: two link columns × 50 rows were ~9 ms of the proposed cases' ~50 ms of CPU
    (docs/performance.md, "The admin under load"). Rows differ only by their key: the URL
    around it and the filters carried along are the page's.
    """

    _KEY = "ROWKEY"  # stands for the row's key in the one URL reversed

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's items_for_result merges cl.preserved_filters into url_for_result's URL
        # (resolving it); the URL below carries them already: nothing is left to merge.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""
        self._row_url: tuple[str, str] | None = None

    def url_for_result(self, result):
        pk = getattr(result, self.pk_attname)
        if type(pk) is not int:  # a key that quoting may change: Django's own way
            url = super().url_for_result(result)
        else:
            if self._row_url is None:
                opts = self.opts
                pattern = reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=(self._KEY,),
                    current_app=self.model_admin.admin_site.name,
                )
                before, _, after = pattern.rpartition(self._KEY)
                self._row_url = (before, after)
            before, after = self._row_url
            url = f"{before}{pk}{after}"
        # As add_preserved_filters writes them for a row's page: the list's query string
        # as one parameter, _changelist_filters (ModelAdmin.get_preserved_filters).
        return f"{url}?{self.row_filters}" if self.row_filters else url


class QuickCheckboxMixin(_ModelAdmin):
    """A list's action checkbox written directly, the same HTML as Django's; its rows'
    links built once per page (QuickChangeList).

    Django renders each row's checkbox as a form widget through the template engine
    (forms.CheckboxInput.render): ~80 µs a row, ~8 ms of a 100-row list's CPU, for one
    fixed <input>. The header's toggle and the list's JavaScript key on the column's name
    and the class "action-select", both kept.
    """

    def get_changelist(self, request, **kwargs):
        return QuickChangeList

    def action_checkbox(self, obj):
        label = gettext("Select this object for an action - {}").format(obj)
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class ViewerLinksMixin(_ModelAdmin):
    """Lets the display methods of a change page link only where the viewer may go
    (``self.link(obj, target)``, through admin_link).

    A display method sees only the row, not the request: the row fetched for the page
    carries it (one object per request, so no shared state).
    """

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._viewer_request = request
        return obj

    def link(self, obj, target, text: str | None = None) -> str:
        return admin_link(getattr(obj, "_viewer_request", None), target, text, self.admin_site)


ROW_VERSION = "_row_version"
STALE_EDIT = "这条记录在您打开页面之后已被他人修改（例如已锁定或已处理）。您的修改没有保存：请刷新页面，看过最新内容后再改。"


def row_version(obj) -> str:
    """A fingerprint of the row as the database holds it: its fields and many-to-many
    links (a group's 管理员 included). Equal fingerprints, nothing moved in between."""
    values = [(f.attname, f.value_from_object(obj)) for f in obj._meta.concrete_fields]
    prefetched = getattr(obj, "_prefetched_objects_cache", {})
    values += [
        (
            f.name,
            # The links the page already read (prefetched for its form), else their keys.
            sorted(o.pk for o in prefetched[f.name])
            if f.name in prefetched
            else sorted(getattr(obj, f.name).values_list("pk", flat=True)),
        )
        for f in obj._meta.many_to_many
    ]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:32]


class RowVersionForm(_ModelForm):
    """Mixed into an admin's change form: the row is locked (select_for_update, held until
    the admin's transaction ends with the save) and compared with the version the page was
    built from; anything else is refused with STALE_EDIT, a missing version too.

    Django's admin saves every field of the row it loaded: without this a clerk's stale
    form puts back what another clerk or a service changed meanwhile (docs/security.md, 1; §7.1).
    SQLite has no row locks, but its IMMEDIATE transactions (config/settings) serialise
    the check and the save against any other writer.
    """

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            model = type(self.instance)
            current = model._base_manager.select_for_update().get(pk=self.instance.pk)
            if self.data.get(ROW_VERSION) != row_version(current):
                raise ValidationError(STALE_EDIT, code="stale")
        return cleaned


class RowVersionGuardMixin(_ModelAdmin):
    """Change forms that refuse to save over a row that moved since the page was built
    (RowVersionForm; the page carries the version: templates/admin/change_form.html)."""

    def get_form(self, request, obj=None, *args, **kwargs):  # auth's UserAdmin takes no `change`
        form = super().get_form(request, obj, *args, **kwargs)
        if obj is None:
            return form
        metaclass: type = type(form)  # the form's own, which collects the declared fields
        return metaclass(form.__name__, (RowVersionForm, form), {"__module__": form.__module__})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["row_version"] = self.page_row_version(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def page_row_version(self, request, obj) -> str:
        # A form sent back with errors keeps the version it was built from: a refused stale
        # save stays refused until the clerk reloads the page and sees what changed.
        # Otherwise the version of ``obj`` as the page's values were read from it, not re-read
        # now: a move committed in between must not be vouched for by a page that predates it.
        return request.POST.get(ROW_VERSION) or row_version(obj)


class ReadableHistory(HistoricalRecordContextHelper):
    """A row's history in words: choices by their labels (处分 警告, not "warning"), local
    times, logins as people, a dash for an empty value."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return "—"
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, dt.datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if field.is_relation and field.related_model is get_user_model():
            return person_label(value) if not isinstance(value, DeletedObject) else str(value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(QuickCheckboxMixin, RowVersionGuardMixin, SimpleHistoryAdmin):
    """SimpleHistoryAdmin for every app: the history page in words and with people's names,
    and a "revert to this version" that needs the change permission.

    simple_history's revert form saves a POST for anyone who may *view* the
    history (SIMPLE_HISTORY_REVERT_DISABLED only hides the button): a user with
    view rights could rewrite a group or an employee that way. Its list names who changed
    a row by login, linked to the user admin, which only a superuser may open.
    """

    object_history_list_template = "admin/history_people_list.html"

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return queryset.select_related("history_user__employee")

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.revert_allowed(request, object_id):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:  # a revert is a save: it carries the row's version too
            extra_context = {
                **(extra_context or {}),
                "row_version": self.page_row_version(request, obj),
            }
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        # simple_history's view is not atomic (the admin's change view is), and the row lock
        # RowVersionForm takes must be held until the revert is saved.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_allowed(self, request, object_id) -> bool:
        return self.has_change_permission(request, self.get_object(request, unquote(object_id)))


class ClerkImportMixin(_ImportMixin):
    """For an ImportMixin admin: file problems on the form, one line per row error
    (no tracebacks), and a refused confirmation sent back to the import page.

    The confirm step opens only the file this session's preview stored
    (docs/security.md, 4; common.import_files): the form carries a signed token, not a file name,
    and a refused preview deletes its file at once.

    The preview's table is kept for its confirmation, which then does not parse the file
    again (common.import_files.read_table_kept); the preview's rows are written in one pass
    (``preview_rows``: common.importing.import_preview_rows).

    The template shows ``error_lines``, ``summary`` and ``preview_rows`` (see members'
    import.html).
    """

    def get_confirm_form_class(self, request):
        return confirmation_form(super().get_confirm_form_class(request))

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        kwargs["confirmation_salt"] = confirmation_salt(request, self.opts)
        if import_form is not None:  # the preview: sign what it decided, name included
            initial = kwargs["initial"]
            initial["import_file_name"] = confirmation_token(
                salt=kwargs["confirmation_salt"], initial=initial
            )
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, SpreadsheetError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        response = None
        # Without the confirmation step nothing would ever use a kept table.
        keep = request.method == "POST" and not self.is_skip_import_confirm_enabled()
        try:
            with kept_tables(KEEP) if keep else contextlib.nullcontext(), cyclic_gc_paused():
                response = super().import_action(request, **kwargs)
                result = getattr(response, "context_data", {}).get("result")
                if result is not None:
                    response.context_data["error_lines"] = import_error_lines(result)
                    response.context_data["summary"] = import_summary(result)
                    if response.context_data.get("confirm_form") is not None:
                        response.context_data["preview_rows"] = import_preview_rows(result)
                if isinstance(response, TemplateResponse):
                    response.render()  # here: the preview of every row is most of the page
        finally:
            if (getattr(response, "context_data", None) or {}).get("confirm_form") is None:
                # Refused or failed: no confirmation will ever read the stored upload
                # (65 payroll and staff sheets were left in /tmp before: docs/security.md, 4).
                upload = request.FILES.get("import_file")
                import_file_discard(name=getattr(upload, "tmp_storage_name", None))
        return response

    def process_import(self, request, **kwargs):
        with kept_tables(USE), cyclic_gc_paused():
            return super().process_import(request, **kwargs)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The data changed between preview and confirmation: nothing was written.
            for line in import_error_lines(result):
                messages.error(request, line)
            opts = self.opts
            return redirect(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_import")
        return super().process_result(result, request)


def render_service_add_form(
    model_admin, request, form, fieldsets, title: str, *, form_url="", extra_context=None
):
    """The admin's add page for a form that a service saves (a case filed, a directive
    recorded): the stock page and its context, without ModelAdmin.add_view's own save."""
    admin_form = AdminForm(form, list(fieldsets), {}, [], model_admin=model_admin)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "adminform": admin_form,
        "object_id": None,
        "original": None,
        "is_popup": False,
        "to_field": None,
        "media": model_admin.media + admin_form.media,
        "inline_admin_formsets": [],
        "errors": AdminErrorList(form, []),
        "preserved_filters": model_admin.get_preserved_filters(request),
        **(extra_context or {}),
    }
    return model_admin.render_change_form(request, context, add=True, form_url=form_url)


class WrittenByServicesMixin:
    """For rows that only services write (snapshots, findings, runs, results…): listed
    and opened in the admin, never added or edited there."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# -- rows shown inside another row's page: read-only inlines and state machines' timelines --


class ReadOnlyInline(admin.TabularInline):
    """Rows of a parent (a case's evidence, a state machine's audit rows), shown to whoever
    may open the parent (its ModelAdmin checked it) — also to those who see it through
    object permissions, without the model permission. The inline's get_queryset is
    therefore not filtered by the model permission; the formset limits it to the parent,
    and get_inline_instances asks has_view_permission with the parent."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TimelineInline(ReadOnlyInline):
    """A state machine's audit rows (a common.models.Transition: from_state, to_state,
    actor, at, comment — violations' CaseTransition, appraisal's PeriodTransition): every
    move, who made it (系统: the system) and why, oldest first, for whoever may open the
    row they belong to. Here, below both apps, so that neither imports the other's admin."""

    fields = readonly_fields = ("at", "from_state", "to_state", "actor_label", "comment")
    ordering = ["at", "pk"]

    def get_queryset(self, request):
        return self.model.objects.select_related("actor__employee").order_by(*self.ordering)

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is not None  # whoever may open the row reads its timeline

    @admin.display(description="操作人")
    def actor_label(self, obj) -> str:
        return person_label(obj.actor) if obj.actor_id else "系统"
