"""§4 eligibility on a realistic company: each group's rules select exactly the people
the policy's table names, checked against a plain-Python reading of the table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from company.demo.build import demo_company_build
from company.demo.write import demo_company_apply
from groups.models import ChatGroup
from groups.selectors import eligible_employees
from members.models import Department, Employee
from members.services import department_set_head
from tests.factories import ChatGroupFactory

GROUP_CODES = ["management", "production_sales", "work", "leisure"]
# §4, 俊马产销管理机制: 总经办、销售、生产、品质、技术、PMC相关人员
PRODUCTION_SALES = {"总经办", "销售部", "生产部", "品质部", "技术部", "PMC部"}


def _top_department(employee: Employee) -> str:
    return employee.department.path.split("/")[0]


# What §4 says, as a predicate on an active employee (heads: ids of department heads).
POLICY: dict[str, Callable[[Employee, set[int]], bool]] = {
    # 各部门负责人、车间主任及以上人员
    "management": lambda e, heads: e.pk in heads or e.rank >= 5,
    "production_sales": lambda e, heads: _top_department(e) in PRODUCTION_SALES,
    # 公司行管人员
    "work": lambda e, heads: e.category == "admin",
    # 公司全员
    "leisure": lambda e, heads: True,
}


def expected_members(code: str) -> set[int]:
    heads = {pk for pk in Department.objects.values_list("head_id", flat=True) if pk}
    return {
        e.pk
        for e in Employee.objects.select_related("department")
        if e.status == "active" and POLICY[code](e, heads)
    }


def eligible_ids(group: ChatGroup) -> set[int]:
    return set(eligible_employees(group).values_list("pk", flat=True))


@pytest.fixture
def company(db):
    company = demo_company_build(employees=300, seed=7, today=timezone.localdate())
    demo_company_apply(company=company, password=None)


@pytest.mark.parametrize("code", GROUP_CODES)
def test_each_group_selects_exactly_whom_the_policy_names(company, code):
    expected = expected_members(code)

    assert eligible_ids(ChatGroup.objects.get(code=code)) == expected
    assert expected  # the demo company gives every rule someone to select


def test_the_groups_select_different_people(company):
    active = set(Employee.objects.active().values_list("pk", flat=True))
    sizes = {code: expected_members(code) for code in GROUP_CODES}

    assert sizes["leisure"] == active
    for code in ("management", "production_sales", "work"):
        assert 0 < len(sizes[code]) < len(active), code


def test_management_takes_heads_below_rank_5_and_deputies_who_head_nothing(company):
    management = eligible_ids(ChatGroup.objects.get(code="management"))
    low_ranked_head = Employee.objects.filter(rank__lt=5, headed_departments__isnull=False)
    deputy = Employee.objects.filter(rank__gte=5, headed_departments__isnull=True)

    assert low_ranked_head.exists()
    assert deputy.exists()
    assert set(low_ranked_head.values_list("pk", flat=True)) <= management
    assert set(deputy.values_list("pk", flat=True)) <= management


def test_production_sales_takes_sub_departments_and_leaves_out_hr_and_finance(company):
    group = eligible_employees(ChatGroup.objects.get(code="production_sales"))

    assert group.filter(department__path="生产部/一车间").exists()
    assert group.filter(department__path="销售部/华东区").exists()
    assert not group.filter(department__path__in=["人力资源部", "财务部"]).exists()


@pytest.mark.parametrize("code", GROUP_CODES)
def test_nobody_who_left_is_eligible(company, code):
    leavers = set(Employee.objects.filter(status=Employee.Status.LEFT).values_list("pk", flat=True))

    assert leavers
    assert not leavers & eligible_ids(ChatGroup.objects.get(code=code))


@pytest.mark.parametrize("code", GROUP_CODES)
def test_a_leaver_with_every_qualification_is_still_not_eligible(company, code):
    leaver = Employee.objects.filter(status=Employee.Status.LEFT).first()
    gm_office = Department.objects.get(path="总经办")
    leaver.department = gm_office
    leaver.rank = 9
    leaver.category = Employee.Category.ADMIN
    leaver.save()
    department_set_head(department=Department.objects.get(path="品质部/实验室"), head=leaver)

    assert leaver not in eligible_employees(ChatGroup.objects.get(code=code))


@pytest.mark.parametrize("code", GROUP_CODES)
def test_a_family_member_uses_the_rules_of_its_family(company, code):
    family = ChatGroup.objects.get(code=code)
    sibling = ChatGroupFactory(code=f"{code}-2", name=f"{family.name}2群", family=family)

    assert not sibling.rules.exists()
    assert eligible_ids(sibling) == eligible_ids(family) == expected_members(code)


def test_leisure_second_group_takes_the_whole_company(company):
    leisure = ChatGroup.objects.get(code="leisure")
    second = ChatGroupFactory(code="leisure-2", name="俊马欢乐谷2群", family=leisure)

    assert eligible_ids(second) == set(Employee.objects.active().values_list("pk", flat=True))


def test_a_group_without_rules_selects_nobody(company):
    group = ChatGroupFactory()

    assert not eligible_employees(group).exists()
