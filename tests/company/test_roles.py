"""The roles' rights for the workflow apps (company/roles.py, docs/permissions.md): what each
role holds by its role alone; a head's and a group admin's scope comes from who they are
(directives.selectors, announcements.selectors), not from a model permission."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# (persona, permission, held)
RIGHTS = [
    ("hr", "workdays.add_calendarday", True),
    ("hr", "workdays.change_calendarday", True),
    ("hr", "directives.view_question", True),
    ("hr", "directives.accept_directive", True),
    ("hr", "announcements.approve_as_hr", True),
    ("hr", "announcements.approve_as_leader", False),  # a leader's word, not HR's
    ("leader", "directives.issue_directive", True),
    ("leader", "directives.view_question", True),
    ("leader", "announcements.approve_as_leader", True),
    ("leader", "directives.accept_directive", False),
    ("leader", "workdays.change_calendarday", False),
    ("department_head", "directives.view_question", False),  # their departments' only
    ("department_head", "directives.issue_directive", False),  # as a head, not by the role
    ("department_head", "announcements.approve_as_leader", False),
    ("finance", "directives.view_directive", False),
    ("finance", "announcements.approve_as_hr", False),
    ("finance", "workdays.view_calendarday", False),
    ("group_admin", "directives.view_question", False),  # their groups' only
    ("group_admin", "announcements.publish_announcement", False),
]


@pytest.mark.parametrize(("persona", "perm", "held"), RIGHTS)
def test_role_rights(request, persona, perm, held):
    user = request.getfixturevalue(persona)
    assert user.has_perm(perm) is held
