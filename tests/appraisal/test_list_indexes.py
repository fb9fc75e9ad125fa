"""The appraisal lists' indexes exist in the migrated database (issue 13: every default order and
every list filter read from an index, docs/performance.md): asked of the real table through
the database's own introspection, so this checks SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import connection

from appraisal.models import Line, Result, Settlement, SettlementImport

pytestmark = pytest.mark.django_db

# (model, index name, its columns in order)
INDEXES = [
    (Result, "result_list_idx", ["period_id", "employee_id"]),
    (Result, "result_department_idx", ["department_path"]),
    (Result, "result_grade_idx", ["grade", "period_id", "employee_id"]),
    (Line, "line_list_idx", ["period_id", "employee_id", "occurred_on", "case_id"]),
    (Line, "line_clause_idx", ["clause", "period_id", "employee_id"]),
    (Line, "line_joint_idx", ["period_id", "employee_id"]),
    (Line, "line_corrects_idx", ["corrects_id", "period_id", "employee_id"]),
    (Settlement, "settlement_list_idx", ["period_id", "employee_id"]),
    (SettlementImport, "settlementimport_list_idx", ["imported_at", "id"]),
]


@pytest.mark.parametrize(("model", "name", "columns"), INDEXES, ids=[i[1] for i in INDEXES])
def test_the_list_index_exists_on_the_table(model, name, columns):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert name in constraints, f"{name} missing on {model._meta.db_table}"
    assert constraints[name]["index"]
    assert constraints[name]["columns"] == columns
