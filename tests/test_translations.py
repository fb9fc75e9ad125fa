"""Django 5.2 and simple_history ship a few strings untranslated in zh_Hans: our own
catalogue (locale/zh_Hans) fills them, so no English word shows on a Chinese page."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def test_the_app_list_headers_are_chinese(client, superuser):
    client.force_login(superuser)
    body = client.get(reverse("admin:index")).content.decode()
    assert "模型名称" in body
    assert "Model name" not in body
    assert "Change or view list link" not in body


def test_the_filter_widget_strings_are_chinese(client, superuser):
    client.force_login(superuser)
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    # The catalogue is JSON with non-ASCII characters escaped.
    assert json.dumps("全选%s") in catalogue
    assert json.dumps("移除选中的%s") in catalogue


def test_a_history_version_names_the_app_in_chinese(client, superuser):
    employee = EmployeeFactory()
    version = employee.history.earliest()
    client.force_login(superuser)
    url = reverse("admin:members_employee_simple_history", args=[employee.pk, version.history_id])
    body = client.get(url).content.decode()
    assert "组织架构" in body
    assert ">Members<" not in body


def test_the_history_list_names_its_changes_column_in_chinese(client, superuser):
    employee = EmployeeFactory()
    client.force_login(superuser)
    body = client.get(
        reverse("admin:members_employee_history", args=[employee.pk])
    ).content.decode()
    assert "变更内容" in body
    assert ">Changes<" not in body


def test_an_empty_value_reads_as_one_dash_everywhere(client, superuser, unseeded):
    DepartmentFactory(head=None)  # the department list's 负责人 column is empty
    client.force_login(superuser)
    body = client.get(reverse("admin:members_department_changelist")).content.decode()
    head_cells = re.findall(r'<td class="field-head[^"]*">(.*?)</td>', body, re.S)
    assert head_cells == ["—"]  # Django's default is a bare "-"
