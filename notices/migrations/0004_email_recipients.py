"""The emails sent before the daily digest each carried one notice: their recipient is that
notice's (EmailDelivery.recipient, which a digest has without a notice). One UPDATE."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill_recipients(apps, schema_editor):
    EmailDelivery = apps.get_model("notices", "EmailDelivery")
    Notice = apps.get_model("notices", "Notice")
    EmailDelivery.objects.filter(recipient__isnull=True, notice__isnull=False).update(
        recipient=Subquery(
            Notice.objects.filter(pk=OuterRef("notice_id")).values("recipient_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("notices", "0003_digest")]

    operations = [migrations.RunPython(fill_recipients, migrations.RunPython.noop)]
