"""Indexes for the admin lists' default orderings and filters (issue 13; docs/performance.md).

No data migration goes with the new default staffing (groups.services.staffing,
GROUP_DEFAULT_ADMINS): trimming the admins of existing groups would change who administers
real WeChat groups — and who holds their object permissions — behind HR's back. Groups keep
the admins they have; HR trims them on each group's page, and only groups without admins
get the new default.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0008_accountreport_one_open_per_account"),
        ("members", "0005_personnelevent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accountreport",
            index=models.Index(fields=["-reported_at", "-id"], name="account_report_list_order"),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                fields=["-severity", "group", "kind", "display_name", "-id"],
                name="finding_list_order",
            ),
        ),
        migrations.AddIndex(
            model_name="reconciliationrun",
            index=models.Index(fields=["-created_at", "-id"], name="run_list_order"),
        ),
        migrations.AddIndex(
            model_name="reconciliationrun",
            index=models.Index(fields=["group", "-created_at", "-id"], name="run_latest_per_group"),
        ),
        migrations.AddIndex(
            model_name="rosteraction",
            index=models.Index(fields=["status", "due_on", "id"], name="roster_action_list_order"),
        ),
        migrations.AddIndex(
            model_name="rostersnapshot",
            index=models.Index(
                fields=["group", "-taken_at", "-id"], name="snapshot_latest_per_group"
            ),
        ),
    ]
