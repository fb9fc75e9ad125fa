"""Repeat offences escalate from zero (issue 12, point 5): a rule can say "from the N-th offence
in the window, X points", so §5.3.a's "reminder first, 2 points on a repeat" gives points,
which default × factor never could (0 × 1.5 = 0). Points are still fixed at confirmation."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from common.admin import ROW_VERSION, row_version
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory
from violations.models import (
    ERROR_REPEAT_FROM_MISSING,
    ERROR_REPEAT_POINTS_MISSING,
    Case,
    Rule,
    Sanction,
)
from violations.services import case_confirm, case_file, seed_rule_catalog

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("violations.migrations.0006_rule_5_3_a_repeat_points")


@pytest.fixture
def apps():
    """The models as the migration sees them (frozen, no history signals): the live registry
    would add simple_history's own row to the migration's."""
    loader = MigrationExecutor(connection).loader
    return loader.project_state(("violations", "0006_rule_5_3_a_repeat_points")).apps


@pytest.fixture
def hr(hr, hr2):
    """One HR clerk files, another confirms (four eyes, §7.1)."""
    return [hr, hr2]


@pytest.fixture
def org(seeded):
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(name="郭杰华", department=sales)
    department_set_head(department=sales, head=head)
    offender = EmployeeFactory(name="李娜", department=sales)
    return {"head": head, "offender": offender, "group": ChatGroupFactory()}


@pytest.fixture
def rule_5_3_a(seeded) -> Rule:
    """§5.3.a as the seed makes it, whatever an earlier run of the database left."""
    Rule.objects.filter(code="5.3.a").update(
        default_points=Decimal("0"),
        sanction=Sanction.REMINDER,
        repeat_window_days=90,
        repeat_points_factor=Decimal("1.5"),
        repeat_escalate_at=3,
        repeat_from_offence=2,
        repeat_points=Decimal("2"),
        head_share=Decimal("0"),
        is_active=True,
    )
    return Rule.objects.get(code="5.3.a")


def confirmed(org, hr, *, days_ago: int, employee=None, code="5.3.a") -> Case:
    case = case_file(
        rule=Rule.objects.get(code=code),
        employee=employee or org["offender"],
        group=org["group"],
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        description="邀请无关人员入群",
        actor=hr[0],
    )
    return case_confirm(case=case, actor=hr[1])


# -- the seed ----------------------------------------------------------------------------------


def test_the_seeded_5_3_a_is_a_reminder_first_and_2_points_on_a_repeat(seeded):
    Rule.objects.filter(code="5.3.a").delete()
    seed_rule_catalog()
    rule = Rule.objects.get(code="5.3.a")
    assert (rule.default_points, rule.sanction) == (Decimal("0"), Sanction.REMINDER)
    assert (rule.repeat_from_offence, rule.repeat_points) == (2, Decimal("2"))


def test_other_seeded_rules_keep_the_factor(seeded):
    # §5.3.b's case comes only after a rename was not made by its due date: 1 point at once.
    assert Rule.objects.get(code="5.3.b").default_points == Decimal("1")
    with_fixed_points = Rule.objects.exclude(code="5.3.a").filter(repeat_points__isnull=False)
    assert not with_fixed_points.exists()


# -- escalation from zero ------------------------------------------------------------------


def test_first_offence_is_a_0_point_reminder(org, hr, rule_5_3_a):
    first = confirmed(org, hr, days_ago=30)
    assert (first.offence_number, first.points, first.sanction) == (1, Decimal("0.00"), "reminder")


def test_second_offence_in_the_window_costs_the_repeat_points(org, hr, rule_5_3_a):
    confirmed(org, hr, days_ago=30)
    second = confirmed(org, hr, days_ago=1)
    assert (second.offence_number, second.points, second.sanction) == (
        2,
        Decimal("2.00"),
        "reminder",
    )


def test_third_offence_keeps_the_repeat_points_and_escalates_the_sanction(org, hr, rule_5_3_a):
    confirmed(org, hr, days_ago=60)
    confirmed(org, hr, days_ago=30)
    third = confirmed(org, hr, days_ago=1)
    assert (third.offence_number, third.points, third.sanction) == (3, Decimal("2.00"), "warning")


def test_an_offence_outside_the_window_leaves_the_next_one_a_first(org, hr, rule_5_3_a):
    confirmed(org, hr, days_ago=120)  # outside the 90 days
    latest = confirmed(org, hr, days_ago=1)
    assert (latest.offence_number, latest.points) == (1, Decimal("0.00"))


def test_a_shorter_window_on_the_rule_is_respected(org, hr, rule_5_3_a):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(repeat_window_days=10)
    confirmed(org, hr, days_ago=20)
    latest = confirmed(org, hr, days_ago=1)
    assert (latest.offence_number, latest.points) == (1, Decimal("0.00"))


def test_another_employees_offence_does_not_count(org, hr, rule_5_3_a):
    confirmed(org, hr, days_ago=10, employee=EmployeeFactory(name="王五"))
    mine = confirmed(org, hr, days_ago=1)
    assert (mine.offence_number, mine.points) == (1, Decimal("0.00"))


def test_from_a_later_offence_the_earlier_ones_keep_the_default(org, hr, rule_5_3_a):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(
        default_points=Decimal("1"), repeat_from_offence=3, repeat_points=Decimal("4")
    )
    points = [confirmed(org, hr, days_ago=days).points for days in (60, 30, 1)]
    # The factor no longer applies: 1, 1 (not 1.5), then the fixed 4.
    assert points == [Decimal("1.00"), Decimal("1.00"), Decimal("4.00")]


def test_without_repeat_points_a_zero_rule_stays_zero(org, hr, rule_5_3_a):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(repeat_from_offence=None, repeat_points=None)
    confirmed(org, hr, days_ago=30)
    second = confirmed(org, hr, days_ago=1)
    assert (second.offence_number, second.points) == (2, Decimal("0.00"))  # 0 × 1.5


def test_joint_cases_neither_count_as_the_heads_offences_nor_change(org, hr, rule_5_3_a):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(head_share=Decimal("0.5"))
    confirmed(org, hr, days_ago=30)
    second = confirmed(org, hr, days_ago=2)
    joint = Case.objects.get(joint_of=second)
    assert (joint.employee, joint.points, joint.offence_number) == (
        org["head"],
        Decimal("1.00"),  # half the offender's 2 points
        1,
    )
    # The head's own first §5.3.a offence: the joint rows are not theirs to repeat.
    own = confirmed(org, hr, days_ago=1, employee=org["head"])
    assert (own.offence_number, own.points) == (1, Decimal("0.00"))


def test_points_are_fixed_at_confirmation(org, hr, rule_5_3_a):
    confirmed(org, hr, days_ago=30)
    second = confirmed(org, hr, days_ago=1)
    Rule.objects.filter(pk=rule_5_3_a.pk).update(
        repeat_points=Decimal("5"), repeat_from_offence=None, default_points=Decimal("3")
    )
    second.refresh_from_db()
    assert (second.points, second.offence_number) == (Decimal("2.00"), 2)


# -- the rule's validation and its admin page ------------------------------------------------


@pytest.mark.parametrize(
    ("from_offence", "points", "field", "message"),
    [
        (2, None, "repeat_points", ERROR_REPEAT_POINTS_MISSING),
        (None, Decimal("2"), "repeat_from_offence", ERROR_REPEAT_FROM_MISSING),
    ],
)
def test_a_rule_takes_both_repeat_fields_or_neither(
    rule_5_3_a, from_offence, points, field, message
):
    rule_5_3_a.repeat_from_offence, rule_5_3_a.repeat_points = from_offence, points
    with pytest.raises(ValidationError) as raised:
        rule_5_3_a.full_clean()
    assert raised.value.message_dict == {field: [message]}


def test_a_rule_with_both_or_neither_is_valid(rule_5_3_a):
    rule_5_3_a.full_clean()
    rule_5_3_a.repeat_from_offence = rule_5_3_a.repeat_points = None
    rule_5_3_a.full_clean()


def test_repeat_from_the_first_offence_is_refused(rule_5_3_a):
    rule_5_3_a.repeat_from_offence = 1
    with pytest.raises(ValidationError) as raised:
        rule_5_3_a.full_clean()
    assert "repeat_from_offence" in raised.value.message_dict


def rule_form(rule: Rule, **changes) -> dict:
    data = {
        "code": rule.code,
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "description": rule.description,
        "is_active": "on",
        "default_points": str(rule.default_points),
        "sanction": rule.sanction,
        "repeat_window_days": str(rule.repeat_window_days),
        "repeat_points_factor": str(rule.repeat_points_factor),
        "repeat_from_offence": str(rule.repeat_from_offence or ""),
        "repeat_points": str(rule.repeat_points if rule.repeat_points is not None else ""),
        "repeat_escalate_at": str(rule.repeat_escalate_at),
        "head_share": str(rule.head_share),
        ROW_VERSION: row_version(rule),  # the page's version (common.admin.RowVersionGuardMixin)
    }
    return {**data, **changes}


def test_the_rule_page_shows_the_repeat_points_in_the_repeat_fieldset(client, hr, rule_5_3_a):
    client.force_login(hr[0])
    response = client.get(reverse("admin:violations_rule_change", args=[rule_5_3_a.pk]))
    repeat = next(fs for fs in response.context["adminform"] if fs.name == "累犯")
    assert {"repeat_from_offence", "repeat_points"} <= set(repeat.form.fields)
    names = [f for line in repeat for f in line.fields]
    assert "repeat_from_offence" in names
    assert "repeat_points" in names


def test_the_admin_form_refuses_half_a_repeat_policy(client, hr, rule_5_3_a):
    client.force_login(hr[0])
    url = reverse("admin:violations_rule_change", args=[rule_5_3_a.pk])
    response = client.post(url, rule_form(rule_5_3_a, repeat_points="", default_points="1"))
    assert response.status_code == 200  # the form again, with the error
    assert ERROR_REPEAT_POINTS_MISSING in response.content.decode()
    rule_5_3_a.refresh_from_db()
    assert (rule_5_3_a.default_points, rule_5_3_a.repeat_points) == (Decimal("0"), Decimal("2"))


def test_the_admin_form_saves_a_whole_repeat_policy_with_history(client, hr, rule_5_3_a):
    client.force_login(hr[0])
    url = reverse("admin:violations_rule_change", args=[rule_5_3_a.pk])
    before = rule_5_3_a.history.count()
    response = client.post(url, rule_form(rule_5_3_a, repeat_from_offence="3", repeat_points="4"))
    assert response.status_code == 302
    rule_5_3_a.refresh_from_db()
    assert (rule_5_3_a.repeat_from_offence, rule_5_3_a.repeat_points) == (3, Decimal("4"))
    assert rule_5_3_a.history.count() == before + 1


def test_the_rule_list_shows_the_repeat_points(client, hr, rule_5_3_a):
    client.force_login(hr[0])
    response = client.get(reverse("admin:violations_rule_changelist"))
    assert "第 2 次起 2.00 分" in response.content.decode()


# -- the data migration ------------------------------------------------------------------------


def test_the_migration_sets_an_untouched_5_3_a_and_records_it(rule_5_3_a, apps):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(repeat_from_offence=None, repeat_points=None)
    before = rule_5_3_a.history.count()
    MIGRATION.set_repeat_points(apps, None)
    rule_5_3_a.refresh_from_db()
    assert (rule_5_3_a.repeat_from_offence, rule_5_3_a.repeat_points) == (2, Decimal("2"))
    latest = rule_5_3_a.history.order_by("-history_id").first()
    assert rule_5_3_a.history.count() == before + 1
    assert (latest.repeat_points, latest.history_change_reason) == (Decimal("2"), MIGRATION.REASON)


@pytest.mark.parametrize(
    "hr_edit",
    [
        {"default_points": Decimal("1")},  # HR gave the first offence points
        {"repeat_from_offence": 3, "repeat_points": Decimal("5")},  # HR's own repeat policy
    ],
)
def test_the_migration_leaves_a_rule_hr_edited_alone(rule_5_3_a, apps, hr_edit):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(
        **{"repeat_from_offence": None, "repeat_points": None, **hr_edit}
    )
    expected = Rule.objects.values("default_points", "repeat_from_offence", "repeat_points").get(
        pk=rule_5_3_a.pk
    )
    before = rule_5_3_a.history.count()
    MIGRATION.set_repeat_points(apps, None)
    after = Rule.objects.values("default_points", "repeat_from_offence", "repeat_points").get(
        pk=rule_5_3_a.pk
    )
    assert after == expected
    assert rule_5_3_a.history.count() == before


def test_the_migration_touches_no_other_rule(rule_5_3_a, apps):
    Rule.objects.filter(pk=rule_5_3_a.pk).update(repeat_from_offence=None, repeat_points=None)
    MIGRATION.set_repeat_points(apps, None)
    assert list(
        Rule.objects.filter(repeat_points__isnull=False).values_list("code", flat=True)
    ) == ["5.3.a"]


def test_the_migration_reverses_only_what_it_wrote(rule_5_3_a, apps):
    MIGRATION.clear_repeat_points(apps, None)
    rule_5_3_a.refresh_from_db()
    assert (rule_5_3_a.repeat_from_offence, rule_5_3_a.repeat_points) == (None, None)
    Rule.objects.filter(pk=rule_5_3_a.pk).update(repeat_from_offence=3, repeat_points=Decimal("5"))
    MIGRATION.clear_repeat_points(apps, None)
    rule_5_3_a.refresh_from_db()
    assert (rule_5_3_a.repeat_from_offence, rule_5_3_a.repeat_points) == (3, Decimal("5"))
