"""§6.3: one open report per WeChat account, enforced by the database (two reporters at once,
the employee and HR, make one report: groups.services.accounts.account_report_create)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0007_route_open_todos"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="accountreport",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("wechat_id",),
                name="account_report_one_open_per_account",
            ),
        ),
    ]
