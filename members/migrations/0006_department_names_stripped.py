"""Department names stored as their paths spell them (Department.save strips them now).

Collision-free: a path is unique and is built from the stripped names, so no two departments
under one parent can strip to the same name. Queryset updates: the historical model has no
save(), and the path, already stripped, does not change.
"""

from django.db import migrations


def strip_names(apps, schema_editor):
    Department = apps.get_model("members", "Department")
    for pk, name in Department.objects.values_list("pk", "name"):
        if name != name.strip():
            Department.objects.filter(pk=pk).update(name=name.strip())


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_personnelevent"),
    ]

    operations = [
        migrations.RunPython(strip_names, migrations.RunPython.noop),
    ]
