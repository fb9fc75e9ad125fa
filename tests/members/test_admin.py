"""The members admin as HR reads it: Chinese whatever the browser asks for, Chinese role and
file names, people by name, every list filter and facet count working."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape

from company import roles
from members.models import Employee
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import (
    DepartmentFactory,
    EmployeeFactory,
    PositionFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
User = get_user_model()
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}  # what headless Chromium sends


# --- 简体中文 whatever Accept-Language says --------------------------------------------------
def test_admin_is_chinese_for_an_english_browser(client, superuser):
    client.force_login(superuser)

    page = client.get(reverse("admin:index"), **ENGLISH_BROWSER).content.decode()

    assert "最近动作" in page
    assert "Recent actions" not in page


def test_the_admin_javascript_catalogue_is_chinese_for_an_english_browser(client, superuser):
    """The filter_horizontal widget's "Choose all" / "Remove all" come from here."""
    client.force_login(superuser)

    catalogue = client.get(reverse("admin:jsi18n"), **ENGLISH_BROWSER).content.decode()

    assert '"Choose all": "\\u5168\\u9009"' in catalogue or '"Choose all": "全选"' in catalogue


def test_the_add_user_help_text_is_chinese_for_an_english_browser(client, superuser):
    client.force_login(superuser)

    page = client.get(reverse("admin:auth_user_add"), **ENGLISH_BROWSER).content.decode()

    assert "First, enter a username and password" not in page
    assert "用户名" in page


def test_a_language_cookie_does_not_bring_english_back(client, superuser, settings):
    # One language, no switch (issue 14): a cookie left from an older version changes nothing.
    client.force_login(superuser)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(reverse("admin:index"), **ENGLISH_BROWSER).content.decode()

    assert "最近动作" in page
    assert "Recent actions" not in page


def test_responses_say_chinese_and_do_not_vary_on_the_browsers_language(client):
    response = client.get("/", **ENGLISH_BROWSER)  # touches no session

    assert response["Content-Language"] == "zh-hans"
    assert "Accept-Language" not in response.get("Vary", "")


def test_django_offers_no_language_switch(settings):
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans"]
    with pytest.raises(NoReverseMatch):
        reverse("set_language")


# --- role names -------------------------------------------------------------------------------
def test_roles_have_chinese_names(seeded):
    assert set(Group.objects.values_list("name", flat=True)) == {
        "人力资源部",
        "财务",
        "公司领导",
        "部门负责人",
        "群管理员",
    }


def _migration():
    import importlib

    return importlib.import_module("members.migrations.0003_role_names_in_chinese")


def test_the_migration_renames_old_roles_in_place_keeping_members_and_rights(unseeded):
    from django.apps import apps

    old = Group.objects.create(name="HR")
    old.permissions.add(Permission.objects.get(codename="import_employee"))
    user = UserFactory()
    user.groups.add(old)

    _migration().forwards(apps, None)

    old.refresh_from_db()
    assert old.name == roles.HR
    assert list(user.groups.all()) == [old]
    assert old.permissions.filter(codename="import_employee").exists()


def test_the_migration_merges_an_old_role_into_a_new_one_made_by_hand(unseeded):
    from django.apps import apps

    old = Group.objects.create(name="Finance")
    old.permissions.add(Permission.objects.get(codename="view_employee"))
    user = UserFactory()
    user.groups.add(old)
    new = Group.objects.create(name=roles.FINANCE)

    _migration().forwards(apps, None)

    assert not Group.objects.filter(name="Finance").exists()
    assert list(user.groups.all()) == [new]
    assert new.permissions.filter(codename="view_employee").exists()


# --- download names ---------------------------------------------------------------------------
def _attachment(filename: str) -> str:
    return f"attachment; filename*=utf-8''{quote(filename)}"


def test_the_export_is_named_in_chinese(client, hr):
    EmployeeFactory()
    client.force_login(hr)

    response = client.post(reverse("admin:members_employee_export"), {"format": "0", "resource": "0"})  # fmt: skip

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == _attachment(f"员工-{today}.xlsx")


def test_the_template_is_named_in_chinese(client, hr):
    client.force_login(hr)

    response = client.get(reverse("admin:members_employee_import_template"))

    assert response["Content-Disposition"] == _attachment("员工导入模板.xlsx")


# --- the user admin: superusers only, each login with its person ----------------------------
def test_the_user_list_shows_the_person_behind_each_login(client, superuser):
    EmployeeFactory(name="张三", employee_no="E001", user=UserFactory(username="zs"))
    client.force_login(superuser)

    page = client.get(reverse("admin:auth_user_changelist")).content.decode()

    assert "张三（E001）" in page


def test_the_user_list_costs_the_same_queries_for_more_logins(client, superuser):
    client.force_login(superuser)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
        return len(captured)

    for _ in range(2):
        EmployeeFactory(user=UserFactory())
    few = queries()
    for _ in range(10):
        EmployeeFactory(user=UserFactory())
    assert queries() == few


@pytest.mark.parametrize("perms", [[], ["auth.view_user", "auth.change_user"]])
def test_the_user_admin_is_for_superusers_alone(client, hr, perms):
    for spec in perms:
        app, codename = spec.split(".")
        hr.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))  # fmt: skip
    client.force_login(hr)

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_change", args=[hr.pk])).status_code == 403
    assert "/admin/auth/" not in client.get(reverse("admin:index")).content.decode()


# --- every list filter and facet count opens ------------------------------------------------
CHANGELISTS = [
    "admin:members_employee_changelist",
    "admin:members_department_changelist",
    "admin:members_position_changelist",
    "admin:auth_user_changelist",
]


@pytest.fixture
def org(db):
    workshop = department_get_or_create_by_path(path="生产部/一车间")  # 生产部 is seeded
    director = EmployeeFactory(department=workshop, position=PositionFactory(name="主任", rank=5), rank=5, user=UserFactory())  # fmt: skip
    department_set_head(department=workshop, head=director)
    EmployeeFactory(department=workshop, left=True)
    EmployeeFactory(category="admin", user=UserFactory(is_staff=False))


@pytest.mark.usefixtures("org")
@pytest.mark.parametrize("url_name", CHANGELISTS)
def test_every_filter_choice_opens_with_and_without_facet_counts(client, superuser, url_name):
    client.force_login(superuser)
    url = reverse(url_name)
    response = client.get(url, {"_facets": "True"})
    assert response.status_code == 200
    seen = 0
    for spec in response.context["cl"].filter_specs:
        for choice in spec.choices(response.context["cl"]):
            for extra in ("", "&_facets=True"):
                page = client.get(url + choice["query_string"] + extra)
                assert page.status_code == 200, (choice["query_string"], extra)
                seen += 1
    assert seen or url_name == "admin:members_department_changelist"


@pytest.mark.usefixtures("org")
def test_hr_uses_every_employee_filter_with_facet_counts(client, hr):
    client.force_login(hr)
    url = reverse("admin:members_employee_changelist")
    response = client.get(url, {"_facets": "True"})
    assert response.status_code == 200
    for spec in response.context["cl"].filter_specs:
        for choice in spec.choices(response.context["cl"]):
            assert client.get(url + choice["query_string"] + "&_facets=True").status_code == 200


def test_the_has_login_filter_selects_employees_with_and_without_a_login(client, hr):
    with_login = EmployeeFactory(user=UserFactory(is_staff=False))
    without = EmployeeFactory()
    client.force_login(hr)
    url = reverse("admin:members_employee_changelist")

    def listed(value: str) -> set[int]:
        return {e.pk for e in client.get(url, {"has_login": value}).context["cl"].result_list}

    assert listed("yes") == {with_login.pk}
    assert listed("no") == {without.pk}


def test_a_staff_user_without_rights_is_offered_no_invite(client):
    clerk = StaffUserFactory(permissions=["members.view_employee"])
    client.force_login(clerk)

    page = client.get(reverse("admin:members_employee_changelist")).content.decode()

    assert "invite_logins" not in page


# --- who changed a row: a person, never a login name ----------------------------------------
@pytest.mark.parametrize("model", ["employee", "department"])
def test_history_names_who_changed_it_without_linking_the_user_admin(client, hr, model):
    EmployeeFactory(name="赵敏", employee_no="HR01", user=hr)
    client.force_login(hr)
    obj = EmployeeFactory() if model == "employee" else DepartmentFactory()
    obj._history_user = hr
    obj.save()

    page = client.get(reverse(f"admin:members_{model}_history", args=[obj.pk])).content.decode()

    assert "赵敏（HR01）" in page
    # neither in the list nor in the header's welcome (the random CSRF tokens aside: "hr1"
    # turned up inside one)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    page = re.sub(r"csrfToken\W+\w+", "", page)
    assert "hr1" not in page
    assert "/admin/auth/user/" not in page


@pytest.mark.parametrize(
    ("role", "hidden"),
    [
        (roles.FINANCE, ["position"]),
        (roles.DEPARTMENT_HEADS, ["position"]),
        (roles.GROUP_ADMINS, ["position", "department"]),
    ],
)
def test_a_viewer_sees_no_link_to_a_page_they_may_not_open(client, seeded, role, hidden):
    employee = EmployeeFactory(position=PositionFactory(name="主任"))
    viewer = UserFactory(roles=[role])
    client.force_login(viewer)

    page = client.get(reverse("admin:members_employee_change", args=[employee.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "主任" in html
    assert employee.department.path in html
    for model in hidden:
        assert f"/admin/members/{model}/" not in html
    if "department" not in hidden:
        department = reverse("admin:members_department_change", args=[employee.department.pk])
        assert department in html  # a page this viewer may open stays a link


# --- the list's action checkbox: written directly, the same HTML as Django's widget ----------
def test_the_lists_action_checkbox_is_djangos_own_html(client, superuser):
    """common.admin.QuickCheckboxMixin skips the template engine per row (CPU): the checkbox
    must stay the very input Django renders — its name, value, class (the list's JavaScript)
    and the row's label escaped once."""
    employee = EmployeeFactory(name='陈<梅>&"博')
    client.force_login(superuser)
    response = client.get(reverse("admin:members_employee_changelist"))
    djangos = admin.ModelAdmin(Employee, admin.site).action_checkbox(employee)
    assert 'name="_selected_action"' in djangos
    assert "&lt;梅&gt;&amp;&quot;博" in djangos
    assert djangos in response.content.decode()


# --- the list's row links: built once per page, the same URLs as Django's -------------------
@pytest.mark.parametrize("query", ["", "?status__exact=active&q=陈"])
def test_the_lists_row_links_are_djangos_own(client, superuser, query):
    """common.admin.QuickChangeList reverses one URL per page, not one per row, and carries
    the list's filters itself: each row must still link to its page with the filters that
    bring the clerk back to this list (Django's add_preserved_filters)."""
    employees = [EmployeeFactory(name=f"陈{n}") for n in range(3)]
    client.force_login(superuser)
    response = client.get(reverse("admin:members_employee_changelist") + query)
    html = response.content.decode()
    context = {
        "preserved_filters": admin.site.get_model_admin(Employee).get_preserved_filters(
            response.wsgi_request
        ),
        "opts": Employee._meta,
    }
    for employee in employees:
        page = reverse("admin:members_employee_change", args=[employee.pk])
        assert f'href="{escape(add_preserved_filters(context, page))}"' in html
