"""Evidence files: screenshots and PDFs, judged by their content, never by their name.

Whoever adds evidence, every file is checked (evidence_check_all) before the first is
stored, so a refused file leaves nothing behind, neither a row nor a file on disk:

- evidence_add_all, more evidence for a filed case (the admin's 补充证据): the uploader's
  permission (selectors.can_add_evidence), then every file, then all of them stored;
- a case filed with its evidence (intake.case_file) and an appeal with its material
  (cases.case_appeal) check the files first and their own rule for who may file or appeal,
  then store through evidence_store_checked in the same transaction — the filer of a case
  attaches to it without the view-evidence check that adding to someone else's case needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from common.actors import Actor, actor_user, require_actor
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


def evidence_check_all(files: Sequence[tuple[str, bytes]]) -> list[str]:
    """The content type of each of ``files`` ((name, bytes) pairs), in their order; the
    first refused file's EvidenceError (evidence_inspect) otherwise. Stores nothing."""
    return [evidence_inspect(data, name=name) for name, data in files]


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
    require_actor(actor)  # first: no actor (None) is refused, whatever the files
    if not files:
        return []
    if not _may_add(actor, case, for_appeal=for_appeal):
        raise EvidenceError(ERROR_EVIDENCE_FORBIDDEN.format(pk=case.pk))
    kinds = evidence_check_all(files)
    return evidence_store_checked(
        case=case, files=files, kinds=kinds, actor=actor, for_appeal=for_appeal
    )


def evidence_store_checked(
    *,
    case: Case,
    files: Sequence[tuple[str, bytes]],
    kinds: Sequence[str],
    actor: Actor,
    for_appeal: bool = False,
) -> list[Evidence]:
    """Store ``files`` that evidence_check_all has passed (``kinds``: what it returned), by
    ``actor``, whose right to add them the caller has checked: this package's services only
    (evidence_add_all; case_file and case_appeal after their own rule, in their transaction).
    Returns the Evidence rows in the order of ``files``."""
    uploaded_by = actor_user(actor)
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
