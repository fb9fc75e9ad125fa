"""The naming rule follows the policy (issue 12, 4): 姓名 by default; a group's settings
stricter than the policy are 公司规定之外的要求, shown on the group page; and who handles
each to-do is a column and a filter of the to-do list (HR's own queue)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from groups.models import WECHAT_MEMBER_CAP, ChatGroup, EligibilityRule, Finding, RosterAction
from groups.policy_data import NAMING_DEFAULT
from groups.selectors import HOUSE_RULE_LABEL, house_rules
from tests.factories import ChatGroupFactory
from tests.groups.conftest import compliant_rows
from tests.groups.test_reconcile import reconcile

pytestmark = pytest.mark.django_db


def test_a_new_group_names_its_members_by_their_real_name():
    group = ChatGroup(code="new", name="新群")
    assert group.naming_convention == ChatGroup.NamingConvention.NAME == NAMING_DEFAULT


def test_under_the_default_the_bare_real_name_is_right(seeded, company):
    company.office.naming_convention = NAMING_DEFAULT
    company.office.save()
    reconcile(company.office, "赵敏", "一车间-张伟", "销售部-张伟", "李娜", "王芳")
    kinds = set(Finding.objects.filter(status="open").values_list("kind", "employee__name"))
    assert ("not_real_name", "李娜") not in kinds
    assert ("not_real_name", "王芳") not in kinds


# -- house_rules ------------------------------------------------------------------


def test_a_group_as_the_policy_has_no_house_rules():
    assert house_rules(ChatGroupFactory()) == []


def test_department_name_is_a_house_rule():
    rules = house_rules(
        ChatGroupFactory(naming_convention=ChatGroup.NamingConvention.DEPARTMENT_NAME)
    )
    assert len(rules) == 1
    assert "部门-姓名" in rules[0]
    assert "§5.3.b" in rules[0]


def test_a_cap_below_wechats_is_a_house_rule():
    assert house_rules(ChatGroupFactory(member_cap=WECHAT_MEMBER_CAP)) == []
    (rule,) = house_rules(ChatGroupFactory(member_cap=200))
    assert "200" in rule
    assert str(WECHAT_MEMBER_CAP) in rule


def test_the_seeded_groups_follow_section_4(seeded):
    for group in ChatGroup.objects.filter(code__in=["management", "production_sales", "work"]):
        assert house_rules(group) == [], group.code
    # The seeded leisure group is 公司全员 by §4.
    assert house_rules(ChatGroup.objects.get(code="leisure")) == []


@pytest.fixture
def management(seeded):
    group = ChatGroup.objects.get(code="management")
    return group


def test_a_rule_of_section_4_missing_is_a_house_rule(management):
    management.rules.filter(kind=EligibilityRule.Kind.MIN_RANK).delete()
    (rule,) = house_rules(management)
    assert "§4" in rule
    assert "职级" in rule


def test_a_department_of_section_4_missing_is_named(seeded):
    group = ChatGroup.objects.get(code="production_sales")
    group.rules.filter(department__path="PMC部").delete()
    (rule,) = house_rules(group)
    assert "PMC部" in rule


def test_a_family_member_shares_its_roots_missing_rule(management):
    management.rules.filter(kind=EligibilityRule.Kind.DEPARTMENT_HEAD).delete()
    second = ChatGroupFactory(code="management-2", name="俊马管理2群", family=management)
    (rule,) = house_rules(second)
    assert "部门负责人" in rule


def test_a_wider_rule_added_is_no_house_rule(management):
    EligibilityRule.objects.create(
        group=management, kind=EligibilityRule.Kind.CATEGORY, category="admin"
    )
    assert house_rules(management) == []


def test_house_rules_take_two_queries_at_most(management, django_assert_max_num_queries):
    management.naming_convention = ChatGroup.NamingConvention.DEPARTMENT_NAME
    with django_assert_max_num_queries(2):
        assert len(house_rules(management)) == 1


# -- the group page -----------------------------------------------------------------


def test_the_group_page_shows_the_house_rules_box(client, hr_user, company):
    client.force_login(hr_user)
    page = client.get(reverse("admin:groups_chatgroup_change", args=[company.office.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert HOUSE_RULE_LABEL in html
    assert "群昵称规范为“部门-姓名”" in html


def test_a_group_without_house_rules_says_so(client, hr_user, seeded):
    client.force_login(hr_user)
    group = ChatGroup.objects.get(code="leisure")
    page = client.get(reverse("admin:groups_chatgroup_change", args=[group.pk]))
    assert "本群设置与公司规定" in page.content.decode()


def test_the_creator_sees_the_house_rules_of_their_group(client, creator, company):
    client.force_login(creator)
    page = client.get(reverse("admin:groups_chatgroup_change", args=[company.office.pk]))
    assert page.status_code == 200
    assert "群昵称规范为“部门-姓名”" in page.content.decode()


# -- the to-do list: 由谁处理 -------------------------------------------------------


@pytest.fixture
def mixed_todos(seeded, company):
    rows = [r for r in compliant_rows() if "张伟" not in r and r != "销售部-李娜"]
    rows += ["张伟", "销售部-张伟", ("娜娜🌸", "lina88"), "快递小哥"]
    reconcile(company.office, *rows)
    owners = set(RosterAction.objects.values_list("owner", flat=True))
    assert owners == {"creator", "member", "hr"}
    return company


def test_hr_filters_its_own_queue_by_owner(client, hr_user, mixed_todos):
    client.force_login(hr_user)
    url = reverse("admin:groups_rosteraction_changelist")
    page = client.get(url, {"owner__exact": "hr"})
    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert shown
    assert {a.owner for a in shown} == {RosterAction.Owner.HR}
    html = page.content.decode()
    assert "由谁处理" in html
    assert "人力资源部" in html


def test_the_creator_still_sees_every_to_do_of_their_group(client, creator, mixed_todos):
    client.force_login(creator)
    page = client.get(reverse("admin:groups_rosteraction_changelist"))
    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert len(shown) == RosterAction.objects.filter(group=mixed_todos.office).count()
    assert "成员本人" in page.content.decode()
