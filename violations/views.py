"""Evidence files, streamed only to those who may see them (never from MEDIA_ROOT by URL)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from common.downloads import file_response
from violations import selectors
from violations.models import Evidence

INLINE_TYPES = {kind for kind in Evidence.Kind if kind != Evidence.Kind.PDF}  # the images
# No script, no form, no plugin, an origin of its own: the file is shown, nothing in it runs.
EVIDENCE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


@require_safe
@login_required
def evidence_file(request, pk: int) -> HttpResponseBase:
    """One evidence file, if ``selectors.can_view_evidence`` allows it (not Finance, §7.1)."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("case__employee", "case__group"), pk=pk
    )
    if not selectors.can_view_evidence(request.user, evidence.case):
        raise PermissionDenied
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("证据文件已不存在。") from exc
    # The type is the one evidence_inspect read from the content, never the upload's claim.
    # A screenshot opens in the tab; a PDF is downloaded (docs/security.md, 8: a PDF can carry
    # script and links, and a viewer inside our origin would run it), and whatever opens runs
    # sandboxed.
    response = file_response(
        handle,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=evidence.content_type not in INLINE_TYPES,
    )
    response["Content-Security-Policy"] = EVIDENCE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
