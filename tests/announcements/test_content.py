"""Drafting (§4, §6.1): refused targets save nothing; attachments are checked like evidence;
every version is kept."""

from __future__ import annotations

import re

import pytest

from announcements.models import Announcement, AnnouncementAttachment, AnnouncementDecision
from announcements.services import AnnouncementError, announcement_create, announcement_revise
from announcements.services.errors import (
    ERROR_CATEGORY_NOT_ALLOWED,
    ERROR_CONFIDENTIAL_TARGET,
    ERROR_NO_TARGETS,
    ERROR_NOT_AUTHOR,
)
from groups.models import ChatGroup, ContentKind
from tests.factories import PDF_BYTES, PNG_BYTES, announcement_draft


def _create(author, *, groups, kind, classification="internal", files=()):
    return announcement_create(
        title="标题",
        body="正文",
        category=ContentKind.objects.get(code=kind),
        groups=list(ChatGroup.objects.filter(code__in=groups)),
        classification=classification,
        files=files,
        actor=author,
    )


def test_a_draft_keeps_version_one_and_its_first_timeline_row(author):
    announcement = announcement_draft(author=author)
    assert announcement.state == Announcement.State.DRAFT
    assert announcement.author == author
    assert list(announcement.versions.values_list("number", "title")) == [(1, "关于年终盘点的通知")]
    row = AnnouncementDecision.objects.get(announcement=announcement)
    assert (row.from_state, row.to_state, row.actor) == ("", "draft", author)


@pytest.mark.parametrize(
    ("group", "kind", "group_name", "kind_name"),
    [
        ("management", "leisure", "俊马管理群", "工作外娱乐交流"),  # no leisure in 管理群
        ("leisure", "confidential", "俊马欢乐谷", "机密事项（请示、审议、决议、会签、批复）"),
    ],
)
def test_a_category_the_group_does_not_allow_is_refused_and_nothing_saved(
    author, group, kind, group_name, kind_name
):
    message = ERROR_CATEGORY_NOT_ALLOWED.format(group=group_name, category=kind_name)
    with pytest.raises(AnnouncementError, match=re.escape(message)):
        _create(author, groups=[group], kind=kind)
    assert not Announcement.objects.exists()


def test_the_category_is_checked_in_every_target_group(author):
    with pytest.raises(AnnouncementError, match="俊马欢乐谷不允许发布“通知、公告”类内容"):
        _create(author, groups=["work", "leisure"], kind="notices")
    assert not Announcement.objects.exists()


def test_confidential_only_in_the_management_group(author):
    with pytest.raises(AnnouncementError, match="机密内容只能发布在俊马管理群") as refused:
        _create(author, groups=["work"], kind="emergency", classification="confidential")
    assert str(refused.value) == ERROR_CONFIDENTIAL_TARGET.format(group="俊马工作群")
    assert not Announcement.objects.exists()
    ok = _create(author, groups=["management"], kind="emergency", classification="confidential")
    assert ok.classification == Announcement.Classification.CONFIDENTIAL


def test_no_target_group_is_refused(author):
    with pytest.raises(AnnouncementError, match=ERROR_NO_TARGETS):
        _create(author, groups=[], kind="notices")


def test_attachments_are_checked_by_content_and_a_bad_one_saves_nothing(author, media):
    with pytest.raises(AnnouncementError, match="不是图片"):
        _create(author, groups=["work"], kind="notices", files=[("a.pdf", b"MZ\x90\x00exe")])
    assert not Announcement.objects.exists()
    assert not AnnouncementAttachment.objects.exists()
    announcement = _create(
        author, groups=["work"], kind="notices", files=[("表.png", PNG_BYTES), ("x.pdf", PDF_BYTES)]
    )
    kinds = sorted(announcement.attachments.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    assert announcement.versions.get().attachments.count() == 2


def test_revising_a_draft_makes_a_new_version_and_keeps_the_old(author, media):
    announcement = _create(author, groups=["work"], kind="notices", files=[("a.png", PNG_BYTES)])
    announcement_revise(
        announcement=announcement,
        title="新标题",
        body="新正文",
        files=[("b.pdf", PDF_BYTES)],
        actor=author,
    )
    announcement.refresh_from_db()
    assert announcement.version == 2
    assert announcement.title == "新标题"
    versions = list(announcement.versions.order_by("number"))
    assert [v.title for v in versions] == ["标题", "新标题"]
    assert versions[0].attachments.count() == 1
    assert versions[1].attachments.count() == 2  # the old one kept, the new one added


def test_only_the_author_revises(author, leader):
    announcement = announcement_draft(author=author)
    with pytest.raises(AnnouncementError, match=ERROR_NOT_AUTHOR):
        announcement_revise(announcement=announcement, title="x", body="y", actor=leader)
