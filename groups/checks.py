"""System checks of the groups app's settings (`manage.py check`, and every runserver/migrate):
a bad value is refused when the site starts, not when the first leaver is recorded."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from groups.services.succession import RULE_LABELS, SUCCESSOR_DEPARTMENT_HEAD, SUCCESSOR_HR_HEAD

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
