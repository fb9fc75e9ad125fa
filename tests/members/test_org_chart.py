from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from members.models import Department, Employee
from members.services import (
    ERROR_EMPTY_DEPARTMENT_SEGMENT,
    DepartmentPathError,
    department_get_or_create_by_path,
    department_set_head,
    split_department_path,
)
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_department_path_creates_each_missing_level_once(unseeded):
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    again = department_get_or_create_by_path(path=" 生产部 ／ 一车间 ")
    assert workshop == again
    assert workshop.path == "生产部/一车间"
    assert workshop.parent.path == "生产部"
    assert Department.objects.count() == 2


def test_a_department_keeps_its_name_as_its_path_spells_it(unseeded):
    # Reconciliation looks a display name's department up by name and compares path segments.
    quality = Department.objects.create(name=" 品质部\u3000")
    lab = Department.objects.create(name="检测室 ", parent=quality)
    assert (quality.name, quality.path) == ("品质部", "品质部")
    assert (lab.name, lab.path) == ("检测室", "品质部/检测室")
    assert Department.objects.filter(name="品质部").get() == quality


def test_a_name_that_strips_to_a_siblings_is_refused_by_the_form_check(unseeded):
    Department.objects.create(name="品质部")
    with pytest.raises(ValidationError):
        Department(name=" 品质部 ").full_clean()


def test_the_migration_strips_the_names_stored_with_spaces(unseeded):
    from importlib import import_module

    from django.apps import apps

    quality = Department.objects.create(name="品质部")
    Department.objects.filter(pk=quality.pk).update(name=" 品质部\u3000")  # stored before
    import_module("members.migrations.0006_department_names_stripped").strip_names(apps, None)
    quality.refresh_from_db()
    assert (quality.name, quality.path) == ("品质部", "品质部")


@pytest.mark.parametrize("path", ["生产部//一车间", "/生产部", "生产部/ "])
def test_department_path_with_an_empty_level_is_refused(path):
    with pytest.raises(DepartmentPathError, match="空的层级") as exc:
        split_department_path(path)
    assert str(exc.value) == ERROR_EMPTY_DEPARTMENT_SEGMENT.format(path=path)


def test_renaming_a_department_renames_its_subtree():
    workshop = department_get_or_create_by_path(path="生产部/一车间/甲班")
    production = Department.objects.get(path="生产部")
    production.name = "制造部"
    production.save()
    workshop.refresh_from_db()
    assert workshop.path == "制造部/一车间/甲班"


def test_department_cannot_be_its_own_ancestor():
    workshop = department_get_or_create_by_path(path="生产部/一车间")
    production = workshop.parent
    production.parent = workshop
    with pytest.raises(ValidationError, match="上级部门不能是自己或自己的下级部门"):
        production.full_clean()


def test_head_flag_is_derived_from_the_department():
    employee = EmployeeFactory()
    assert employee.is_department_head is False
    department_set_head(department=employee.department, head=employee)
    assert Employee.objects.get(pk=employee.pk).is_department_head is True
    assert Employee.objects.with_head_flag().get(pk=employee.pk).is_head is True


def test_active_employee_cannot_have_a_leave_date():
    employee = EmployeeFactory()
    employee.left_on = "2026-01-01"
    with pytest.raises(ValidationError, match="在职员工不能有离职日期") as exc:
        employee.full_clean()
    assert "left_on" in exc.value.message_dict
    # The constraint's name: in SQLite's message and in PostgreSQL's alike.
    with pytest.raises(IntegrityError, match="employee_active_has_no_leave_date"):
        with transaction.atomic():
            employee.save()


def test_employee_number_is_unique():
    EmployeeFactory(employee_no="JM1")
    with pytest.raises(IntegrityError, match="employee_no"), transaction.atomic():
        EmployeeFactory(employee_no="JM1")


def test_employee_history_records_each_change():
    employee = EmployeeFactory(name="张三")
    employee.name = "张叁"
    employee.save()
    assert [h.name for h in employee.history.all()] == ["张叁", "张三"]


def test_ensure_admin_generates_a_password_once(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "密码:" in out.getvalue()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "密码未改变" in again.getvalue()
    assert get_user_model().objects.count() == 1


def test_ensure_admin_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-Pa55")
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "s3cret-Pa55" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("s3cret-Pa55")
