from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import get_perms

from company import roles
from company.demo.announcements import DEMO_ANNOUNCEMENT_USERNAMES
from company.demo.build import ERROR_SIZE, DemoSizeError, demo_company_build
from company.demo.case_people import DEMO_HR_USERNAMES
from company.demo.cases import DEMO_MEMBER_USERNAME
from company.demo.plan import CREATOR_PERSONA_GROUP, PERSONA_ROLES, POSITION_RANKS
from company.demo.write import demo_company_apply
from company.management.commands.demo import ERROR_NOT_SEEDED
from groups.models import ChatGroup
from members.models import WORKSHOP_DIRECTOR_RANK, Department, Employee

PASSWORD = "demo-pass-123"
STANDARD = ["总经办", "人力资源部", "财务部", "销售部", "生产部", "品质部", "技术部", "PMC部"]
# Seeding, the org chart, heads, group staffing and permissions are a fixed number
# of queries; only bulk inserts grow, by one per batch of rows.
EXTRA_QUERIES_PER_300_EMPLOYEES = 20
MAX_RERUN_QUERIES = 190  # fixed seeding cost (roles, catalog), not per employee


def build(employees: int = 300, seed: int = 1, days_ago: int = 0):
    return demo_company_build(
        employees=employees, seed=seed, today=timezone.localdate() - timedelta(days=days_ago)
    )


def run_demo(employees: int = 300, seed: int = 1) -> str:
    out = StringIO()
    call_command("demo", "--employees", str(employees), "--seed", str(seed), stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table, history and m2m tables included."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy
    }


def namesake_groups(people) -> list[list]:
    by_name: dict[str, list] = {}
    for person in people:
        by_name.setdefault(person.name, []).append(person)
    return [group for group in by_name.values() if len(group) > 1]


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)


@pytest.fixture
def with_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)


@pytest.fixture
def company(db, no_password):
    run_demo(300, seed=1)


# --- the dataset, in memory -------------------------------------------------------------


def test_same_seed_and_size_build_the_same_company():
    assert build(300, seed=5) == build(300, seed=5)


def test_different_seeds_build_different_companies():
    first, second = build(300, seed=1), build(300, seed=2)
    assert [e.name for e in first.employees] != [e.name for e in second.employees]


def test_a_larger_company_starts_with_the_smaller_one():
    small, large = build(300), build(600)
    assert large.employees[:300] == small.employees
    assert set(small.departments) <= set(large.departments)


def test_workshops_grow_with_the_company():
    def workshops(company):
        return [d.path for d in company.departments if d.path.endswith("车间")]

    assert workshops(build(300)) == ["生产部/一车间", "生产部/二车间", "生产部/三车间"]
    assert workshops(build(2500))[3:] == ["生产部/四车间", "生产部/五车间"]


@pytest.mark.parametrize("employees", [30, 99, 150, 257, 300, 1000, 5000])
@pytest.mark.parametrize("seed", [1, 7])
def test_namesake_pairs_are_guaranteed_at_every_size(employees, seed):
    groups = namesake_groups(build(employees, seed=seed).employees)
    assert len(groups) >= max(2, employees / 100)
    assert any(len({p.department for p in group}) < len(group) for group in groups)
    assert any(len({p.department for p in group}) > 1 for group in groups)


@pytest.mark.parametrize("employees", [0, 29, 50_001])
def test_a_size_out_of_range_is_refused(employees):
    with pytest.raises(DemoSizeError, match=ERROR_SIZE):
        build(employees)


def test_the_command_refuses_a_size_out_of_range(db):
    with pytest.raises(CommandError, match=ERROR_SIZE):
        run_demo(10)


def test_the_command_asks_for_the_policy_first_and_writes_nothing_without_it(unseeded):
    with pytest.raises(CommandError, match="seed_policy") as refused:
        run_demo(50)
    assert str(refused.value) == ERROR_NOT_SEEDED
    assert not Employee.objects.exists()
    assert not get_user_model().objects.exists()


# --- the company in the database --------------------------------------------------------


def test_the_database_holds_the_company_that_was_built(db):
    company = build(300, seed=3)
    demo_company_apply(company=company, password=None)
    stored = {e.employee_no: e for e in Employee.objects.select_related("department", "position")}
    assert len(stored) == 300
    for spec in company.employees:
        employee = stored[spec.employee_no]
        assert (
            employee.name,
            employee.department.path,
            employee.position.name,
            employee.rank,
            employee.category,
            employee.status,
            employee.left_on,
            employee.wechat_id,
            employee.phone,
        ) == (
            spec.name,
            spec.department,
            spec.position,
            spec.rank,
            spec.category,
            spec.status,
            spec.left_on,
            spec.wechat_id,
            spec.phone,
        )


def test_a_second_run_changes_nothing(db, with_password):
    run_demo(300)
    before = snapshot()

    out = run_demo(300)

    assert snapshot() == before
    assert "新建员工 0，更新 0" in out


def test_a_run_on_a_later_day_does_not_move_leaving_dates(db):
    demo_company_apply(company=build(300, days_ago=30), password=None)
    before = snapshot()

    summary = demo_company_apply(company=build(300), password=None)

    assert summary.updated == 0
    assert snapshot() == before


def test_a_larger_run_adds_employees_and_keeps_the_others(db, no_password):
    run_demo(300)
    before = list(Employee.objects.order_by("pk").values())

    out = run_demo(600)

    after = list(Employee.objects.order_by("pk").values())
    assert len(after) == 600
    assert after[:300] == before
    assert Employee.history.filter(history_type="+").count() == 600
    assert "新建员工 300，更新 0" in out


def test_every_employee_has_a_history_row(company):
    assert Employee.history.filter(history_type="+").count() == Employee.objects.count() == 300


def test_the_standard_departments_workshops_and_sub_departments_exist(company):
    paths = set(Department.objects.values_list("path", flat=True))
    assert set(STANDARD) | {"生产部/一车间", "生产部/二车间", "生产部/三车间"} <= paths
    assert any(p.startswith("销售部/") for p in paths)


def test_every_department_is_headed_by_an_active_employee_of_its_own(company):
    for department in Department.objects.select_related("head"):
        assert department.head is not None, department.path
        assert department.head.is_active
        assert department.head.department_id == department.pk


def test_workshop_directors_head_the_workshops_with_rank_5(company):
    workshops = Department.objects.filter(path__startswith="生产部/", name__endswith="车间")
    assert workshops.count() == 3
    for workshop in workshops.select_related("head__position"):
        assert workshop.head.position.name == "车间主任"
        assert workshop.head.rank == WORKSHOP_DIRECTOR_RANK >= 5


def test_the_general_manager_is_in_the_gm_office_with_rank_9(company):
    gm = Department.objects.get(path="总经办").head
    assert (gm.position.name, gm.rank) == ("总经理", 9)


def test_rank_is_the_rank_of_the_position(company):
    for employee in Employee.objects.select_related("position"):
        assert employee.rank == employee.position.rank == POSITION_RANKS[employee.position.name]


def test_production_workers_are_the_majority_and_work_in_workshops(company):
    production = Employee.objects.filter(category=Employee.Category.PRODUCTION)
    assert 0.6 <= production.count() / 300 <= 0.7
    assert Employee.objects.filter(category=Employee.Category.ADMIN).exists()
    assert not production.exclude(department__path__startswith="生产部/").exists()


def test_namesakes_are_distinct_employees_in_same_and_different_departments(company):
    groups = namesake_groups(Employee.objects.all())
    assert len(groups) >= 3
    assert any(len({e.department_id for e in group}) < len(group) for group in groups)
    assert any(len({e.department_id for e in group}) > 1 for group in groups)


def test_leavers_left_within_the_past_year_and_keep_their_wechat_id(company):
    today = timezone.localdate()
    leavers = Employee.objects.filter(status=Employee.Status.LEFT)
    assert 1 <= leavers.count() <= 15
    for leaver in leavers:
        assert today - timedelta(days=365) <= leaver.left_on < today
        assert leaver.wechat_id
        assert not leaver.headed_departments.exists()


def test_employee_numbers_phones_and_wechat_ids_look_real(company):
    employees = list(Employee.objects.all())
    assert all(re.fullmatch(r"JM\d{5}", e.employee_no) for e in employees)
    phones = [e.phone for e in employees if e.phone]
    assert len(phones) >= 0.8 * len(employees)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    with_wechat = sum(1 for e in employees if e.wechat_id)
    assert 0.5 <= with_wechat / len(employees) <= 0.75
    assert max(Counter(e.wechat_id for e in employees if e.wechat_id).values()) == 1


def test_groups_get_the_hr_head_as_creator_and_two_hr_staff_as_admins(company):
    # GROUP_DEFAULT_ADMINS' default, 2: HR's first two active staff by 工号 after its head —
    # the groupadmin persona among them — never all of HR (WeChat allows an owner 3 admins).
    hr = Department.objects.get(path="人力资源部")
    first_two = list(Employee.objects.active().filter(department=hr).exclude(pk=hr.head_id)[:2])
    assert len(first_two) == 2
    for group in ChatGroup.objects.exclude(code=CREATOR_PERSONA_GROUP):
        assert group.creator_id == hr.head_id
    for group in ChatGroup.objects.all():
        assert list(group.admins.order_by("employee_no")) == first_two
    assert first_two[0].employee_no == build(300, seed=1).persona("groupadmin").employee_no


def test_the_leisure_group_is_created_by_the_production_head_not_hr(company):
    # §5.1: one group's creator is not HR, so the "creator" persona has a group of their own.
    leisure = ChatGroup.objects.get(code=CREATOR_PERSONA_GROUP)
    assert leisure.creator == Department.objects.get(path="生产部").head
    assert leisure.creator.department.path != "人力资源部"


# --- persona logins ---------------------------------------------------------------------


def test_no_persona_logins_without_demo_password(db, no_password):
    out = run_demo(300)

    # Only the demo's two HR clerks (company.demo.case_people) and the member of its §5.3.b
    # case (told of their rename: company.demo.cases), whom nobody can log in as.
    users = get_user_model().objects.all()
    usernames = set(users.values_list("username", flat=True))
    assert usernames == {*DEMO_HR_USERNAMES, DEMO_MEMBER_USERNAME}
    assert not get_user_model().objects.get(username=DEMO_MEMBER_USERNAME).is_staff
    assert not any(user.has_usable_password() for user in users)
    assert "DEMO_PASSWORD" in out


@pytest.mark.parametrize(
    ("username", "role", "department"),
    [
        ("hr", roles.HR, "人力资源部"),
        ("finance", roles.FINANCE, "财务部"),
        ("leader", roles.COMPANY_LEADERS, "总经办"),
        ("head", roles.DEPARTMENT_HEADS, "生产部/一车间"),
        ("groupadmin", roles.GROUP_ADMINS, "人力资源部"),
        ("creator", roles.DEPARTMENT_HEADS, "生产部"),
    ],
)
def test_persona_logins_with_demo_password(db, with_password, username, role, department):
    run_demo(300)

    user = authenticate(username=username, password=PASSWORD)
    assert user is not None
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.employee.department.path == department
    assert user.employee.is_active


def test_the_personas_are_the_ones_the_command_names(db, with_password):
    out = run_demo(300)

    usernames = set(get_user_model().objects.values_list("username", flat=True))
    demo_logins = {*DEMO_HR_USERNAMES, *DEMO_ANNOUNCEMENT_USERNAMES}  # unusable passwords
    assert usernames == set(PERSONA_ROLES) | demo_logins
    assert "hr、finance、leader、head、groupadmin、creator、employee" in out


def test_the_employee_persona_is_a_plain_line_worker_not_staff(db, with_password):
    run_demo(300)

    user = authenticate(username="employee", password=PASSWORD)
    assert user is not None
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.groups.exists()
    assert not user.get_all_permissions()
    employee = user.employee
    assert employee.is_active
    assert employee.category == Employee.Category.PRODUCTION
    assert not employee.headed_departments.exists()
    assert employee.department.path.startswith("生产部/")


def test_the_employee_persona_is_the_same_person_at_every_size():
    assert {build(n).persona("employee") for n in (30, 300, 3000)} == {
        build(30).persona("employee")
    }


def test_the_leader_is_the_general_manager_and_the_head_heads_a_department(db, with_password):
    run_demo(300)
    users = get_user_model().objects

    assert users.get(username="leader").employee.position.name == "总经理"
    assert users.get(username="head").employee.headed_departments.exists()


def test_group_creator_and_admin_logins_get_object_permissions(db, with_password):
    run_demo(300)
    users = get_user_model().objects
    hr, groupadmin = users.get(username="hr"), users.get(username="groupadmin")
    creator = users.get(username="creator")

    for group in ChatGroup.objects.all():
        hr_creates = group.code != CREATOR_PERSONA_GROUP
        # The HR head creates the groups (§5.1) and is not also one of their few admins
        # (GROUP_DEFAULT_ADMINS); HR's role sees every group anyway (model permissions).
        hr_perms = {"view_chatgroup", "manage_roster"} if hr_creates else set()
        assert set(get_perms(hr, group)) == hr_perms
        assert set(get_perms(groupadmin, group)) == {"view_chatgroup", "moderate"}
        creator_perms = set() if hr_creates else {"view_chatgroup", "manage_roster"}
        assert set(get_perms(creator, group)) == creator_perms


def test_logins_that_run_no_group_get_no_object_permissions(db, with_password):
    run_demo(300)
    leader = get_user_model().objects.get(username="leader")

    for group in ChatGroup.objects.all():
        assert get_perms(leader, group) == []
        assert leader.has_perm("groups.view_chatgroup")  # from the role, not the object


def test_demo_password_later_adds_logins_to_an_existing_company(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    run_demo(300)
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    out = run_demo(300)

    assert authenticate(username="hr", password=PASSWORD) is not None
    assert "新建员工 0，更新 0" in out


# --- cost -------------------------------------------------------------------------------


def apply_company(employees: int, password: str | None = None) -> None:
    """The company half of `demo` (the rosters half is bounded in tests/groups/test_demo_rosters.py)."""
    demo_company_apply(company=build(employees), password=password)


def count_queries_then_roll_back(employees: int) -> int:
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            apply_company(employees)
        transaction.set_rollback(True)
    return len(queries)


def test_a_first_run_for_twice_the_people_costs_only_a_few_more_batches(
    db, no_password, django_assert_max_num_queries
):
    baseline = count_queries_then_roll_back(300)
    assert not Employee.objects.exists()  # the 600 run starts from an empty company too

    # ~80 rows per INSERT on SQLite: 300 more employees (and history rows) are
    # about 10 more batches; an N+1 would be 300 more queries.
    with django_assert_max_num_queries(baseline + EXTRA_QUERIES_PER_300_EMPLOYEES):
        apply_company(600)


@pytest.mark.parametrize("employees", [300, 600])
def test_a_second_run_costs_the_same_at_any_size(
    db, with_password, django_assert_max_num_queries, employees
):
    apply_company(employees, password=PASSWORD)

    with django_assert_max_num_queries(MAX_RERUN_QUERIES):
        apply_company(employees, password=PASSWORD)
