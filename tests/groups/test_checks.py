"""GROUP_SUCCESSOR_RULE is checked when the site starts (groups.checks, `manage.py check`):
a typo would otherwise hand every leaver's groups to the HR head, silently."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from groups.checks import group_successor_rule_check


def _errors() -> list[Error]:
    return [m for m in run_checks() if m.id == "groups.E001"]


@pytest.mark.parametrize("rule", ["department_head", "hr_head"])
def test_a_known_successor_rule_passes(settings, rule):
    settings.GROUP_SUCCESSOR_RULE = rule
    assert group_successor_rule_check() == []
    assert _errors() == []


@pytest.mark.parametrize("rule", ["department-head", "HR_HEAD", "", "boss"])
def test_an_unknown_successor_rule_is_an_error_in_chinese_and_english(settings, rule):
    settings.GROUP_SUCCESSOR_RULE = rule
    (error,) = _errors()  # registered: Django's own run of the checks finds it
    assert error.is_serious()
    assert repr(rule) in error.msg
    assert "无效" in error.msg
    assert "invalid" in error.msg
    assert '"department_head" / "hr_head"' in error.hint
    assert "上级部门负责人" in error.hint
    assert "人力资源部负责人" in error.hint
    assert "Set it to one of" in error.hint


def test_manage_py_check_refuses_an_unknown_successor_rule(settings):
    settings.GROUP_SUCCESSOR_RULE = "boss"
    with pytest.raises(SystemCheckError, match=r"groups\.E001"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


def test_manage_py_check_passes_with_the_default_rule(settings):
    settings.GROUP_SUCCESSOR_RULE = "department_head"
    out = StringIO()
    call_command("check", stdout=out, stderr=StringIO())
    assert "no issues" in out.getvalue()
