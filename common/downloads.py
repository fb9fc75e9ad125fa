"""Every file the app serves is answered here: one content type per kind, one header.

A download's name is often Chinese (员工-2024-03-01.xlsx, 2024-03 考核.xlsx). RFC 6266 allows
only ASCII in ``filename="…"``; a non-ASCII name goes in ``filename*=utf-8''…`` (RFC 5987),
or browsers save "download" or garbage. Django's ``content_disposition_header`` writes the
right one of the two; every view goes through ``file_response`` (or ``name_download`` for a
response a library built) so none writes it by hand.
"""

from __future__ import annotations

from typing import IO

from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv"


def file_response(
    content: bytes | IO[bytes],
    *,
    filename: str,
    content_type: str = XLSX_CONTENT_TYPE,
    as_attachment: bool = True,
) -> HttpResponseBase:
    """A response serving ``content`` under ``filename``: bytes as they are, or an open file
    streamed (and closed once sent), so that a large workbook never sits in memory.

    ``as_attachment=False`` lets the browser show the file in the tab (``inline``)."""
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        name_download(response, filename, as_attachment=as_attachment)
        return response
    # FileResponse writes the same header (content_disposition_header) and the length.
    return FileResponse(
        content, as_attachment=as_attachment, filename=filename, content_type=content_type
    )


def name_download(response: HttpResponseBase, filename: str, *, as_attachment: bool = True) -> None:
    """Set (or correct) the name a response is saved under: for a response a library built
    with a bare ``filename="…"`` (django-import-export's export), as for our own."""
    disposition = content_disposition_header(as_attachment=as_attachment, filename=filename)
    if disposition:  # None only for an inline file without a name
        response["Content-Disposition"] = disposition
