"""The case list' indexes exist in the migrated database (issue 13: every default order and
every list filter read from an index, docs/performance.md): asked of the real table through
the database's own introspection, so this checks SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import connection

from violations.models import Case

pytestmark = pytest.mark.django_db

# (model, index name, its columns in order)
INDEXES = [
    (Case, "case_created_idx", ["created_at", "id"]),
    (Case, "case_state_created_idx", ["state", "created_at", "id"]),
    (Case, "case_rule_created_idx", ["rule_id", "created_at", "id"]),
    (Case, "case_group_created_idx", ["group_id", "created_at", "id"]),
    (Case, "case_source_created_idx", ["source", "created_at", "id"]),
]


@pytest.mark.parametrize(("model", "name", "columns"), INDEXES, ids=[i[1] for i in INDEXES])
def test_the_list_index_exists_on_the_table(model, name, columns):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert name in constraints, f"{name} missing on {model._meta.db_table}"
    assert constraints[name]["index"]
    assert constraints[name]["columns"] == columns
