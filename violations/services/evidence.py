"""Evidence files: screenshots and PDFs, judged by their content, never by their name."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from violations.models import Case, Evidence

ERROR_EVIDENCE_TYPE = "“{name}”不是图片（PNG、JPEG、GIF、WebP）或 PDF 文件，未保存。文件类型按内容判断，与文件名无关。"
ERROR_EVIDENCE_SIZE = "“{name}”太大（{size}），证据文件最大 {limit}。"
ERROR_EVIDENCE_EMPTY = "“{name}”是空文件。"

# Leading bytes of each kind we accept (what the file is, whatever it is called).
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, Evidence.Kind.PNG),
    (b"\xff\xd8\xff", 0, Evidence.Kind.JPEG),
    (b"GIF87a", 0, Evidence.Kind.GIF),
    (b"GIF89a", 0, Evidence.Kind.GIF),
    (b"%PDF-", 0, Evidence.Kind.PDF),
]


class EvidenceError(ValueError):
    pass


def evidence_inspect(data: bytes, *, name: str = "") -> str:
    """The content type of an evidence file, or EvidenceError (size, type: a renamed .exe is refused)."""
    if not data:
        raise EvidenceError(ERROR_EVIDENCE_EMPTY.format(name=name))
    limit = settings.EVIDENCE_MAX_BYTES
    if len(data) > limit:
        raise EvidenceError(
            ERROR_EVIDENCE_SIZE.format(
                name=name, size=filesizeformat(len(data)), limit=filesizeformat(limit)
            )
        )
    for magic, offset, kind in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Evidence.Kind.WEBP
    raise EvidenceError(ERROR_EVIDENCE_TYPE.format(name=name))


@transaction.atomic
def evidence_add(
    *, case: Case, data: bytes, name: str, actor=None, for_appeal: bool = False
) -> Evidence:
    """Attach a checked file to ``case`` under the private MEDIA_ROOT; returns the Evidence.
    ``for_appeal``: the employee's material for their appeal."""
    content_type = evidence_inspect(data, name=name)
    evidence = Evidence(
        case=case,
        original_name=name[:255] or "evidence",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        for_appeal=for_appeal,
    )
    evidence.file.save("upload", ContentFile(data), save=False)
    evidence.save()
    return evidence
