"""§9.12 (issue 12, point 8): a department head sees the roster findings about their own
department's people, sub-departments included, in whichever group — read-only; nothing of
another department; of a confidential group (§6.1) their person's finding, not who else is in
it (the inviter, another member, is left out)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.actors import SystemActor
from company.roles import DEPARTMENT_HEADS
from groups.models import ChatGroup, Finding, JoinMethod
from groups.selectors import findings_visible_to
from groups.services.reconcile import snapshot_reconcile
from groups.services.roster import RosterRow, roster_snapshot_create
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:groups_finding_changelist")


def page(finding: Finding) -> str:
    return reverse("admin:groups_finding_change", args=[finding.pk])


def finding(group, employee, kind=Finding.Kind.NOT_REAL_NAME, **extra) -> Finding:
    subject = f"e:{employee.pk}" if employee else f"n:{extra.get('display_name', '')}"
    return Finding.objects.create(
        group=group,
        kind=kind,
        subject=subject,
        clause="5.3.b",
        severity=Finding.Severity.values[0],
        employee=employee,
        display_name=extra.pop("display_name", employee.name if employee else ""),
        **extra,
    )


@pytest.fixture
def world(seeded, department_head, hr):
    """销售部 (the head persona 郭杰华) with 销售部/华东 below it; 生产部 with its own head
    (head2); 办公群 run by nobody here; the seeded confidential 俊马管理群."""
    sales = department_get_or_create_by_path(path="销售部")
    east = department_get_or_create_by_path(path="销售部/华东")
    production = department_get_or_create_by_path(path="生产部")
    head2 = EmployeeFactory(
        name="周强",
        department=production,
        user=UserFactory(username="head2", roles=[DEPARTMENT_HEADS]),
    )
    department_set_head(department=production, head=head2)
    seller = EmployeeFactory(name="李娜", department=sales)
    east_seller = EmployeeFactory(name="陈静", department=east)
    worker = EmployeeFactory(name="刘洋", department=production)
    inviter = EmployeeFactory(name="吴总", department=production)
    office = ChatGroupFactory(code="office", name="办公群")
    management = ChatGroup.objects.get(code="management")
    assert management.is_confidential
    return {
        "head": department_head,
        "head2": head2.user,
        "hr": hr,
        "office": office,
        "management": management,
        "seller": finding(office, seller),
        "east_seller": finding(office, east_seller, kind=Finding.Kind.INELIGIBLE),
        "seller_left": finding(office, seller, kind=Finding.Kind.LEFT_GROUP),
        "worker": finding(office, worker),
        "stranger": finding(office, None, kind=Finding.Kind.STRANGER, display_name="路人甲"),
        "confidential": finding(
            management, seller, kind=Finding.Kind.INELIGIBLE, inviter=inviter, inviter_text="吴总"
        ),
    }


def listed(client, user) -> set[int]:
    client.force_login(user)
    response = client.get(LIST, {"status__exact": "open"})
    assert response.status_code == 200
    return {f.pk for f in response.context["cl"].result_list}


def ids(world, *names) -> set[int]:
    return {world[name].pk for name in names}


# -- who sees what --------------------------------------------------------------------------


def test_a_head_sees_their_departments_and_sub_departments_people(client, world):
    assert listed(client, world["head"]) == ids(
        world, "seller", "east_seller", "seller_left", "confidential"
    )


def test_another_head_sees_only_their_own_department(client, world):
    assert listed(client, world["head2"]) == ids(world, "worker")


def test_hr_still_sees_every_finding(client, world):
    assert ids(world, "seller", "worker", "stranger", "confidential") <= listed(client, world["hr"])


def test_a_head_opens_their_persons_finding_read_only(client, world):
    client.force_login(world["head"])
    response = client.get(page(world["seller"]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    assert 'name="_save"' not in response.content.decode()


def test_a_head_cannot_open_another_departments_finding(client, world):
    client.force_login(world["head"])
    for name in ("worker", "stranger"):
        response = client.get(page(world[name]))
        # Django's answer for a row outside get_queryset: back to the admin index.
        assert response.status_code == 302
        assert response.url == reverse("admin:index")


def test_a_head_changes_nothing(client, world):
    client.force_login(world["head"])
    response = client.post(page(world["seller"]), {"detail": "改掉"})
    assert response.status_code == 403
    world["seller"].refresh_from_db()
    assert world["seller"].detail == ""


def test_a_head_is_offered_no_action_and_a_posted_one_decides_nothing(client, world):
    client.force_login(world["head"])
    response = client.get(LIST)
    assert response.context["action_form"] is None
    left = world["seller_left"]
    client.post(
        LIST,
        {"action": "decide_propose_case", "_selected_action": [left.pk], "index": 0},
    )
    left.refresh_from_db()
    assert (left.status, left.decision) == (Finding.Status.OPEN, "")


def test_a_staff_login_heading_nothing_sees_no_finding(client, world, outsider):
    client.force_login(outsider)
    assert client.get(LIST).status_code == 403
    assert client.get(page(world["seller"])).status_code in (302, 403)


def test_the_selector_shows_a_visitor_nothing(world):
    assert not findings_visible_to(AnonymousUser()).exists()


# -- a confidential group (§6.1) --------------------------------------------------------------


def test_a_confidential_groups_finding_shows_the_person_not_the_other_members(client, world):
    client.force_login(world["head"])
    response = client.get(page(world["confidential"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "李娜" in html  # their own person
    assert "俊马管理群" in html  # the group's name is no secret
    assert "吴总" not in html  # the inviter is another member of the confidential group
    # Neither the group's page nor its snapshots are opened from here (its roster is not theirs).
    assert reverse("admin:groups_chatgroup_change", args=[world["management"].pk]) not in html
    assert "/admin/groups/rostersnapshot/" not in html


def test_the_list_leaves_out_the_inviter_for_a_head_seeing_a_confidential_finding(client, world):
    client.force_login(world["head"])
    response = client.get(LIST)
    assert "inviter_name" not in response.context["cl"].list_display
    assert "吴总" not in response.content.decode()


def test_hr_sees_the_inviter_of_a_confidential_finding(client, world):
    client.force_login(world["hr"])
    assert "吴总" in client.get(page(world["confidential"])).content.decode()


@pytest.fixture
def reconciled_invitation(world):
    """The real detector's finding: 俊马管理群's roster (with the optional provenance columns)
    shows the head's seller 李娜, who is not eligible, invited by 吴总 with a QR code."""
    seller = Finding.objects.get(pk=world["seller"].pk).employee
    rows = [
        RosterRow(
            row_number=2,
            display_name=seller.name,
            wechat_id="",
            inviter="吴总",
            joined_at=dt.datetime(2024, 3, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            join_method=JoinMethod.QR_CODE,
        )
    ]
    snapshot = roster_snapshot_create(
        group=world["management"],
        rows=rows,
        taken_at=timezone.now(),
        actor=SystemActor("test"),
    )
    snapshot_reconcile(snapshot=snapshot, judge_missing=False)
    found = Finding.objects.get(
        group=world["management"], kind=Finding.Kind.INELIGIBLE, employee=seller, status="open"
    )
    assert found.inviter.name == "吴总"  # matched by the detector, not written by the test
    return found


def test_a_head_reads_nothing_of_the_inviter_of_a_reconciled_confidential_finding(
    client, world, reconciled_invitation
):
    client.force_login(world["head"])
    response = client.get(page(reconciled_invitation))
    assert response.status_code == 200
    html = response.content.decode()
    assert "李娜" in html
    assert "不符合本群入群条件" in html  # the finding's detail is shown
    assert "吴总" not in html
    assert "邀请（" not in html  # nor how or when they were brought in
    listing = client.get(LIST).content.decode()
    assert reconciled_invitation.detail in listing
    assert "吴总" not in listing


def test_hr_reads_the_inviter_how_and_when_of_a_reconciled_confidential_finding(
    client, world, reconciled_invitation
):
    client.force_login(world["hr"])
    html = client.get(page(reconciled_invitation)).content.decode()
    inviter = reconciled_invitation.inviter
    assert f"由 吴总（{inviter.employee_no}） 邀请（二维码，2024年3月1日）" in html
    assert "吴总" in client.get(LIST).content.decode()


def test_a_head_whose_findings_are_all_in_open_groups_keeps_the_inviter_column(client, world):
    client.force_login(world["head2"])
    response = client.get(LIST)
    assert "inviter_name" in response.context["cl"].list_display


# -- cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "department"),
    # head: the 邀请人 column left out (a confidential finding); head2: shown, joined.
    [("head", "销售部/华东"), ("head2", "生产部")],
)
def test_the_heads_list_costs_the_same_queries_for_more_findings(
    client, world, persona, department
):
    client.force_login(world[persona])
    client.get(LIST)  # warm the session and the content types

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    few = cost()
    theirs = department_get_or_create_by_path(path=department)
    for n in range(15):
        person = EmployeeFactory(name=f"员工{n}", department=theirs)
        finding(world["office"], person, inviter=EmployeeFactory(name=f"邀请人{n}"))
    assert cost() == few


def test_the_heads_list_is_bounded(client, world, django_assert_max_num_queries):
    client.force_login(world["head"])
    client.get(LIST)
    # Most of it is the admin's sidebar asking every app whether the head sees anything there;
    # the findings' own part is a few queries (the headed departments, the rows with their
    # group, person and inviter joined), whatever the number of rows (the test above).
    with django_assert_max_num_queries(34):
        assert client.get(LIST).status_code == 200
