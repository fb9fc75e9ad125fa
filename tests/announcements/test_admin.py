"""The announcements' admin: 待我审批 shows exactly each approver's items (filtered in the
queryset), one-click and bulk decisions with a comment and every refusal in Chinese, the
author's draft/submit/withdraw/revise/publish, the index count, and flat query counts."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from announcements.models import Announcement, AnnouncementDecision
from announcements.services import announcement_approve, announcement_submit
from announcements.services.errors import (
    ERROR_COMMENT_REQUIRED,
    ERROR_CONFIDENTIAL_TARGET,
    ERROR_NOT_YOUR_STEP,
)
from groups.models import ChatGroup, ContentKind
from tests.announcements.conftest import at
from tests.factories import PNG_BYTES, announcement_draft

pytestmark = pytest.mark.django_db
State = Announcement.State
MONDAY = at(2025, 11, 17)
CHANGELIST = "admin:announcements_announcement_changelist"


def change_url(item) -> str:
    return reverse("admin:announcements_announcement_change", args=[item.pk])


def move_url(item) -> str:
    return reverse("admin:announcements_announcement_move", args=[item.pk])


def pending(author, title: str, **kwargs) -> Announcement:
    item = announcement_draft(author=author, title=title, **kwargs)
    return announcement_submit(announcement=item, actor=author, now=MONDAY)


@pytest.fixture
def items(author, department_head):
    """One item waiting at each kind of step: the head (step 1 of a 工作群 notice), a company
    leader (its step 2), HR (a 工作群 greeting), plus a draft nobody is asked about."""
    at_head = pending(author, "待部门负责人")
    at_leader = pending(author, "待公司领导")
    announcement_approve(announcement=at_leader, actor=department_head, now=MONDAY)
    at_hr = pending(author, "待人力资源部", category_code="holiday_greetings")
    draft = announcement_draft(author=author, title="草稿")
    return {"head": at_head, "leader": at_leader, "hr": at_hr, "draft": draft}


def titles(response) -> set[str]:
    return {item.title for item in response.context["cl"].result_list}


def inbox(client, user, **params):
    client.force_login(user)
    return client.get(reverse(CHANGELIST), {"inbox": "waiting", **params})


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("department_head", {"待部门负责人"}),
        ("leader", {"待公司领导"}),
        ("hr", {"待人力资源部"}),
        ("outsider", set()),
        ("author", set()),  # never their own items
    ],
)
def test_inbox_shows_exactly_the_items_waiting_for_each_persona(
    request, client, items, persona, expected
):
    response = inbox(client, request.getfixturevalue(persona))
    assert response.status_code == 200
    assert titles(response) == expected


def test_the_inbox_survives_facet_counting(client, items, department_head):
    response = inbox(client, department_head, _facets="True")
    assert response.status_code == 200
    assert titles(response) == {"待部门负责人"}


def test_an_approver_sees_what_they_decided_not_what_others_have(
    client, items, department_head, leader
):
    client.force_login(department_head)
    decided = client.get(reverse(CHANGELIST), {"inbox": "decided"})
    assert titles(decided) == {"待公司领导"}
    everything = client.get(reverse(CHANGELIST))
    assert titles(everything) == {"待部门负责人", "待公司领导"}  # not HR's, not the draft
    other = client.get(change_url(items["hr"]))
    assert other.status_code in (302, 403, 404)  # the admin's "not yours": never the page


def test_hr_sees_every_item_and_the_outsider_none(client, items, hr, outsider):
    client.force_login(hr)
    assert titles(client.get(reverse(CHANGELIST))) == {
        "待部门负责人",
        "待公司领导",
        "待人力资源部",
        "草稿",
    }
    client.force_login(outsider)
    assert titles(client.get(reverse(CHANGELIST))) == set()


def test_bulk_approve_asks_for_the_comment_then_moves_each_item(client, author, department_head):
    first, second = pending(author, "通知一"), pending(author, "通知二")
    client.force_login(department_head)
    selected = {"action": "approve_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    page = client.post(reverse(CHANGELIST), selected)
    assert page.status_code == 200
    assert "将批准以下 2 份公告" in page.content.decode()
    done = client.post(reverse(CHANGELIST), {**selected, "apply": "1", "comment": "同意发布"})
    assert done.status_code == 302
    for item in (first, second):
        item.refresh_from_db()
        assert (item.state, item.current_step) == (State.PENDING, 2)
        last = item.decisions.order_by("at", "pk").last()
        assert (last.actor, last.comment, last.step) == (department_head, "同意发布", 1)


def test_bulk_reject_without_a_comment_changes_nothing(client, author, department_head):
    item = pending(author, "通知一")
    client.force_login(department_head)
    form = {"action": "reject_selected", ACTION_CHECKBOX_NAME: [item.pk], "apply": "1"}
    page = client.post(reverse(CHANGELIST), {**form, "comment": "  "})
    assert page.status_code == 200
    assert ERROR_COMMENT_REQUIRED in page.content.decode()
    item.refresh_from_db()
    assert (item.state, item.current_step) == (State.PENDING, 1)
    client.post(reverse(CHANGELIST), {**form, "comment": "时间写错了"})
    item.refresh_from_db()
    assert item.state == State.REJECTED


def test_bulk_refusals_are_reported_per_item_and_the_rest_is_done(client, items, hr):
    client.force_login(hr)  # HR sees every item, but only the greeting waits for HR
    chosen = [items["head"].pk, items["hr"].pk]
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: chosen, "apply": "1", "comment": ""},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    refusal = ERROR_NOT_YOUR_STEP.split("{")[0]
    assert any("待部门负责人" in m and "未能批准" in m and refusal in m for m in shown)
    assert any(m.startswith("已批准 1 份公告：待人力资源部") for m in shown)
    items["head"].refresh_from_db()
    items["hr"].refresh_from_db()
    assert items["head"].current_step == 1
    assert items["hr"].state == State.APPROVED


def test_no_decision_actions_for_who_has_nothing_waiting(client, items, outsider):
    client.force_login(outsider)
    response = client.get(reverse(CHANGELIST))
    assert "approve_selected" not in response.content.decode()


def test_one_click_reject_needs_a_comment_then_the_author_revises_and_resubmits(
    client, author, department_head, leader
):
    item = pending(author, "通知一")
    client.force_login(department_head)
    page = client.get(change_url(item))
    assert page.status_code == 200
    assert [key for key, _ in page.context["moves"]] == ["approve", "reject"]
    refused = client.post(move_url(item), {"do": "reject", "comment": ""}, follow=True)
    assert ERROR_COMMENT_REQUIRED in refused.content.decode()
    client.post(move_url(item), {"do": "reject", "comment": "请补充盘点范围"})
    item.refresh_from_db()
    assert item.state == State.REJECTED

    client.force_login(author)
    page = client.get(change_url(item))
    revised = {
        "target_groups": [ChatGroup.objects.get(code="work").pk],
        "category": item.category_id,
        "classification": item.classification,
        "title": "通知一（修订）",
        "body": "盘点范围：仓库和车间。",
        "_row_version": page.context["row_version"],
        **inline_management(page),
    }
    saved = client.post(change_url(item), revised)
    assert saved.status_code == 302, saved.context and saved.context["adminform"].form.errors
    item.refresh_from_db()
    assert (item.state, item.version, item.title) == (State.DRAFT, 2, "通知一（修订）")
    client.post(move_url(item), {"do": "submit"})
    item.refresh_from_db()
    assert (item.state, item.current_step) == (State.PENDING, 1)
    timeline = client.get(change_url(item)).content.decode()
    assert "请补充盘点范围" in timeline
    assert "第 2 版" in timeline


def inline_management(page) -> dict:
    """The management forms of the page's (read-only) inlines, as a browser sends them."""
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    return data


def test_the_author_withdraws_a_pending_item(client, author):
    item = pending(author, "通知一")
    client.force_login(author)
    client.post(move_url(item), {"do": "withdraw", "comment": "不发了"})
    item.refresh_from_db()
    assert item.state == State.WITHDRAWN


def test_the_author_drafts_with_an_attachment(client, author, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(author)
    form = {
        "target_groups": [ChatGroup.objects.get(code="work").pk],
        "category": ContentKind.objects.get(code="notices").pk,
        "classification": "internal",
        "title": "停电通知",
        "body": "周六 8 点至 12 点停电。",
        "files": [SimpleUploadedFile("plan.png", PNG_BYTES)],
    }
    response = client.post(reverse("admin:announcements_announcement_add"), form)
    assert response.status_code == 302
    item = Announcement.objects.get(title="停电通知")
    assert (item.author, item.state, item.attachments.count()) == (author, State.DRAFT, 1)
    attachment = item.attachments.get()
    download = client.get(
        reverse("admin:announcements_announcement_attachment", args=[item.pk, attachment.pk])
    )
    assert download.status_code == 200


def test_a_confidential_item_for_the_work_group_is_refused_and_nothing_saved(client, author):
    client.force_login(author)
    form = {
        "target_groups": [ChatGroup.objects.get(code="work").pk],
        "category": ContentKind.objects.get(code="notices").pk,
        "classification": "confidential",
        "title": "机密通知",
        "body": "内容",
    }
    response = client.post(reverse("admin:announcements_announcement_add"), form)
    assert response.status_code == 200
    assert ERROR_CONFIDENTIAL_TARGET.format(group="俊马工作群") in response.content.decode()
    assert not Announcement.objects.filter(title="机密通知").exists()


def test_publication_is_recorded_per_group_from_the_page(client, author, department_head, leader):
    item = pending(author, "通知一")
    announcement_approve(announcement=item, actor=department_head, now=MONDAY)
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    client.force_login(author)
    page = client.get(change_url(item))
    assert page.context["publish_form"] is not None
    work = ChatGroup.objects.get(code="work")
    client.post(
        move_url(item), {"do": "publish", "group": work.pk, "posted_at": "2025-11-18 09:00:00"}
    )
    item.refresh_from_db()
    assert item.state == State.PUBLISHED
    assert item.publications.get().posted_by == author


def test_the_index_counts_the_items_waiting_for_me(client, items, department_head, outsider):
    client.force_login(department_head)
    assert "待我审批：1 份公告" in client.get(reverse("admin:index")).content.decode()
    client.force_login(outsider)
    assert "待我审批" not in client.get(reverse("admin:index")).content.decode()


def test_the_inbox_query_count_is_flat_as_items_grow(client, author, department_head):
    def count() -> int:
        client.force_login(department_head)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(CHANGELIST), {"inbox": "waiting"}).status_code == 200
        return len(ctx.captured_queries)

    for n in range(3):
        pending(author, f"通知{n}")
    few = count()
    for n in range(3, 18):
        pending(author, f"通知{n}")
    assert count() == few
    assert few <= 40  # most are the sidebar's: every app asks whether the user sees anything


def test_the_timeline_shows_every_decision(client, items, hr):
    client.force_login(hr)
    page = client.get(change_url(items["leader"])).content.decode()
    for decision in AnnouncementDecision.objects.filter(announcement=items["leader"]):
        assert decision.comment in page


def test_the_index_count_costs_two_queries_whatever_the_items(
    rf, author, department_head, django_assert_max_num_queries
):
    from announcements.templatetags.announcements_inbox import waiting_count

    for n in range(5):
        pending(author, f"通知{n}")
    request = rf.get("/admin/")
    request.user = department_head
    department_head.has_perm("announcements.approve_as_leader")  # the admin loads them anyway
    with django_assert_max_num_queries(2):  # the delegations to them, then the count
        assert waiting_count({"request": request}) == 5
