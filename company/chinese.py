"""Chinese where third-party apps leave English that no catalogue reaches (issue 14: one
language, done properly — settings.LANGUAGES offers 简体中文 only).

- Django stores each model's default permissions with English names ("Can add 员工"),
  written once by `migrate` and shown as they are in the role and user pages' permission
  lists: after every migrate they are renamed from the model's Chinese name ("添加员工").
- django-axes and django-guardian name their apps by label ("Axes", "Guardian"), and
  simple_history its record models "historical 员工", guardian its permission rows by class
  name: the permission lists show these names before each permission. They are renamed at
  start-up; migrations read a model's names from its class (Meta), not from here.
- django-celery-beat names one field with a plain string ("Task Name"): made lazy here so
  that our catalogue (locale/zh_Hans) translates it. Lazily translated, it still reads
  "Task Name" to makemigrations (which runs without translations), so no migration follows.
- Django's admin gives a yes/no cell's icon the value's English repr as its alt text
  (alt="True", "False", "None": read aloud by a screen reader, shown when the image does not
  load), with no catalogue entry: its one function is replaced at start-up by one writing
  是 / 否 / 未知. (The search box's alt="Search" is our templates/admin/search_form.html.)
"""

from __future__ import annotations

import re

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

ACTIONS = {"add": "添加", "change": "修改", "delete": "删除", "view": "查看"}
APP_NAMES = {"axes": "登录防护", "guardian": "对象权限"}
# Models whose own name has no Chinese (third-party, or made by a library from ours).
MODEL_NAMES = {
    "guardian.groupobjectpermission": "角色对象权限",
    "guardian.userobjectpermission": "用户对象权限",
    "groups.chatgroupgroupobjectpermission": "微信群角色权限",
    "groups.chatgroupuserobjectpermission": "微信群用户权限",
    "groups.historicalchatgroup_admins": "微信群群管理员历史记录",
    "django_celery_beat.periodictasks": "周期任务变更记录",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def name_third_party_apps() -> None:
    for label, name in APP_NAMES.items():
        apps.get_app_config(label).verbose_name = name
    for model in apps.get_models(include_auto_created=True):
        if model._meta.auto_created:  # a many-to-many link, listed on delete pages
            name_link_model(model)
        elif name := model_name(model):
            model._meta.verbose_name = model._meta.verbose_name_plural = name
    task = apps.get_model("django_celery_beat", "PeriodicTask")._meta.get_field("task")
    task.verbose_name = gettext_lazy("Task Name")


def name_link_model(through) -> None:
    """A many-to-many link row reads "公告 #12 — 微信群 #4" on a delete page (Django says
    "Announcement_target_groups object (12)"), named without a query per row."""
    ends = [f for f in through._meta.fields if f.is_relation]
    if len(ends) != 2:
        return
    names = [end.related_model._meta.verbose_name for end in ends]  # lazy, translated when read
    attnames = [end.attname for end in ends]
    name = format_lazy("{}与{}的关联", *names)
    through._meta.verbose_name = through._meta.verbose_name_plural = name

    def __str__(self) -> str:
        return " — ".join(f"{n} #{getattr(self, a)}" for n, a in zip(names, attnames, strict=True))

    through.__str__ = __str__


def model_name(model) -> str:
    """The Chinese name of a model whose own name has none; '' for any other model."""
    if name := MODEL_NAMES.get(model._meta.label_lower):
        return name
    instance = getattr(model, "instance_type", None)  # simple_history's historical records
    if instance is not None:
        return format_lazy("{}历史记录", instance._meta.verbose_name)
    return ""


def name_default_permissions(*, sender, using: str = "default", **kwargs) -> None:
    """post_migrate, for each app after auth has created its permissions: rename the default
    permissions Django named in English. Idempotent; a permission an app names itself
    (Meta.permissions) is left as it is."""
    from django.contrib.auth.models import Permission

    renamed = []
    with translation.override(settings.LANGUAGE_CODE):
        permissions = Permission.objects.using(using).filter(
            content_type__app_label=sender.label, name__startswith="Can "
        )
        for permission in permissions.select_related("content_type"):
            model = permission.content_type.model_class()
            action = permission.codename.split("_", 1)[0]
            if model is None:
                continue
            if permission.codename != f"{action}_{model._meta.model_name}":
                continue
            name = f"{ACTIONS.get(action, '')}{model._meta.verbose_name}"
            if action in ACTIONS and CJK.search(name):
                permission.name = name
                renamed.append(permission)
    Permission.objects.using(using).bulk_update(renamed, ["name"], batch_size=500)


BOOLEAN_ALT = {True: "是", False: "否", None: "未知"}


def name_boolean_icons() -> None:
    """Django's yes/no icons with Chinese alt text (the module docstring). Every caller —
    the list's cells, read-only fields, display_for_value — looks the function up in its
    module when it runs, so replacing it there reaches them all."""
    from django.contrib.admin.templatetags import admin_list
    from django.templatetags.static import static
    from django.utils.html import format_html

    def boolean_icon(field_val):
        name = {True: "yes", False: "no", None: "unknown"}[field_val]
        return format_html(
            '<img src="{}" alt="{}">', static(f"admin/img/icon-{name}.svg"), BOOLEAN_ALT[field_val]
        )

    admin_list._boolean_icon = boolean_icon
