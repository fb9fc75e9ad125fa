"""Open to-dos made before the routing (0005 added RosterAction.owner with the default 群主
and no data step) go to whoever can fix them, as new ones do (docs/hr-guide-roster.md,
由谁处理): a rename to the member (§5.3.b), who someone is and whose an account is to HR
(§6.3), adding and removing to the group's current creator (§5.1) — HR's queue when the group
has none.

The mapping is frozen here as literal data (groups/policy_data.FINDING_SPECS at the time of
writing): a migration never imports app code that may change later.

Only the open to-dos whose owner or assignee changes are touched, and those get a fresh due
date (today + settings.ROSTER_ACTION_DUE_DAYS) with reminders and escalation reset: their new
owner was never told, so nobody is charged for the days before (issue 12). Done to-dos stay
as they were. Reversing changes nothing (the old routing is not wanted back).
"""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone

CREATOR, MEMBER, HR = "creator", "member", "hr"
# Finding.Kind -> RosterAction.Owner; every other kind is the creator's.
OWNER_BY_KIND = {
    "not_real_name": MEMBER,
    "ambiguous": HR,
    "duplicate_account": HR,
    "reported_account": HR,
}
OPEN = "open"
BATCH = 500


def route_open_todos(apps, schema_editor):
    RosterAction = apps.get_model("groups", "RosterAction")
    due_on = timezone.localdate() + dt.timedelta(days=settings.ROSTER_ACTION_DUE_DAYS)
    rows = RosterAction.objects.filter(status=OPEN).values_list(
        "pk", "owner", "assignee_id", "finding__kind", "finding__employee_id", "group__creator_id"
    )
    changed = []
    for pk, owner, assignee_id, kind, employee_id, creator_id in rows.iterator():
        wanted = OWNER_BY_KIND.get(kind, CREATOR)
        assignee = {CREATOR: creator_id, MEMBER: employee_id, HR: None}[wanted]
        if wanted != HR and assignee is None:
            wanted = HR  # nobody to do it (no creator, no matched member): HR's queue
        if (wanted, assignee) != (owner, assignee_id):
            changed.append(RosterAction(pk=pk, owner=wanted, assignee_id=assignee))
    for action in changed:
        action.due_on = due_on
        action.escalated_at = None
        action.last_reminded_on = None
        action.reminder_count = 0
    RosterAction.objects.bulk_update(
        changed,
        ["owner", "assignee", "due_on", "escalated_at", "last_reminded_on", "reminder_count"],
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0006_naming_convention_policy_default"),
    ]

    operations = [
        migrations.RunPython(route_open_todos, migrations.RunPython.noop),
    ]
