"""Indexes another index covers, dropped from the tables reconciliation writes by the thousand
(docs/performance.md, reconcile4): findings' group_id and the LIKE twin of their status,
roster members' snapshot_id.

Only the indexes: Django's AlterField(db_index=False) on a foreign key also drops the key and
adds it back, which re-checks every row of groups_finding and groups_rostermember (the largest
table) under a lock that stops uploads and reconciliation while it runs. The state says what
the models say; the database loses three indexes, and the status index keeps its data under
the name the model gives it.
"""

import django.db.models.deletion
from django.db import migrations, models

COVERED = [
    # (table, index, its definition to restore it)
    ("groups_finding", "groups_finding_group_id_5ad8e3b4", '("group_id")'),
    ("groups_rostermember", "groups_rostermember_snapshot_id_24391faf", '("snapshot_id")'),
]
STATUS, STATUS_LIKE = "groups_finding_status_70a7340f", "groups_finding_status_70a7340f_like"


def drop_covered_indexes(apps, schema_editor):
    execute = schema_editor.execute
    for _table, index, _columns in COVERED:
        execute(f'DROP INDEX IF EXISTS "{index}"')
    if schema_editor.connection.vendor == "postgresql":
        execute(f'DROP INDEX IF EXISTS "{STATUS_LIKE}"')
        execute(f'ALTER INDEX IF EXISTS "{STATUS}" RENAME TO "finding_status"')
    else:
        execute(f'DROP INDEX IF EXISTS "{STATUS}"')
        execute('CREATE INDEX "finding_status" ON "groups_finding" ("status")')


def restore_covered_indexes(apps, schema_editor):
    execute = schema_editor.execute
    for table, index, columns in COVERED:
        execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" {columns}')
    if schema_editor.connection.vendor == "postgresql":
        execute(f'ALTER INDEX IF EXISTS "finding_status" RENAME TO "{STATUS}"')
        execute(
            f'CREATE INDEX IF NOT EXISTS "{STATUS_LIKE}" ON "groups_finding" '
            '("status" varchar_pattern_ops)'
        )
    else:
        execute('DROP INDEX IF EXISTS "finding_status"')
        execute(f'CREATE INDEX IF NOT EXISTS "{STATUS}" ON "groups_finding" ("status")')


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0009_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="finding",
                    name="group",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="findings",
                        to="groups.chatgroup",
                        verbose_name="微信群",
                    ),
                ),
                migrations.AlterField(
                    model_name="finding",
                    name="status",
                    field=models.CharField(
                        choices=[("open", "待处理"), ("resolved", "已解决")],
                        default="open",
                        max_length=8,
                        verbose_name="状态",
                    ),
                ),
                migrations.AlterField(
                    model_name="rostermember",
                    name="snapshot",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="groups.rostersnapshot",
                        verbose_name="快照",
                    ),
                ),
                migrations.AddIndex(
                    model_name="finding",
                    index=models.Index(fields=["status"], name="finding_status"),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_covered_indexes, restore_covered_indexes),
            ],
        ),
    ]
