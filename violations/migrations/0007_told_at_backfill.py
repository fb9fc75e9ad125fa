"""Cases confirmed before the employee's telling was recorded (0005 added Case.told_at).

The appeal window counts from told_at, and a confirmed case with none is taken as "not told
yet: the window has not started" (telling.appeal_deadline) — which would leave every case
confirmed before the upgrade open to appeal for ever. Before the upgrade the window counted
from the confirmation, so that is when these employees count as told: told_at =
confirmed_at, told_how saying why. Cases told since (told_at set) and cases never confirmed
are left alone. Each case changed gets a history row marked as this migration's, so the
case page's history says when and why told_at appeared. Reversing changes nothing: 0005's
reverse drops the columns anyway.
"""

from django.db import migrations
from django.utils import timezone

# Frozen here (violations.services.telling's TOLD_* may change, this record must not).
TOLD_HOW = "确认时（升级前的案件，申诉期自确认起算）"
REASON = "数据迁移：升级前确认的案件，告知时间记为确认时间"
BATCH = 500


def told_at_confirmation(apps, schema_editor):
    Case = apps.get_model("violations", "Case")
    HistoricalCase = apps.get_model("violations", "HistoricalCase")
    untold = Case.objects.filter(confirmed_at__isnull=False, told_at__isnull=True).order_by("pk")
    now = timezone.now()
    for case in untold.iterator(chunk_size=BATCH):
        case.told_at = case.confirmed_at
        case.told_how = TOLD_HOW
        case.save(update_fields=["told_at", "told_how"])
        fields = {
            field.attname: getattr(case, field.attname)
            for field in case._meta.concrete_fields
            if field.attname != "id"
        }
        HistoricalCase.objects.create(
            id=case.pk,
            **fields,
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            history_user=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("violations", "0006_rule_5_3_a_repeat_points"),
    ]

    operations = [
        migrations.RunPython(told_at_confirmation, migrations.RunPython.noop),
    ]
