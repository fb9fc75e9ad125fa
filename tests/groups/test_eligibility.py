"""Each kind of eligibility rule (§4), one at a time, on a hand-made org chart."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from groups.models import EligibilityRule
from groups.selectors import eligible_employees
from members.models import Employee
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EligibilityRuleFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
Kind = EligibilityRule.Kind


@pytest.fixture
def org():
    production = department_get_or_create_by_path(path="生产部")
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    finance = department_get_or_create_by_path(path="财务部")
    people = {
        "director": EmployeeFactory(department=workshop, rank=5, category="admin"),
        "worker": EmployeeFactory(department=workshop, rank=1, category="production"),
        "finance_head": EmployeeFactory(department=finance, rank=3, category="admin"),
        "accountant": EmployeeFactory(department=finance, rank=2, category="admin"),
        "left_head": EmployeeFactory(department=production, rank=6, left=True),
        "gm": EmployeeFactory(department=production, rank=9, category="admin"),
    }
    department_set_head(department=finance, head=people["finance_head"])
    department_set_head(department=production, head=people["left_head"])
    return {"production": production, "workshop": workshop, "finance": finance, **people}


def _selected(group, org) -> set[str]:
    names = {e.pk: key for key, e in org.items() if isinstance(e, Employee)}
    return {names[pk] for pk in eligible_employees(group).values_list("pk", flat=True)}


def test_department_head_rule_selects_heads_but_never_one_who_left(org):
    rule = EligibilityRuleFactory(kind=Kind.DEPARTMENT_HEAD)
    assert _selected(rule.group, org) == {"finance_head"}


def test_min_rank_rule_selects_workshop_directors_and_above(org):
    rule = EligibilityRuleFactory(kind=Kind.MIN_RANK, min_rank=5)
    assert _selected(rule.group, org) == {"director", "gm"}


def test_department_rule_includes_sub_departments_but_not_similar_names(org):
    department_get_or_create_by_path(path="生产部门")  # a prefix look-alike, not a child
    rule = EligibilityRuleFactory(kind=Kind.DEPARTMENT, department=org["production"])
    assert _selected(rule.group, org) == {"director", "worker", "gm"}


def test_category_rule_selects_admin_staff(org):
    rule = EligibilityRuleFactory(kind=Kind.CATEGORY, category="admin")
    assert _selected(rule.group, org) == {"director", "finance_head", "accountant", "gm"}


def test_everyone_rule_selects_every_active_employee(org):
    rule = EligibilityRuleFactory(kind=Kind.EVERYONE)
    assert _selected(rule.group, org) == {"director", "worker", "finance_head", "accountant", "gm"}


def test_rules_of_one_group_are_ored(org):
    group = ChatGroupFactory()
    EligibilityRuleFactory(group=group, kind=Kind.DEPARTMENT_HEAD)
    EligibilityRuleFactory(group=group, kind=Kind.MIN_RANK, min_rank=5)
    assert _selected(group, org) == {"finance_head", "director", "gm"}


def test_group_without_rules_selects_nobody(org):
    assert _selected(ChatGroupFactory(), org) == set()


def test_family_member_uses_the_family_rules(unseeded, org):
    first = ChatGroupFactory(code="leisure", name="俊马欢乐谷")
    EligibilityRuleFactory(group=first, kind=Kind.CATEGORY, category="production")
    second = ChatGroupFactory(code="leisure-2", name="俊马欢乐谷2群", family=first)
    assert _selected(second, org) == {"worker"}


def test_rule_on_a_family_member_is_refused(org):
    first = ChatGroupFactory()
    second = ChatGroupFactory(family=first)
    rule = EligibilityRule(group=second, kind=Kind.EVERYONE)
    with pytest.raises(ValidationError, match="入群条件设在系列首群上，同系列的群共用。") as exc:
        rule.full_clean()
    assert "group" in exc.value.message_dict


MISSING = "此条件需要填写该项。"
UNUSED = "此条件不使用该项，请留空。"


@pytest.mark.parametrize(
    ("kind", "params", "bad_field", "message"),
    [
        (Kind.MIN_RANK, {}, "min_rank", MISSING),
        (Kind.CATEGORY, {}, "category", MISSING),
        (Kind.DEPARTMENT, {}, "department", MISSING),
        (Kind.EVERYONE, {"min_rank": 3}, "min_rank", UNUSED),
    ],
)
def test_rule_parameters_are_checked(kind, params, bad_field, message):
    rule = EligibilityRule(group=ChatGroupFactory(), kind=kind, **params)
    with pytest.raises(ValidationError, match=message) as exc:
        rule.full_clean()
    assert bad_field in exc.value.message_dict


def test_eligibility_is_one_query(org, django_assert_num_queries):
    group = ChatGroupFactory()
    EligibilityRuleFactory(group=group, kind=Kind.DEPARTMENT_HEAD)
    EligibilityRuleFactory(group=group, kind=Kind.DEPARTMENT, department=org["production"])
    group = type(group).objects.get(pk=group.pk)
    with django_assert_num_queries(2):  # the rules, then the employees
        list(eligible_employees(group))
