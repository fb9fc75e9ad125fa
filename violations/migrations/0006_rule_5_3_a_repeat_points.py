"""§5.3.a "reminder first, 2 points on a repeat" for databases seeded before the rule could say it.

The seed (violations.services.catalog.REPEAT_POINTS) now gives §5.3.a a 0-point first
offence and 2 points from the 2nd offence in the window; a factor could never lift its 0.
Existing databases get the same only where HR has not made the rule their own:

- the rule §5.3.a exists (nothing is created here: seed_policy does that);
- its repeat policy is still empty (repeat_from_offence and repeat_points both unset);
- its default points are still the seeded 0 (HR who gave the first offence points chose
  differently, and is left alone).

Each rule changed gets a history row (§8: the catalog is versioned), marked as this
migration's, so HR sees when and why it changed. Reversing clears the two fields only on the
rules still holding exactly what this migration wrote.
"""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

# Frozen here: the catalog's seed may change, this migration must not.
CODE = "5.3.a"
SEEDED_POINTS = Decimal("0")
FROM_OFFENCE = 2
REPEAT_POINTS = Decimal("2")
REASON = "数据迁移：§5.3.a 首次提醒，再犯扣 2 分"


def _history(apps, rule, history_type: str) -> None:
    HistoricalRule = apps.get_model("violations", "HistoricalRule")
    fields = {
        field.attname: getattr(rule, field.attname)
        for field in rule._meta.concrete_fields
        if field.attname != "id"
    }
    HistoricalRule.objects.create(
        id=rule.pk,
        **fields,
        history_date=timezone.now(),
        history_type=history_type,
        history_change_reason=REASON,
        history_user=None,
    )


def set_repeat_points(apps, schema_editor):
    Rule = apps.get_model("violations", "Rule")
    untouched = Rule.objects.filter(
        code=CODE,
        default_points=SEEDED_POINTS,
        repeat_from_offence__isnull=True,
        repeat_points__isnull=True,
    )
    for rule in untouched:
        rule.repeat_from_offence = FROM_OFFENCE
        rule.repeat_points = REPEAT_POINTS
        rule.save(update_fields=["repeat_from_offence", "repeat_points"])
        _history(apps, rule, "~")


def clear_repeat_points(apps, schema_editor):
    Rule = apps.get_model("violations", "Rule")
    ours = Rule.objects.filter(
        code=CODE,
        default_points=SEEDED_POINTS,
        repeat_from_offence=FROM_OFFENCE,
        repeat_points=REPEAT_POINTS,
    )
    for rule in ours:
        rule.repeat_from_offence = None
        rule.repeat_points = None
        rule.save(update_fields=["repeat_from_offence", "repeat_points"])
        _history(apps, rule, "~")


class Migration(migrations.Migration):
    dependencies = [
        ("violations", "0005_case_told_explanation_rule_repeat_points"),
    ]

    operations = [
        migrations.RunPython(set_repeat_points, clear_repeat_points),
    ]
