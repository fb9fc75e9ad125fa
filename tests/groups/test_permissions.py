"""§5.1/§5.2: a group's creator and admins get object permissions on it, and only on it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from company.roles import HR
from groups.models import ChatGroup, ChatGroupUserObjectPermission
from groups.selectors import chat_groups_visible_to
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _perms(user, group) -> set[str]:
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    return {
        p
        for p in ("view_chatgroup", "manage_roster", "moderate")
        if user.has_perm(f"groups.{p}", group)
    }


@pytest.fixture
def alice():
    """A creator with a login."""
    return EmployeeFactory(name="爱丽丝", user=UserFactory(username="alice"))


@pytest.fixture
def bob():
    """A group admin with a login."""
    return EmployeeFactory(name="鲍勃", user=UserFactory(username="bob"))


def test_creator_gets_view_and_roster_rights_on_that_group_only(alice):
    group = ChatGroupFactory(creator=alice)
    other = ChatGroupFactory()
    assert _perms(alice.user, group) == {"view_chatgroup", "manage_roster"}
    assert _perms(alice.user, other) == set()


def test_admin_gets_view_and_moderate_rights(bob):
    group = ChatGroupFactory()
    group.admins.add(bob)
    assert _perms(bob.user, group) == {"view_chatgroup", "moderate"}


def test_removed_admin_loses_rights(bob):
    group = ChatGroupFactory()
    group.admins.add(bob)
    group.admins.remove(bob)
    assert _perms(bob.user, group) == set()


def test_changing_creator_moves_the_rights(alice, bob):
    group = ChatGroupFactory(creator=alice)
    group.creator = bob
    group.save()
    assert _perms(alice.user, group) == set()
    assert _perms(bob.user, group) == {"view_chatgroup", "manage_roster"}


def test_login_linked_later_receives_rights():
    carol = EmployeeFactory()
    group = ChatGroupFactory(creator=carol)
    assert not ChatGroupUserObjectPermission.objects.exists()
    carol.user = UserFactory(username="carol")
    carol.save()
    assert _perms(carol.user, group) == {"view_chatgroup", "manage_roster"}


def test_unlinked_login_loses_rights(alice):
    group = ChatGroupFactory(creator=alice)
    user = alice.user
    alice.user = None
    alice.save()
    assert _perms(user, group) == set()


def test_adding_through_the_employee_side_also_grants(bob):
    group = ChatGroupFactory()
    bob.administered_groups.add(group)
    assert _perms(bob.user, group) == {"view_chatgroup", "moderate"}
    bob.administered_groups.clear()
    assert _perms(bob.user, group) == set()


def test_rights_rows_are_direct_foreign_keys_and_go_with_the_group(alice):
    group = ChatGroupFactory(creator=alice)
    assert ChatGroupUserObjectPermission.objects.filter(content_object=group).count() == 2
    group.creator = None
    group.save()
    group.delete()
    assert not ChatGroupUserObjectPermission.objects.exists()


def test_hr_sees_every_group_a_creator_only_theirs(seeded, alice):
    hr_user = UserFactory(username="hr", roles=[HR])
    mine = ChatGroupFactory(creator=alice)
    assert set(chat_groups_visible_to(hr_user)) == set(ChatGroup.objects.all())
    assert set(chat_groups_visible_to(alice.user)) == {mine}
    assert not chat_groups_visible_to(UserFactory(username="outsider")).exists()


def test_admin_changelist_shows_a_creator_only_their_groups(client, seeded, alice):
    mine = ChatGroupFactory(creator=alice, name="我的群")
    client.force_login(alice.user)
    response = client.get(reverse("admin:groups_chatgroup_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    other = ChatGroup.objects.get(code="management")
    page = client.get(reverse("admin:groups_chatgroup_change", args=[other.pk]))
    assert page.status_code in (302, 403, 404)
    assert client.get(reverse("admin:groups_chatgroup_change", args=[mine.pk])).status_code == 200


def test_admin_changelist_is_closed_to_an_outsider(client, seeded):
    client.force_login(UserFactory(username="outsider"))
    response = client.get(reverse("admin:groups_chatgroup_changelist"))
    assert response.status_code == 403


def test_creator_cannot_edit_the_group_itself(client, seeded, alice):
    mine = ChatGroupFactory(creator=alice, name="我的群")
    client.force_login(alice.user)
    url = reverse("admin:groups_chatgroup_change", args=[mine.pk])
    response = client.post(url, {"code": mine.code, "name": "改名", "member_cap": 500})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.name == "我的群"


def test_the_group_list_filters_name_no_group_the_user_cannot_see(client, seeded, alice):
    ChatGroupFactory(creator=alice, name="我的群")
    client.force_login(alice.user)
    page = client.get(reverse("admin:groups_chatgroup_changelist")).content.decode()
    assert "我的群" in page
    assert "俊马管理群" not in page  # confidential, and not theirs
