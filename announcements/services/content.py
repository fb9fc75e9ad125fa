"""Writing an announcement: what it says, where it goes, how secret it is (§4, §6.1), its
attachments (checked like a case's evidence) and its versions.

Refused before anything is saved: a category the target group does not allow (§4: no
leisure content in 管理群, no resolutions in 欢乐谷) — a group family shares its root's
kinds (ChatGroup.rules_group); 机密 aimed at any group that is not a confidential group
(§6.1: ChatGroup.is_confidential, i.e. 俊马管理群).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from django.core.files.base import ContentFile
from django.db import transaction

from announcements.models import Announcement, AnnouncementAttachment, AnnouncementVersion
from announcements.services.errors import (
    ERROR_BODY_REQUIRED,
    ERROR_CATEGORY_NOT_ALLOWED,
    ERROR_CONFIDENTIAL_TARGET,
    ERROR_NO_TARGETS,
    ERROR_NOT_AUTHOR,
    ERROR_SYSTEM_AUTHOR,
    ERROR_TITLE_REQUIRED,
    AnnouncementError,
)
from announcements.services.machine import check_move, locked, move, record_decision
from common.actors import Actor, actor_user, is_system, require_actor
from groups.models import ChatGroup, ContentKind
from violations.services.evidence import EvidenceError, evidence_check_all

State = Announcement.State
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def announcement_check_targets(
    *, category: ContentKind, groups: Iterable[ChatGroup], classification: str
) -> list[ChatGroup]:
    """The target groups, or AnnouncementError: none chosen, a category a group does not
    allow (§4), 机密 outside the confidential group (§6.1). Reads, writes nothing."""
    groups = list(groups)
    if not groups:
        raise AnnouncementError(ERROR_NO_TARGETS)
    roots = {group.pk: group.rules_group for group in groups}
    allowed = set(
        ChatGroup.allowed_content.through.objects.filter(
            chatgroup_id__in={root.pk for root in roots.values()}, contentkind_id=category.pk
        ).values_list("chatgroup_id", flat=True)
    )
    for group in groups:
        if roots[group.pk].pk not in allowed:
            raise AnnouncementError(
                ERROR_CATEGORY_NOT_ALLOWED.format(group=group.name, category=category.name)
            )
        if classification == Announcement.Classification.CONFIDENTIAL and not (
            roots[group.pk].is_confidential
        ):
            raise AnnouncementError(ERROR_CONFIDENTIAL_TARGET.format(group=group.name))
    return groups


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise AnnouncementError(ERROR_TITLE_REQUIRED)
    if not body:
        raise AnnouncementError(ERROR_BODY_REQUIRED)
    return title, body


def _check_files(files: Sequence[tuple[str, bytes]]) -> list[str]:
    # The evidence rule (type by content, size, emptiness), as this app's refusal.
    try:
        return evidence_check_all(files)
    except EvidenceError as error:
        raise AnnouncementError(error.message) from error


def _store_files(
    announcement: Announcement, files: Sequence[tuple[str, bytes]], kinds: list[str], actor: Actor
) -> list[AnnouncementAttachment]:
    stored = []
    for (name, data), kind in zip(files, kinds, strict=True):
        attachment = AnnouncementAttachment(
            announcement=announcement,
            original_name=name[:255] or "attachment",
            content_type=kind,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor_user(actor),
        )
        attachment.file.save(f"file{EXTENSIONS.get(kind, '')}", ContentFile(data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _new_version(
    announcement: Announcement, attachments: Iterable[AnnouncementAttachment], actor: Actor
) -> AnnouncementVersion:
    version = AnnouncementVersion.objects.create(
        announcement=announcement,
        number=announcement.version,
        title=announcement.title,
        body=announcement.body,
        created_by=actor_user(actor),
    )
    version.attachments.set(list(attachments))
    return version


@transaction.atomic
def announcement_create(
    *,
    title: str,
    body: str,
    category: ContentKind,
    groups: Iterable[ChatGroup],
    classification: str = Announcement.Classification.INTERNAL,
    requires_acknowledgement: bool = False,
    files: Sequence[tuple[str, bytes]] = (),
    actor: Actor,
    author=None,
) -> Announcement:
    """A draft (version 1) by ``actor`` — or by ``author`` when the system writes it (the
    demo). AnnouncementError, and nothing saved, for a refused target, text or file."""
    require_actor(actor)
    if not is_system(actor) and author is not None and author != actor:
        raise AnnouncementError(ERROR_NOT_AUTHOR)
    owner = author or actor_user(actor)
    if owner is None:  # the system writes for someone, never as nobody
        raise AnnouncementError(ERROR_SYSTEM_AUTHOR)
    title, body = _check_text(title, body)
    targets = announcement_check_targets(
        category=category, groups=groups, classification=classification
    )
    kinds = _check_files(files)
    announcement = Announcement.objects.create(
        author=owner,
        title=title,
        body=body,
        category=category,
        classification=classification,
        requires_acknowledgement=requires_acknowledgement,
    )
    announcement.target_groups.set(targets)
    attachments = _store_files(announcement, files, kinds, actor)
    _new_version(announcement, attachments, actor)
    record_decision(announcement, "", State.DRAFT, actor=actor, comment="起草")
    return announcement


@transaction.atomic
def announcement_revise(
    *,
    announcement: Announcement,
    title: str,
    body: str,
    actor: Actor,
    category: ContentKind | None = None,
    groups: Iterable[ChatGroup] | None = None,
    classification: str | None = None,
    keep_attachments: Iterable[AnnouncementAttachment] | None = None,
    files: Sequence[tuple[str, bytes]] = (),
    comment: str = "",
) -> Announcement:
    """The next version, by the author: a rejected item goes back to draft (resubmit it with
    workflow.announcement_submit), a draft just gets the new version. Every version is kept
    (AnnouncementVersion); ``keep_attachments`` (default: all of the current version's)
    plus ``files`` are the new version's attachments. The targets are checked again."""
    require_actor(actor)
    announcement = locked(announcement)
    if not is_system(actor) and actor != announcement.author:
        raise AnnouncementError(ERROR_NOT_AUTHOR)
    if announcement.state not in (State.DRAFT, State.REJECTED):
        check_move(announcement, State.DRAFT)  # refuses with the states named
    title, body = _check_text(title, body)
    category = category or announcement.category
    classification = classification or announcement.classification
    targets = announcement_check_targets(
        category=category,
        groups=announcement.target_groups.all() if groups is None else groups,
        classification=classification,
    )
    kinds = _check_files(files)
    if keep_attachments is None:
        current = announcement.versions.filter(number=announcement.version).first()
        keep = list(current.attachments.all()) if current else []
    else:
        keep = [a for a in keep_attachments if a.announcement_id == announcement.pk]
    announcement.title, announcement.body = title, body
    announcement.category, announcement.classification = category, classification
    announcement.version += 1
    fields = ("title", "body", "category", "classification", "version", "current_step")
    announcement.current_step = 0
    announcement.target_groups.set(targets)
    attachments = keep + _store_files(announcement, files, kinds, actor)
    _new_version(announcement, attachments, actor)
    note = comment.strip() or f"修改为第 {announcement.version} 版"
    if announcement.state == State.REJECTED:
        move(announcement, State.DRAFT, actor=actor, comment=note, fields=fields)
    else:
        announcement.save(update_fields=[*fields, "updated_at"])
        record_decision(announcement, State.DRAFT, State.DRAFT, actor=actor, comment=note)
    return announcement
