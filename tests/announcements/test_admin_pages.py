"""Every announcements admin page renders once (so a 500 cannot hide): the list, each state's
page, the add page, the bulk action's page, routes and delegations; delegations through the
service; who has not confirmed, on the author's page; the 应急 review button."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from announcements.models import Announcement, ApprovalRoute, Delegation
from announcements.selectors import announcement_unacknowledged_employees
from announcements.services import (
    announcement_approve,
    announcement_publish,
    announcement_reject,
    announcement_submit,
    announcement_withdraw,
)
from announcements.services.errors import ERROR_DELEGATION_SELF
from groups.models import ChatGroup
from tests.announcements.conftest import at
from tests.factories import announcement_draft

pytestmark = pytest.mark.django_db
State = Announcement.State
MONDAY = at(2025, 11, 17)


@pytest.fixture
def every_state(author, department_head, leader):
    def submitted(title, **kwargs):
        item = announcement_draft(author=author, title=title, **kwargs)
        return announcement_submit(announcement=item, actor=author, now=MONDAY)

    draft = announcement_draft(author=author, title="草稿")
    pending = submitted("审批中")
    approved = submitted("已批准")
    for approver in (department_head, leader):
        announcement_approve(announcement=approved, actor=approver, now=MONDAY)
    published = submitted("已发布", requires_acknowledgement=True)
    for approver in (department_head, leader):
        announcement_approve(announcement=published, actor=approver, now=MONDAY)
    announcement_publish(
        announcement=published,
        group=ChatGroup.objects.get(code="work"),
        posted_at=MONDAY,
        actor=author,
    )
    rejected = submitted("已退回")
    announcement_reject(announcement=rejected, actor=department_head, comment="重写", now=MONDAY)
    withdrawn = submitted("已撤回")
    announcement_withdraw(announcement=withdrawn, actor=author)
    items = [draft, pending, approved, published, rejected, withdrawn]
    return {item.title: Announcement.objects.get(pk=item.pk) for item in items}


@pytest.mark.parametrize("persona", ["hr", "author", "superuser"])
def test_every_page_of_every_state_renders(request, client, every_state, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("admin:announcements_announcement_changelist")).status_code == 200
    assert client.get(reverse("admin:announcements_announcement_add")).status_code == 200
    for item in every_state.values():
        url = reverse("admin:announcements_announcement_change", args=[item.pk])
        assert client.get(url).status_code == 200, item.title
    history = reverse("admin:announcements_announcement_history", args=[every_state["草稿"].pk])
    assert client.get(history).status_code == 200


def test_the_bulk_action_pages_render(client, every_state, department_head):
    client.force_login(department_head)
    for action in ("approve_selected", "reject_selected"):
        page = client.post(
            reverse("admin:announcements_announcement_changelist"),
            {"action": action, ACTION_CHECKBOX_NAME: [every_state["审批中"].pk]},
        )
        assert page.status_code == 200
        assert "审批中" in page.content.decode()


def test_the_author_sees_who_has_not_confirmed(client, every_state, author):
    client.force_login(author)
    item = every_state["已发布"]
    page = client.get(reverse("admin:announcements_announcement_change", args=[item.pk]))
    missing = list(announcement_unacknowledged_employees(item))
    assert missing  # 张伟 and the other 行管 staff eligible for 工作群
    assert page.context["unacknowledged_count"] == len(missing)
    assert page.context["acknowledged_count"] == 0
    assert f"阅读确认：已确认 0 人，尚未确认 {len(missing)} 人" in page.content.decode()
    assert missing[0].name in page.content.decode()


def test_the_approved_item_offers_the_author_the_posting_not_the_approver(
    client, every_state, author, department_head
):
    url = reverse("admin:announcements_announcement_change", args=[every_state["已批准"].pk])
    client.force_login(author)
    assert client.get(url).context["publish_form"] is not None
    client.force_login(department_head)
    assert "publish_form" not in client.get(url).context


def test_an_emergency_item_is_reviewed_after_by_another_leader(client, author, leader, leader2):
    item = announcement_draft(author=author, title="暴雨停工", category_code="emergency")
    announcement_submit(announcement=item, actor=author, now=MONDAY)
    announcement_approve(announcement=item, actor=leader, now=MONDAY)
    client.force_login(leader2)
    url = reverse("admin:announcements_announcement_change", args=[item.pk])
    assert ("review", "复核") in client.get(url).context["moves"]
    client.post(
        reverse("admin:announcements_announcement_move", args=[item.pk]),
        {"do": "review", "comment": "处置及时"},
    )
    item.refresh_from_db()
    assert item.reviewed_by == leader2


@pytest.mark.parametrize(
    "page",
    [
        "admin:announcements_approvalroute_changelist",
        "admin:announcements_approvalroute_add",
        "admin:announcements_delegation_changelist",
        "admin:announcements_delegation_add",
    ],
)
def test_route_and_delegation_pages_render(client, superuser, page):
    client.force_login(superuser)
    assert client.get(reverse(page)).status_code == 200


def test_a_route_page_renders(client, superuser):
    client.force_login(superuser)
    route = ApprovalRoute.objects.filter(group__code="work").first()
    url = reverse("admin:announcements_approvalroute_change", args=[route.pk])
    assert client.get(url).status_code == 200


def test_an_approver_sets_their_own_delegate(client, department_head, leader):
    client.force_login(department_head)
    form = {"delegate": leader.pk, "starts_on": "2025-11-17", "ends_on": "2025-11-21"}
    response = client.post(reverse("admin:announcements_delegation_add"), form)
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.approver, delegation.delegate) == (department_head, leader)


def test_delegating_to_oneself_is_refused_in_chinese(client, department_head):
    client.force_login(department_head)
    form = {"delegate": department_head.pk, "starts_on": "2025-11-17", "ends_on": "2025-11-21"}
    response = client.post(reverse("admin:announcements_delegation_add"), form)
    assert response.status_code == 200
    assert ERROR_DELEGATION_SELF in response.content.decode()
    assert not Delegation.objects.exists()


def test_hr_sees_every_delegation_an_approver_only_theirs(
    client, hr, department_head, leader, leader2
):
    Delegation.objects.create(
        approver=leader, delegate=leader2, starts_on=MONDAY.date(), ends_on=MONDAY.date()
    )
    changelist = reverse("admin:announcements_delegation_changelist")
    client.force_login(hr)
    assert client.get(changelist).context["cl"].result_count == 1
    client.force_login(department_head)
    assert client.get(changelist).context["cl"].result_count == 0


def test_hr_edits_a_route_and_a_named_step_needs_its_person(client, hr, leader):
    from announcements.admin.routes import ERROR_NAMED_NEEDS_APPROVER
    from groups.models import ContentKind

    client.force_login(hr)
    form = {
        "group": ChatGroup.objects.get(code="leisure").pk,
        "category": ContentKind.objects.get(code="notices").pk,
        "note": "",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1",
        "steps-0-approver_kind": "named",
        "steps-0-approver": "",
        "steps-0-time_limit": "1",
        "steps-0-time_unit": "working_days",
    }
    add = reverse("admin:announcements_approvalroute_add")
    refused = client.post(add, form)
    assert refused.status_code == 200
    assert ERROR_NAMED_NEEDS_APPROVER in refused.content.decode()
    assert not ApprovalRoute.objects.filter(group__code="leisure", category__code="notices")
    assert client.post(add, {**form, "steps-0-approver": leader.pk}).status_code == 302
    route = ApprovalRoute.objects.get(group__code="leisure", category__code="notices")
    assert [(s.approver_kind, s.approver) for s in route.steps.all()] == [("named", leader)]
