"""The lists' indexes exist in the migrated database (issue 13: every default order and every
list filter read from an index, docs/performance.md): asked of the real table through the
database's own introspection, so this checks SQLite and PostgreSQL alike. The groups' and
members' lists have theirs beside their query counts (tests/groups, tests/members)."""

from __future__ import annotations

import pytest
from django.db import connection

from announcements.models import Announcement
from appraisal.models import Line, Result, Settlement, SettlementImport
from directives.models import Directive, DirectiveAssignment, Question
from notices.models import EmailDelivery
from violations.models import Case

pytestmark = pytest.mark.django_db

# (model, index name, its columns in order)
INDEXES = [
    # announcements
    (Announcement, "announcement_created_idx", ["created_at", "id"]),
    (Announcement, "announcement_state_idx", ["state", "created_at", "id"]),
    (Announcement, "announcement_category_idx", ["category_id", "created_at", "id"]),
    (Announcement, "announcement_class_idx", ["classification", "created_at", "id"]),
    (Announcement, "announcement_author_idx", ["author_id", "created_at", "id"]),
    # appraisal
    (Result, "result_list_idx", ["period_id", "employee_id"]),
    (Result, "result_department_idx", ["department_path"]),
    (Result, "result_grade_idx", ["grade", "period_id", "employee_id"]),
    (Line, "line_list_idx", ["period_id", "employee_id", "occurred_on", "case_id"]),
    (Line, "line_clause_idx", ["clause", "period_id", "employee_id"]),
    (Line, "line_joint_idx", ["period_id", "employee_id"]),
    (Line, "line_corrects_idx", ["corrects_id", "period_id", "employee_id"]),
    (Settlement, "settlement_list_idx", ["period_id", "employee_id"]),
    (SettlementImport, "settlementimport_list_idx", ["imported_at", "id"]),
    # directives
    (Directive, "directive_given_idx", ["given_at", "id"]),
    (Directive, "directive_group_given_idx", ["group_id", "given_at", "id"]),
    (DirectiveAssignment, "assignment_list_idx", ["directive_id", "employee_id"]),
    (DirectiveAssignment, "assignment_state_idx", ["state", "directive_id", "employee_id"]),
    (Question, "question_raised_idx", ["raised_at", "id"]),
    (Question, "question_state_raised_idx", ["state", "raised_at", "id"]),
    (Question, "question_group_raised_idx", ["group_id", "raised_at", "id"]),
    # notices
    (EmailDelivery, "email_created_idx", ["created_at", "id"]),
    (EmailDelivery, "email_status_created_idx", ["status", "created_at", "id"]),
    # violations
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
