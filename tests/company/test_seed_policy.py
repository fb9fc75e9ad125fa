from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from company.roles import HR, ROLE_PERMISSIONS
from groups.models import ChatGroup, ContentKind, EligibilityRule
from members.models import Department, Position
from violations.models import Rule
from violations.services import RULE_CATALOG

pytestmark = pytest.mark.django_db

ALL_MODELS = [Department, Position, ChatGroup, ContentKind, EligibilityRule, Rule, Group]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def test_seed_policy_creates_the_four_groups_with_stable_codes(seeded):
    groups = dict(ChatGroup.objects.values_list("code", "name"))
    assert groups == {
        "management": "俊马管理群",
        "production_sales": "俊马产销管理机制",
        "work": "俊马工作群",
        "leisure": "俊马欢乐谷",
    }
    for group in ChatGroup.objects.all():
        assert group.member_cap == 500
        assert group.function
        assert group.allowed_content.exists()
        assert group.rules.exists()


def test_seed_policy_creates_standard_departments_and_workshop_director_rank(seeded):
    assert set(Department.objects.values_list("path", flat=True)) >= {
        "总经办",
        "人力资源部",
        "财务部",
        "销售部",
        "生产部",
        "品质部",
        "技术部",
        "PMC部",
    }
    assert Position.objects.get(name="车间主任").rank == 5


def test_seed_policy_eligibility_rules_are_data(seeded):
    rules = {
        code: sorted(str(rule) for rule in EligibilityRule.objects.filter(group__code=code))
        for code in ["management", "production_sales", "work", "leisure"]
    }
    assert rules["management"] == sorted(["部门负责人", "职级 ≥ 5"])
    assert rules["production_sales"] == sorted(
        f"{d}（含下属）" for d in ["总经办", "销售部", "生产部", "品质部", "技术部", "PMC部"]
    )
    assert rules["work"] == ["人员类别：行管"]
    assert rules["leisure"] == ["全体在职员工"]


def test_seed_policy_seeds_every_rule_of_conduct_and_the_roles(seeded):
    assert set(Rule.objects.values_list("code", flat=True)) == {row[0] for row in RULE_CATALOG}
    assert Rule.objects.get(code="9.4").sanction == "warning"  # §9.4 予以警告处分
    assert Rule.objects.get(code="9.5").sanction == "warning"  # §9.5 给以警告处分
    assert Rule.objects.get(code="9.6").is_active is False  # never a deduction by default
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_PERMISSIONS)
    hr = Group.objects.get(name=HR)
    assert hr.permissions.filter(codename="import_employee").exists()
    assert hr.permissions.filter(codename="change_rule").exists()


def test_seed_policy_is_idempotent(seeded):
    before = _counts()
    call_command("seed_policy", stdout=StringIO())
    assert _counts() == before


def test_seed_policy_keeps_what_hr_edited(seeded):
    rule = Rule.objects.get(code="9.4")
    rule.default_points = 7
    rule.save()
    group = ChatGroup.objects.get(code="leisure")
    group.function = "HR 改过的功能说明"
    group.save()
    call_command("seed_policy", stdout=StringIO())
    assert Rule.objects.get(code="9.4").default_points == 7
    assert ChatGroup.objects.get(code="leisure").function == "HR 改过的功能说明"
    assert Rule.history.filter(code="9.4").count() == 2  # created + HR's edit
