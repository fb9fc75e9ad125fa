"""Writes to the org chart. Each function is one business action, in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from guardian.models import UserObjectPermissionBase

from common.actors import Actor, actor_may, actor_user, require_actor
from common.exceptions import ServiceError
from members.models import PATH_SEPARATOR, Department, Employee, Position
from members.tokens import invite_token_generator

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Created by seed_policy: the departments the policy names (§4) plus HR and
# finance, which run the groups (§5.2) and pay (§7.1).
STANDARD_DEPARTMENTS = [
    "总经办",
    "人力资源部",
    "财务部",
    "销售部",
    "生产部",
    "品质部",
    "技术部",
    "PMC部",
]
# Positions whose rank the policy relies on: 车间主任 and above belong in the
# management group (§4).
STANDARD_POSITIONS = {"总经理": 9, "副总经理": 8, "总监": 7, "经理": 6, "车间主任": 5}

ERROR_EMPTY_DEPARTMENT_PATH = "部门不能为空。"
ERROR_EMPTY_DEPARTMENT_SEGMENT = "部门路径“{path}”中有空的层级。"
ERROR_LOGIN_INVALID = (
    "登录账号“{username}”不可用：只能用字母、数字、汉字和 @ . + - _，最多 {limit} 个字符。"
)
ERROR_LOGIN_TAKEN = "登录账号“{username}”已关联员工{employee}：一个账号只能关联一位员工。"
ERROR_INVITE_FORBIDDEN = "你没有为员工开通登录账号的权限。"
ERROR_LOGIN_PRIVILEGED = "登录账号“{username}”是后台管理账号，不能关联到员工：请联系系统管理员。"
ERROR_LOGIN_IN_USE = "登录账号“{username}”已设置密码，不能关联到员工：请联系系统管理员。"
ERROR_LOGIN_REPLACE = "该员工已关联登录账号“{current}”，不能改为“{username}”：请联系系统管理员。"

INVITE_PERMISSION = "members.invite_employee"
REASON_LOGIN_LINKED = "关联登录账号 {username}"
REASON_LINK_ISSUED = "生成设置密码链接（登录账号 {username}）"


class MembersError(ServiceError):
    """A refused change to the org chart."""


class InviteForbidden(MembersError, PermissionDenied):
    """No right to give employees logins (ERROR_INVITE_FORBIDDEN). Also a PermissionDenied,
    as it was before it was a MembersError: the employee sheet catches that for the 登录账号
    cell (members.resources), and the admin's 开通账号 action answers 403 with it."""


class DepartmentPathError(MembersError, ValueError):
    """A department path with nothing in it, or an empty level. Also a ValueError because
    the employee sheet's 部门 cell turns a ValueError into that cell's error
    (members.resources, django-import-export's widget contract)."""


def split_department_path(path: str) -> list[str]:
    """ "生产部 / 一车间" -> ["生产部", "一车间"]; full-width slashes count too.
    DepartmentPathError for an empty path or level."""
    normalised = path.replace("／", PATH_SEPARATOR).replace("\\", PATH_SEPARATOR).strip()
    if not normalised:
        raise DepartmentPathError(ERROR_EMPTY_DEPARTMENT_PATH)
    parts = [part.strip() for part in normalised.split(PATH_SEPARATOR)]
    if any(not part for part in parts):
        raise DepartmentPathError(ERROR_EMPTY_DEPARTMENT_SEGMENT.format(path=path))
    return parts


@transaction.atomic
def department_get_or_create_by_path(*, path: str) -> Department:
    """Return the department at ``path`` ("生产部/一车间"), creating missing levels."""
    names = split_department_path(path)  # at least one level, or DepartmentPathError
    parent: Department | None = None
    for name in names:
        department = Department.objects.filter(parent=parent, name=name).first()
        if department is None:
            department = Department(parent=parent, name=name)
            department.full_clean()
            department.save()
        parent = department
    return cast(Department, parent)  # the last level: there is one


@transaction.atomic
def department_set_head(*, department: Department, head: Employee | None) -> Department:
    """Make ``head`` the department's head (部门负责人); one head per department."""
    if department.head_id != (head.pk if head else None):
        department.head = head
        department.save(update_fields=["head"])
    return department


@transaction.atomic
def position_get_or_create(*, name: str) -> Position:
    position, _ = Position.objects.get_or_create(
        name=name.strip(), defaults={"rank": STANDARD_POSITIONS.get(name.strip(), 1)}
    )
    return position


@transaction.atomic
def seed_org_chart() -> None:
    """Create the standard departments and positions; leave existing ones as HR edited them."""
    for name in STANDARD_DEPARTMENTS:
        department_get_or_create_by_path(path=name)
    for name, rank in STANDARD_POSITIONS.items():
        Position.objects.get_or_create(name=name, defaults={"rank": rank})


# --- logins ---------------------------------------------------------------------------------
def login_may_get_invite_link(user) -> bool:
    """Whether HR may give ``user`` a set-password link: an active login of an employee that
    never reaches the admin and has no password yet. Checked when the link is made and again
    when it is used (members.views.InvitePasswordSetView)."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not user.has_usable_password()
        and Employee.objects.filter(user=user).exists()
    )


@transaction.atomic
def employee_login_get_or_create(
    *, employee: Employee, username: str, actor: Actor
) -> tuple[User, bool]:
    """The login called ``username`` for ``employee`` and whether it is new, without linking
    it (the caller saves the employee). ``actor`` is HR in the admin, or the system for the
    command line (common.actors).

    A new login has no usable password and no staff status: the employee sets a password
    through a link (employee_logins_invite), and only a superuser makes anyone staff. An
    existing login is reused only when no employee holds it and it could itself get such a
    link: never a staff or superuser login (linking one to a head's record would give it the
    head's §9.12 scope and the group rights the record carries) nor one with a password. An
    employee's existing login is never swapped for another one here.
    Raises InviteForbidden (a PermissionDenied) without members.invite_employee,
    ValidationError (ERROR_LOGIN_INVALID, ERROR_LOGIN_TAKEN, ERROR_LOGIN_PRIVILEGED,
    ERROR_LOGIN_IN_USE, ERROR_LOGIN_REPLACE).
    """
    if not actor_may(actor, INVITE_PERMISSION):
        raise InviteForbidden(ERROR_INVITE_FORBIDDEN)
    User = get_user_model()
    # The username field is a CharField with a max_length (AbstractUser's, 150).
    limit = cast(int, cast(CharField, User._meta.get_field(User.USERNAME_FIELD)).max_length)
    try:
        if not username or len(username) > limit:
            raise ValidationError("")
        User.username_validator(username)
    except ValidationError:
        raise ValidationError(ERROR_LOGIN_INVALID.format(username=username, limit=limit)) from None
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).select_related("employee").first()
    current = employee.user_id if employee.pk else None
    if current is not None and (user is None or user.pk != current):
        previous = User.objects.filter(pk=current).first()
        raise ValidationError(
            ERROR_LOGIN_REPLACE.format(
                username=username, current=previous.get_username() if previous else ""
            )
        )
    if user is None:
        user = User(**{User.USERNAME_FIELD: username}, is_staff=False, is_superuser=False)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        return user, True
    holder = getattr(user, "employee", None)
    if holder is not None and holder.pk != employee.pk:
        raise ValidationError(ERROR_LOGIN_TAKEN.format(username=username, employee=holder))
    if holder is None:
        if user.is_staff or user.is_superuser:
            raise ValidationError(ERROR_LOGIN_PRIVILEGED.format(username=username))
        if user.has_usable_password():
            raise ValidationError(ERROR_LOGIN_IN_USE.format(username=username))
    return user, False


@dataclass(frozen=True)
class LoginInvite:
    """What employee_logins_invite did for one employee; ``link`` is a path, or "" for none."""

    employee: Employee
    username: str
    outcome: str
    link: str = ""
    expires_at: dt.datetime | None = None


OUTCOME_CREATED = "新开通账号"
OUTCOME_LINKED = "关联已有账号"
OUTCOME_EXISTING = "已有账号，重新生成链接"
OUTCOME_IN_USE = "已设置密码，未生成链接（员工用自己的密码登录）"
OUTCOME_STAFF = "后台账号，未生成链接（请联系系统管理员）"
OUTCOME_INACTIVE = "账号已停用，未生成链接"
OUTCOME_LEFT = "已离职，不开通账号"
OUTCOME_INVALID = "员工资料有误，未开通账号、未生成链接（请先在员工页更正）：{errors}"


@transaction.atomic
def employee_logins_invite(*, employees: Iterable[Employee], actor: Actor) -> list[LoginInvite]:
    """Give each employee a login and, for a first password, a one-time set-password link.

    An employee without a login gets one named after the 工号 (employee_login_get_or_create:
    reused if nobody holds it and it is neither staff nor has a password, else created with
    no usable password, never staff). A link (members.tokens: valid PASSWORD_RESET_TIMEOUT,
    void once the password is set or the login is made staff, superuser or inactive, and
    checked again when used by members.views.InvitePasswordSetView) is made only for an active, non-staff login without a usable password: HR can
    never take over an account that has a password or reaches the admin. No password is
    ever made or shown. Each employee touched gets a history row by ``actor`` saying what
    was done. Departed employees are skipped; a 工号 taken by another employee's login, or an
    employee whose record no longer validates, is reported as that employee's outcome (the
    others still get their links), not taken. Raises InviteForbidden (a PermissionDenied)
    without members.invite_employee.
    """
    if not actor_may(actor, INVITE_PERMISSION):
        raise InviteForbidden(ERROR_INVITE_FORBIDDEN)
    pks = [employee.pk for employee in employees]
    locked = Employee.objects.select_for_update(of=("self",)).filter(pk__in=pks)
    locked = locked.select_related("user", "department")
    expires_at = timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    invites = []
    for employee in locked.order_by("employee_no"):
        login = employee.user
        try:
            with transaction.atomic():  # one employee's bad data spoils only their own row
                invites.append(_invite(employee=employee, actor=actor, expires_at=expires_at))
        except ValidationError as error:
            employee.user = login  # a login made for them was rolled back with the row
            username = login.get_username() if login else ""
            outcome = OUTCOME_INVALID.format(errors="；".join(error.messages))
            invites.append(LoginInvite(employee, username, outcome))
    return invites


def _invite(*, employee: Employee, actor: Actor, expires_at: dt.datetime) -> LoginInvite:
    if not employee.is_active:
        username = employee.user.get_username() if employee.user else ""
        return LoginInvite(employee, username, OUTCOME_LEFT)
    outcomes, reasons = [], []
    user = employee.user
    if user is None:
        try:
            user, created = employee_login_get_or_create(
                employee=employee, username=employee.employee_no, actor=actor
            )
        except ValidationError as error:
            return LoginInvite(employee, "", "；".join(error.messages))
        employee.user = user
        outcomes.append(OUTCOME_CREATED if created else OUTCOME_LINKED)
        reasons.append(REASON_LOGIN_LINKED.format(username=user.get_username()))
    username = user.get_username()
    link = ""
    if user.is_staff or user.is_superuser:
        outcomes.append(OUTCOME_STAFF)
    elif not user.is_active:
        outcomes.append(OUTCOME_INACTIVE)
    elif user.has_usable_password():
        outcomes.append(OUTCOME_IN_USE)
    else:
        uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
        token = invite_token_generator.make_token(user)
        link = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
        outcomes = outcomes or [OUTCOME_EXISTING]
        reasons.append(REASON_LINK_ISSUED.format(username=username))
    if reasons:
        # What django-simple-history records with the history row (its documented attributes).
        employee._history_user = actor_user(actor)  # type: ignore[attr-defined]
        employee._change_reason = "；".join(reasons)  # type: ignore[attr-defined]
        employee.full_clean()
        employee.save()
    return LoginInvite(employee, username, "；".join(outcomes), link, expires_at if link else None)


# ------------------------------------------------------------------------------
# A leaver loses access at once (docs/security.md, 7)
# ------------------------------------------------------------------------------
security_log = logging.getLogger("security")


def _sessions_end(*, user_id: int) -> int:
    """Delete the user's sessions in the session table (the default database backend)."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(user_id)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def employee_access_revoke(*, employee: Employee, actor: Actor) -> bool:
    """Take every right away from a departed (离职) employee's login, at once.

    Guarantees: the login is deactivated (Django's backends refuse an inactive user, so
    no password, session or set-password link works again), every open session of it is
    deleted, and every object permission it holds is removed (the group rights of
    groups.services.staffing, which no longer grants them to a leaver, and any other
    guardian row). Role groups stay, for the record; an inactive login has no rights
    through them. Returns whether anything was revoked; does nothing for an employee
    who is still active or has no login. Called by members.signals whenever an employee
    is saved as 离职 — by the admin form, the employee sheet, or code. No permission is
    checked: whoever may mark an employee 离职 takes their access with it; ``actor`` (the
    one who saved the record, or the system) is only logged.
    """
    require_actor(actor)  # also when there is nothing to revoke
    if employee.is_active or employee.user_id is None:
        return False
    user_id = employee.user_id
    deactivated = (
        get_user_model().objects.filter(pk=user_id, is_active=True).update(is_active=False)
    )
    sessions = _sessions_end(user_id=user_id)
    permissions = 0
    for model in apps.get_models():
        if issubclass(model, UserObjectPermissionBase):
            permissions += model.objects.filter(user_id=user_id).delete()[0]
    if deactivated or sessions or permissions:
        person = actor_user(actor)  # the system is logged as "-", as no person
        # Logged once it is true: an import's preview runs this too, then rolls it back.
        transaction.on_commit(
            lambda: security_log.info(
                "leaver employee=%s user_id=%s deactivated=%s sessions_ended=%s "
                "object_permissions_revoked=%s actor=%s",
                employee.employee_no,
                user_id,
                bool(deactivated),
                sessions,
                permissions,
                person.get_username() if person is not None else "-",
            )
        )
    return bool(deactivated or sessions or permissions)


# ------------------------------------------------------------------------------
# HR releases a login lockout, django-axes' (docs/security.md, 6)
# ------------------------------------------------------------------------------
@transaction.atomic
def login_lockouts_release(*, lockouts: Iterable[AccessAttempt], actor: Actor) -> int:
    """Release the chosen lockouts: forget the failures of their usernames and addresses.

    Forgetting only the chosen row would leave the same username locked by its failures
    from other addresses; a lockout is by username and by address (settings: AXES_*).
    Returns the number of failure rows removed; logs who released whom. No permission is
    checked here: the admin offers it to those who may delete the lockout rows.
    """
    require_actor(actor)  # also when no lockout is chosen
    removed = 0
    for lockout in list(lockouts):
        if lockout.username:
            removed += axes_reset(username=lockout.username)
        if lockout.ip_address:
            removed += axes_reset(ip=lockout.ip_address)
        security_log.info(
            "lockout released username=%s ip=%s by=%s",
            lockout.username,
            lockout.ip_address,
            actor.get_username(),
        )
    return removed
