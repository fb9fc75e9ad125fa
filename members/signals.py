"""When to apply the security rules of docs/security.md (6 and 7); the rules are in services."""

from __future__ import annotations

import logging

from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from common.actors import SystemActor
from members import services
from members.models import Employee

security_log = logging.getLogger("security")


@receiver(post_save, sender=Employee)
def employee_left(sender, instance: Employee, raw: bool = False, **kwargs) -> None:
    # docs/security.md, 7: whatever marked them 离职 (the admin form, the employee sheet, code),
    # the login goes at once. Only on the move to 离职, so
    # re-saving a leaver costs nothing.
    if raw or instance.is_active or instance.user_id is None:
        return
    if instance.loaded_status != Employee.Status.LEFT:
        # Whoever saved the record (the admin sets _history_user), else the system.
        actor = getattr(instance, "_history_user", None) or SystemActor("signal:employee_left")
        services.employee_access_revoke(employee=instance, actor=actor)
    instance.loaded_status = instance.status


@receiver(user_login_failed)
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    # docs/security.md, 6: who (the username tried, never the password), when (the record's
    # time), from where (address and page). django-axes keeps the same as rows (登录失败记录).
    security_log.warning(
        "login failed username=%s ip=%s path=%s",
        credentials.get("username", "-"),
        get_client_ip_address(request) if request is not None else "-",
        request.path if request is not None else "-",
    )
