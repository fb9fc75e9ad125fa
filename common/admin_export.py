"""导出 Excel on an admin list: exactly the rows the list shows, as an xlsx download.

The export is built the way the list is: the ModelAdmin's own ChangeList, made from the
request (``get_changelist_instance``), so that who sees which rows (the admin's
``get_queryset``, i.e. the app's selector), the list's filters, its search and its order are
the list's own — never a second, hand-written filter that could drift from it (an export that
builds its own queryset leaks the rows the list hides: docs/security.md, 10). Only the page
is not the list's: every row of the filtered list is exported, not the 50 on screen.

- Who may: whoever may open the list (the admin's ``has_view_permission``); anyone else is
  refused (403), a visitor or an employee without the admin is sent to the login page.
- Safe to open: every cell through ``common.spreadsheets.sheets`` (never a formula: a cell
  starting with ``=`` is written as text with a leading ``'``; docs/security.md, 8).
- Bounded memory, flat queries: the rows come from the list's queryset in chunks
  (``iterator(chunk_size=…)``, its joins and prefetches per chunk), each row goes into
  openpyxl's write-only sheet at once, the workbook into a temporary file that the response
  streams (``common.downloads.file_response``); the list's own queries (its filters'
  choices, its count) are a fixed few.
- Chinese throughout: the headers, the sheet and the file's name (违规案件-2026-11-24.xlsx,
  in the RFC 5987 form browsers read).

A ModelAdmin opts in with ``ChangeListExportMixin``, its ``export_columns`` and
``export_filename``; its list template shows the link with
``{% include "admin/export_xlsx_link.html" %}`` in its object tools.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import openpyxl
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import lookup_field
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData

from common.downloads import file_response
from common.spreadsheets.sheets import Column, write_sheet

if TYPE_CHECKING:
    from django.contrib import admin

    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object

EXPORT_CHUNK = 2000
IS_FACETS_VAR = "_facets"  # django.contrib.admin.views.main's (not in django-stubs)
# What only steers the page on screen: the export takes every row of the filtered list.
SCREEN_ONLY_PARAMS = (PAGE_VAR, IS_FACETS_VAR, ERROR_FLAG)


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its Chinese header, where its value comes from — a function
    of the row, or the name of a field or display method of the list (as ``list_display``
    names them; a display method's HTML is exported as its text) — and how it is shown.

    ``shown_with``: the column is exported only when the list, for this user, shows that
    ``list_display`` column — the list's own rule for what a viewer may not read (e.g.
    findings' inviter, hidden from a department head in a confidential group, §6.1)."""

    header: str
    value: Callable[[Any], object] | str
    width: int = 14
    number_format: str | None = None
    shown_with: str | None = None

    @property
    def column(self) -> Column:
        return Column(self.header, self.width, self.number_format)


class ChangeListExportMixin(_ModelAdmin):
    """导出 Excel for a ModelAdmin's list (see the module docstring)."""

    export_columns: Sequence[ExportColumn] = ()
    export_filename = ""  # the file's and the sheet's name before the date: 违规案件
    # Joined or prefetched for the export's columns beyond what the list's rows load.
    export_select_related: Sequence[str] = ()
    export_prefetch_related: Sequence[str] = ()

    @property
    def export_xlsx_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export_xlsx"

    def get_urls(self):
        return [
            path(
                "export-xlsx/",
                self.admin_site.admin_view(self.export_xlsx_view),
                name=self.export_xlsx_url_name,
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # Only whoever may see the list gets this far: the link is theirs to follow.
        url = reverse(f"admin:{self.export_xlsx_url_name}", current_app=self.admin_site.name)
        return super().changelist_view(request, {**(extra_context or {}), "export_xlsx_url": url})

    def get_export_columns(self, request) -> list[ExportColumn]:
        shown = set(self.get_list_display(request))
        return [c for c in self.export_columns if c.shown_with is None or c.shown_with in shown]

    def export_xlsx_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.export_changelist(request)
        except IncorrectLookupParameters:  # as the list answers a bad filter: its error page
            return redirect(f"{reverse(f'admin:{self._changelist_url_name}')}?{ERROR_FLAG}=1")
        large = self.export_large(request, changelist)
        if large is not None:
            return large
        out = tempfile.TemporaryFile()  # FileResponse streams it, then closes it
        self.export_write(request, changelist, out)
        out.seek(0)
        return file_response(out, filename=self.export_file_name())

    def export_changelist(self, request):
        """The list as ``request`` asks for it (its filters, search, order, the user's scope),
        without what only steers the page on screen; IncorrectLookupParameters as the list."""
        params = request.GET.copy()
        for name in SCREEN_ONLY_PARAMS:
            params.pop(name, None)
        request.GET = params
        return self.get_changelist_instance(request)

    def export_large(self, request, changelist):
        """A response instead of the download (a list too large for the request: the
        background export, jobs.list_export), or None to download here."""
        return None

    def export_file_name(self) -> str:
        return f"{self.export_filename}-{timezone.localdate().isoformat()}.xlsx"

    def export_write(
        self, request, changelist, out, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write every row of ``changelist`` as an xlsx to the binary file ``out``; returns
        the number of rows. ``progress(percent)`` is told every EXPORT_CHUNK rows."""
        columns = self.get_export_columns(request)
        queryset = changelist.queryset
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        if self.export_prefetch_related:
            queryset = queryset.prefetch_related(*self.export_prefetch_related)
        total = max(changelist.result_count, 1)
        written = 0

        def rows() -> Iterator[list[object]]:
            nonlocal written
            for row in self._export_rows(queryset.iterator(chunk_size=EXPORT_CHUNK), columns):
                yield row
                written += 1
                if progress is not None and written % EXPORT_CHUNK == 0:
                    progress(written * 95 // total)

        workbook = openpyxl.Workbook(write_only=True)
        write_sheet(workbook, self.export_filename, [c.column for c in columns], rows())
        workbook.save(out)
        return written

    @property
    def _changelist_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_changelist"

    def _export_rows(self, objects, columns: Sequence[ExportColumn]) -> Iterator[list[object]]:
        for obj in objects:
            yield [self._export_value(obj, column.value) for column in columns]

    def _export_value(self, obj, source: Callable[[Any], object] | str) -> object:
        if callable(source):
            return source(obj)
        _, _, value = lookup_field(source, obj, self)
        if isinstance(value, SafeData):  # a display method's HTML: its text
            return html.unescape(strip_tags(str(value)))
        return value
