"""The role groups get the Chinese names HR sees in the admin (company/roles.py).

Renamed in place, so that who holds which role and each role's permissions stay. Where a
group with the new name exists already (made by hand), the old one is merged into it.

Merging keeps the old group's members and model permissions but deletes the old group, and
with it any object permissions granted to that group (django-guardian's group object
permission rows cascade): grant them again to the new group by hand. Our own services grant
object permissions to users, not to these role groups. Run `seed_policy` after migrating
(docs/permissions.md): it gives each role its current permissions, e.g. HR's invite_employee.
"""

from django.db import migrations

# Frozen here: company/roles.py may change, this migration must not.
RENAMES = {
    "HR": "人力资源部",
    "Finance": "财务",
    "Company leaders": "公司领导",
    "Department heads": "部门负责人",
    "Group admins": "群管理员",
}


def _rename(apps, mapping: dict[str, str]) -> None:
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    for old_name, new_name in mapping.items():
        old = Group.objects.filter(name=old_name).first()
        if old is None:
            continue
        new = Group.objects.filter(name=new_name).first()
        if new is None:
            old.name = new_name
            old.save(update_fields=["name"])
            continue
        new.permissions.add(*old.permissions.all())
        for user in User.objects.filter(groups=old):
            user.groups.add(new)
        old.delete()


def forwards(apps, schema_editor) -> None:
    _rename(apps, RENAMES)


def backwards(apps, schema_editor) -> None:
    _rename(apps, {new: old for old, new in RENAMES.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("members", "0002_employee_invite_permission"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
