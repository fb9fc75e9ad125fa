"""§5.3.b asks for the real name: existing groups named 部门-姓名 only by the old default
become 姓名, the policy's own rule; a convention HR chose stays.

The rule, frozen here:

- a group whose convention is 部门-姓名 today changes to 姓名 when none of its history rows
  (django-simple-history's HistoricalChatGroup, one per save through the admin or a
  service) shows another value: it has held the old seeded default all its life, so nobody
  chose it. A group with no history row at all (made by a bulk write) counts as never edited.
- a group whose history shows 姓名 at any time and 部门-姓名 now was switched to 部门-姓名 by
  someone: a deliberate house rule (公司规定之外的要求), left alone. Groups already on 姓名
  are not touched either.

A group HR created as 部门-姓名 by leaving the old default on the form cannot be told apart
from one nobody looked at: it changes too, and the group page's 公司规定之外的要求 box is
where HR sets it back (one field, recorded in the history).

Each group changed gets a history row marked with this migration's reason (the admins as
they are, as simple_history records them), so HR sees when and why the convention changed.
Reversing sets back 部门-姓名 on the groups whose latest history row is this migration's.
"""

from django.db import migrations
from django.utils import timezone

NAME = "name"
DEPARTMENT_NAME = "department-name"
REASON = "数据迁移：群昵称规范改为“姓名”（§5.3.b）"
REVERSE_REASON = "撤销数据迁移：群昵称规范改回“部门-姓名”"


def _history(apps, group, reason: str = REASON) -> None:
    HistoricalChatGroup = apps.get_model("groups", "HistoricalChatGroup")
    HistoricalAdmins = apps.get_model("groups", "HistoricalChatGroup_admins")
    fields = {
        field.attname: getattr(group, field.attname)
        for field in group._meta.concrete_fields
        if field.attname != "id"
    }
    row = HistoricalChatGroup.objects.create(
        id=group.pk,
        **fields,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=reason,
        history_user=None,
    )
    Through = group.admins.through
    HistoricalAdmins.objects.bulk_create(
        [
            HistoricalAdmins(id=pk, history=row, chatgroup_id=group.pk, employee_id=employee_id)
            for pk, employee_id in Through.objects.filter(chatgroup_id=group.pk).values_list(
                "pk", "employee_id"
            )
        ]
    )


def to_policy_default(apps, schema_editor):
    ChatGroup = apps.get_model("groups", "ChatGroup")
    HistoricalChatGroup = apps.get_model("groups", "HistoricalChatGroup")
    chosen = set(
        HistoricalChatGroup.objects.exclude(naming_convention=DEPARTMENT_NAME).values_list(
            "id", flat=True
        )
    )
    for group in ChatGroup.objects.filter(naming_convention=DEPARTMENT_NAME).order_by("pk"):
        if group.pk in chosen:
            continue
        group.naming_convention = NAME
        group.save(update_fields=["naming_convention"])
        _history(apps, group)


def back_to_department_name(apps, schema_editor):
    ChatGroup = apps.get_model("groups", "ChatGroup")
    HistoricalChatGroup = apps.get_model("groups", "HistoricalChatGroup")
    for group in ChatGroup.objects.filter(naming_convention=NAME).order_by("pk"):
        latest = (
            HistoricalChatGroup.objects.filter(id=group.pk)
            .order_by("-history_date", "-history_id")
            .first()
        )
        if latest is None or latest.history_change_reason != REASON:
            continue
        group.naming_convention = DEPARTMENT_NAME
        group.save(update_fields=["naming_convention"])
        _history(apps, group, REVERSE_REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0005_people_provenance_routing"),
    ]

    operations = [
        migrations.RunPython(to_policy_default, back_to_department_name),
    ]
