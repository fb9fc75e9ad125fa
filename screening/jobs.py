"""The chat-log import as a background job (jobs.runners names it): the admin's upload
(screening.admin.imports) is moved to private media and read on the worker, as the person
who uploaded it (docs/background-jobs.md)."""

from __future__ import annotations

from typing import BinaryIO, cast

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from common.actors import Actor
from groups.models import ChatGroup
from jobs.runners import JobOutcome, Progress
from screening.models import ChatImport
from screening.selectors import can_import_chatlog
from screening.services.importing import chatlog_import, chatlog_rescreen

# Screening again is for who edits the rules (it follows a change of them).
RESCREEN_PERMISSION = "screening.change_screeningrule"

IMPORTED = (
    "导入完成：读取 {rows_read} 行，新消息 {messages_new} 条，已导入过 {messages_duplicate} 条，"
    "其他会话 {messages_skipped} 条未导入；"
    "命中 {hits} 条，提出案件 {cases_proposed} 个；未匹配到员工的发言人 {senders_unmatched} 个。"
)


def chatlog_import_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """screening.services.importing.chatlog_import, all or nothing (a file it refuses stores
    nothing, and the job fails with its Chinese message). Who may import for the group is
    asked again: the job may run much later. The upload (``params["upload"]``) is deleted
    here, whatever the outcome."""
    upload = params["upload"]
    try:
        group = ChatGroup.objects.filter(pk=params["group"]).first()
        if group is None or not can_import_chatlog(actor, group):
            raise PermissionDenied
        progress(1)
        with default_storage.open(upload, "rb") as file:
            chat_import = chatlog_import(
                group=group,
                file=cast(BinaryIO, file),  # a storage's File reads like one
                filename=params["file_name"],
                actor=actor,
                room=params.get("room", ""),
                progress=progress,
            )
    finally:
        default_storage.delete(upload)
    figures = {
        name: getattr(chat_import, name)
        for name in (
            "rows_read",
            "messages_new",
            "messages_duplicate",
            "messages_skipped",
            "hits",
            "cases_proposed",
            "senders_unmatched",
        )
    }
    return JobOutcome(
        text=IMPORTED.format(**figures), result={"chat_import": chat_import.pk, **figures}
    )


RESCREENED = "重新筛查完成：{group}“{file}”的消息新命中 {hits} 条。"


def chatlog_rescreen_job(*, params: dict, actor: Actor, progress: Progress) -> JobOutcome:
    """screening.services.importing.chatlog_rescreen of one import (the 重新筛查 action), as
    the HR clerk who asked: the right to change the rules is asked again here."""
    chat_import = (
        ChatImport.objects.filter(pk=params["chat_import"]).select_related("group").first()
    )
    if chat_import is None or not actor.has_perm(RESCREEN_PERMISSION):
        raise PermissionDenied
    hits = chatlog_rescreen(chat_import=chat_import, actor=actor, progress=progress)
    text = RESCREENED.format(
        group=chat_import.group.name, file=chat_import.original_name, hits=hits
    )
    return JobOutcome(text=text, result={"chat_import": chat_import.pk, "hits": hits})
