"""The directives, assignments and questions lists' indexes exist in the migrated database (issue 13: every default order and
every list filter read from an index, docs/performance.md): asked of the real table through
the database's own introspection, so this checks SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import connection

from directives.models import Directive, DirectiveAssignment, Question

pytestmark = pytest.mark.django_db

# (model, index name, its columns in order)
INDEXES = [
    (Directive, "directive_given_idx", ["given_at", "id"]),
    (Directive, "directive_group_given_idx", ["group_id", "given_at", "id"]),
    (DirectiveAssignment, "assignment_list_idx", ["directive_id", "employee_id"]),
    (DirectiveAssignment, "assignment_state_idx", ["state", "directive_id", "employee_id"]),
    (Question, "question_raised_idx", ["raised_at", "id"]),
    (Question, "question_state_raised_idx", ["state", "raised_at", "id"]),
    (Question, "question_group_raised_idx", ["group_id", "raised_at", "id"]),
]


@pytest.mark.parametrize(("model", "name", "columns"), INDEXES, ids=[i[1] for i in INDEXES])
def test_the_list_index_exists_on_the_table(model, name, columns):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert name in constraints, f"{name} missing on {model._meta.db_table}"
    assert constraints[name]["index"]
    assert constraints[name]["columns"] == columns
