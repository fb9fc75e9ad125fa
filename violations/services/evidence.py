"""Evidence files: screenshots and PDFs, judged by their content, never by their name.

One door stores them, evidence_add_all: whoever adds evidence to a case — HR or a group's
admin filing it or adding more later, the employee (or HR) with an appeal — goes through
it, and it checks the permission and every file before it stores any, so a refused file
leaves nothing behind, neither a row nor a file on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from common.actors import Actor, actor_user
from common.exceptions import ServiceError
from violations import selectors
from violations.models import Case, Evidence

ERROR_EVIDENCE_TYPE = "“{name}”不是图片（PNG、JPEG、GIF、WebP）或 PDF 文件，未保存。文件类型按内容判断，与文件名无关。"
ERROR_EVIDENCE_SIZE = "“{name}”太大（{size}），证据文件最大 {limit}。"
ERROR_EVIDENCE_EMPTY = "“{name}”是空文件。"
ERROR_EVIDENCE_FORBIDDEN = "你不能为案件 #{pk} 补充证据。"

# Leading bytes of each kind we accept (what the file is, whatever it is called).
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, Evidence.Kind.PNG),
    (b"\xff\xd8\xff", 0, Evidence.Kind.JPEG),
    (b"GIF87a", 0, Evidence.Kind.GIF),
    (b"GIF89a", 0, Evidence.Kind.GIF),
    (b"%PDF-", 0, Evidence.Kind.PDF),
]


class EvidenceError(ServiceError):
    """A refused evidence file (its type, size, emptiness) or a refused uploader."""


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


def _may_add(actor: Actor, case: Case, *, for_appeal: bool) -> bool:
    if for_appeal:  # the appeal's own rule (case_appeal): the employee, or HR for them
        return selectors.can_appeal_case(actor, case)
    return selectors.can_add_evidence(actor, case)


@transaction.atomic
def evidence_add_all(
    *,
    case: Case,
    files: Sequence[tuple[str, bytes]],
    actor: Actor,
    for_appeal: bool = False,
) -> list[Evidence]:
    """Attach ``files`` ((name, bytes) pairs) to ``case`` under the private MEDIA_ROOT: all
    of them, or none.

    Guarantees: EvidenceError, and nothing stored, if ``actor`` may not add evidence to the
    case (selectors.can_add_evidence; with ``for_appeal``, the appeal's rule: the employee or
    HR) or if any file is refused (evidence_inspect) — every file is inspected before the
    first is written. ``for_appeal`` marks the employee's material for their appeal.
    Returns the Evidence rows in the order of ``files``.
    """
    uploaded_by = actor_user(actor)  # first: no actor (None) is refused, whatever the files
    if not files:  # a case filed, or an appeal made, without evidence: nothing to check
        return []
    if not _may_add(actor, case, for_appeal=for_appeal):
        raise EvidenceError(ERROR_EVIDENCE_FORBIDDEN.format(pk=case.pk))
    kinds = [evidence_inspect(data, name=name) for name, data in files]
    stored = []
    for (name, data), content_type in zip(files, kinds, strict=True):
        evidence = Evidence(
            case=case,
            original_name=name[:255] or "evidence",
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=uploaded_by,
            for_appeal=for_appeal,
        )
        evidence.file.save("upload", ContentFile(data), save=False)
        evidence.save()
        stored.append(evidence)
    return stored


def evidence_add(
    *, case: Case, data: bytes, name: str, actor: Actor, for_appeal: bool = False
) -> Evidence:
    """One file through evidence_add_all (same checks); returns its Evidence."""
    return evidence_add_all(case=case, files=[(name, data)], actor=actor, for_appeal=for_appeal)[0]
