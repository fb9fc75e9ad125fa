"""Django 5.2 and simple_history ship a few strings untranslated in zh_Hans: our own
catalogue (locale/zh_Hans) fills them, so no English word shows on a Chinese page. Dates
read 2026年11月24日 (config/formats); a date box still takes 2026-11-24.
(tests/test_untranslated.py checks every page and label for English.)"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats

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


# --- dates as people write them ------------------------------------------------------------

DAY = dt.date(2026, 11, 24)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ('{{ day|date:"DATE_FORMAT" }}', "2026年11月24日"),
        ('{{ day|date:"SHORT_DATE_FORMAT" }}', "2026年11月24日"),
        ('{{ moment|date:"DATETIME_FORMAT" }}', "2026年11月24日 09:05"),
        ("{{ day }}", "2026年11月24日"),
        ('{{ september|date:"MONTH_DAY_FORMAT" }}', "9月5日"),  # Django's own pads: 09月5日
        ('{{ day|date:"YEAR_MONTH_FORMAT" }}', "2026年11月"),
    ],
)
def test_dates_read_the_chinese_way(template, shown):
    moment = dt.datetime(2026, 11, 24, 9, 5, tzinfo=SHANGHAI)
    context = Context({"day": DAY, "moment": moment, "september": dt.date(2026, 9, 5)})
    assert Template(template).render(context) == shown


@pytest.mark.parametrize("typed", ["2026-11-24", "2026/11/24", "2026年11月24日"])
def test_a_date_box_takes_iso_slashed_and_chinese_dates(typed):
    field = forms.DateField()
    assert field.clean(typed) == DAY


def test_a_chinese_date_without_leading_zeros_is_taken():
    # Django's zh_Hans input format is "%Y年%n月%j日": %j is the day of the year, so this
    # was refused.
    assert forms.DateField().clean("2026年9月5日") == dt.date(2026, 9, 5)
    assert forms.DateTimeField().clean("2026年9月5日 08:30") == dt.datetime(
        2026, 9, 5, 8, 30, tzinfo=SHANGHAI
    )


def test_the_date_widget_writes_the_form_the_calendar_reads():
    # admin/js/calendar.js knows %Y %m %d and separators only: the first input format.
    assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y/%m/%d"


def test_the_admin_date_hierarchy_names_days_without_padding(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:workdays_calendarday_changelist")
    body = client.get(url, {"date__year": 2026, "date__month": 10}).content.decode()
    assert "10月1日" in body
    assert "10月01日" not in body


# --- names Django stores in English -----------------------------------------------------


def test_default_permissions_are_named_in_chinese():
    """The role and user pages list them; migrate named them "Can add 员工"."""
    assert not Permission.objects.filter(name__startswith="Can ").exists()
    assert Permission.objects.get(codename="add_employee").name == "添加员工"
    assert Permission.objects.get(codename="view_historicalemployee").name == "查看员工历史记录"
    assert Permission.objects.get(codename="change_accessattempt").name == "修改登录尝试"


def test_a_role_page_lists_permissions_and_apps_in_chinese(client, superuser):
    client.force_login(superuser)
    body = client.get(reverse("admin:auth_group_add")).content.decode()
    assert "添加员工" in body
    assert "登录防护 | 登录尝试 | 查看登录尝试" in body
    assert "Can add" not in body
    assert "Axes" not in body


def test_celery_beats_schedule_pages_are_chinese(client, superuser):
    client.force_login(superuser)
    task_page = client.get(reverse("admin:django_celery_beat_periodictask_add")).content.decode()
    crontab_page = client.get(
        reverse("admin:django_celery_beat_crontabschedule_add")
    ).content.decode()
    assert "执行时间说明" in task_page
    assert "Crontab translation" not in task_page
    assert "每分钟（Asia/Shanghai）" in crontab_page
    assert "Human readable" not in crontab_page


def test_yes_no_icons_and_the_search_box_have_chinese_alt_text(client, superuser):
    """Django writes alt="True"/"False" on a yes/no cell's icon and alt="Search" on the
    search box, with no catalogue entry (company.chinese, templates/admin/search_form.html)."""
    EmployeeFactory()
    client.force_login(superuser)
    body = client.get(reverse("admin:members_employee_changelist")).content.decode()
    assert re.search(r'<img src="[^"]*icon-(yes|no)\.svg" alt="[是否]">', body)
    assert 'alt="搜索"' in body
    for english in ('alt="True"', 'alt="False"', 'alt="None"', 'alt="Search"'):
        assert english not in body
