"""System checks of the groups app's settings (`manage.py check`, and every runserver/migrate):
a bad value is refused when the site starts, not when the first leaver is recorded."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from groups.services.staffing import WECHAT_MAX_ADMINS, default_admins_setting
from groups.services.succession import RULE_LABELS, SUCCESSOR_DEPARTMENT_HEAD, SUCCESSOR_HR_HEAD
from members.models import Employee

SUCCESSOR_RULES = (SUCCESSOR_DEPARTMENT_HEAD, SUCCESSOR_HR_HEAD)
E001_MESSAGE = "GROUP_SUCCESSOR_RULE 的值 {value!r} 无效（invalid value {value!r}）。"
E001_HINT = (
    "请设为 {choices}（离职继承：{labels}）。"
    "Set it to one of {choices}: who takes over a leaver's groups (README.md, Configuration)."
)


@register()
def group_successor_rule_check(app_configs=None, **kwargs) -> list[Error]:
    """离职继承 (groups.services.succession): GROUP_SUCCESSOR_RULE names a known rule — any other
    value would hand a leaver's groups to nobody but the HR head, silently."""
    value = getattr(settings, "GROUP_SUCCESSOR_RULE", SUCCESSOR_DEPARTMENT_HEAD)
    if value in SUCCESSOR_RULES:
        return []
    choices = " / ".join(f'"{rule}"' for rule in SUCCESSOR_RULES)
    labels = "、".join(f"{rule} = {RULE_LABELS[rule]}" for rule in SUCCESSOR_RULES)
    return [
        Error(
            E001_MESSAGE.format(value=value),
            hint=E001_HINT.format(choices=choices, labels=labels),
            obj="settings.GROUP_SUCCESSOR_RULE",
            id="groups.E001",
        )
    ]


E002_HINT = (
    "例如 2（人力资源部在职员工中按工号取 2 人，负责人除外）或 JM00012,JM00040。"
    "A number of HR staff (0 to {most}) or up to {most} distinct 工号, comma-separated: the "
    "admins a new group gets (README.md, Configuration)."
)
W003_MESSAGE = "GROUP_DEFAULT_ADMINS 中的工号 {numbers} 不是在职员工，新群不会以其为管理员。"
W003_HINT = "请改为在职员工的工号。Name active employees: these 工号 are skipped."


@register()
def group_default_admins_check(app_configs=None, **kwargs) -> list[Error]:
    """GROUP_DEFAULT_ADMINS (groups.services.staffing.default_admins) is a number of HR staff
    or a short list of 工号 — WeChat lets a group owner name at most 3 admins."""
    try:
        default_admins_setting()
    except ValueError as error:
        value = getattr(settings, "GROUP_DEFAULT_ADMINS", None)
        return [
            Error(
                f"{error}（invalid value {value!r}）",
                hint=E002_HINT.format(most=WECHAT_MAX_ADMINS),
                obj="settings.GROUP_DEFAULT_ADMINS",
                id="groups.E002",
            )
        ]
    return []


@register(Tags.database)
def group_default_admins_exist_check(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """The 工号 GROUP_DEFAULT_ADMINS lists are active employees: a database question, asked
    only by `manage.py check --database default` (Django runs no query in the start-up checks)."""
    if not databases:
        return []
    try:
        wanted = default_admins_setting()
    except ValueError:
        return []  # groups.E002 says so
    if isinstance(wanted, int):
        return []
    active = set(
        Employee.objects.active()
        .filter(employee_no__in=wanted)
        .values_list("employee_no", flat=True)
    )
    missing = [no for no in wanted if no not in active]
    if not missing:
        return []
    return [
        Warning(
            W003_MESSAGE.format(numbers="、".join(missing)),
            hint=W003_HINT,
            obj="settings.GROUP_DEFAULT_ADMINS",
            id="groups.W003",
        )
    ]
