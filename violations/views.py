"""Evidence files, streamed only to those who may see them (never from MEDIA_ROOT by URL)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from violations import selectors
from violations.models import Evidence


@require_safe
@login_required
def evidence_file(request, pk: int) -> FileResponse:
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
    # The type is the one evidence_inspect read from the content, never the upload's claim;
    # every accepted kind (images, PDF) is safe to show inline.
    response = FileResponse(
        handle,
        content_type=evidence.content_type,
        as_attachment=False,
        filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
