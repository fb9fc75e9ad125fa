"""Writes for the WeChat groups: seeding §4, staffing (§5.1, §5.2), object permissions."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import transaction

from groups.models import ChatGroup, ChatGroupUserObjectPermission, ContentKind, EligibilityRule
from groups.policy_data import CONTENT_KINDS, GROUPS, RuleSpec
from members.models import HR_DEPARTMENT, Department, Employee

# What each role on a group may do with it, as object permissions.
# §5.1: the creator adds and removes members; §5.2: admins manage content.
CREATOR_PERMISSIONS = ("view_chatgroup", "manage_roster")
ADMIN_PERMISSIONS = ("view_chatgroup", "moderate")
MANAGED_PERMISSIONS = frozenset(CREATOR_PERMISSIONS + ADMIN_PERMISSIONS)


@transaction.atomic
def seed_groups() -> list[ChatGroup]:
    """Create the four groups of §4 with their rules; keep what HR already edited."""
    kinds = {}
    for code, name in CONTENT_KINDS.items():
        kinds[code], _ = ContentKind.objects.get_or_create(code=code, defaults={"name": name})
    groups = []
    for spec in GROUPS:
        group, created = ChatGroup.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "function": spec["function"],
                "is_confidential": spec["is_confidential"],
            },
        )
        if created:
            group.allowed_content.set([kinds[code] for code in spec["content"]])
        if not group.rules.exists():
            for rule_spec in spec["rules"]:
                rule = EligibilityRule(group=group, **_resolve_rule(rule_spec))
                rule.full_clean()
                rule.save()
        groups.append(group)
    return groups


def _resolve_rule(spec: RuleSpec) -> dict[str, object]:
    resolved: dict[str, object] = dict(spec)
    if "department" in resolved:
        resolved["department"] = Department.objects.get(path=resolved["department"])
    return resolved


# WeChat lets a group's owner (群主) name at most this many admins (群管理员).
WECHAT_MAX_ADMINS = 3
ERROR_DEFAULT_ADMINS = (
    "GROUP_DEFAULT_ADMINS 应为 0 到 {most} 之间的人数，或以逗号分隔、不重复的至多 {most} 个工号"
    "（微信群主至多设 {most} 名管理员）。"
)


def default_admins_setting(value: object = None) -> int | tuple[str, ...]:
    """GROUP_DEFAULT_ADMINS read: a number of HR staff, or the 工号 of the admins, in order.

    Accepts what the environment gives ("2", "JM00012,JM00040") and what a settings file
    may write (2, ["JM00012"]). Raises ValueError (ERROR_DEFAULT_ADMINS) for anything
    else — the system check groups.E002 says so when the site starts.
    """
    if value is None:
        value = getattr(settings, "GROUP_DEFAULT_ADMINS", 2)
    error = ValueError(ERROR_DEFAULT_ADMINS.format(most=WECHAT_MAX_ADMINS))
    if isinstance(value, str):
        value = value.strip()
        value = int(value) if value.isdigit() else [no.strip() for no in value.split(",")]
    if isinstance(value, bool):
        raise error
    if isinstance(value, int):
        if not 0 <= value <= WECHAT_MAX_ADMINS:
            raise error
        return value
    if not isinstance(value, Sequence):
        raise error
    numbers = tuple(value)
    if (
        not 0 < len(numbers) <= WECHAT_MAX_ADMINS
        or not all(isinstance(no, str) and no for no in numbers)
        or len(set(numbers)) != len(numbers)
    ):
        raise error
    return numbers


def default_admins(*, exclude: Sequence[int] = ()) -> list[Employee]:
    """The admins GROUP_DEFAULT_ADMINS names, active employees only, at most WeChat's 3.

    A number: that many of HR's active staff by 工号, those in ``exclude`` (the creator)
    left out. 工号: those employees in that order, whatever their department; one who
    left or is unknown is skipped (`manage.py check --database default` warns, groups.W003).
    """
    wanted = default_admins_setting()
    active = Employee.objects.active().exclude(pk__in=exclude)
    if isinstance(wanted, int):
        hr = Department.objects.filter(path=HR_DEPARTMENT).first()
        if hr is None or not wanted:
            return []
        return list(active.filter(hr.subtree_q("department__")).order_by("employee_no")[:wanted])
    found = {e.employee_no: e for e in active.filter(employee_no__in=wanted)}
    return [found[no] for no in wanted if no in found]


@transaction.atomic
def chat_group_assign_default_staff(*, group: ChatGroup) -> ChatGroup:
    """Give a group without a creator the HR head (§5.1), and one without admins the few
    GROUP_DEFAULT_ADMINS names (§5.2; default_admins).

    Only fills gaps: a creator or admins HR chose are never replaced. A few admins, not all
    of HR: WeChat lets a group owner name at most 3, and every admin row is joined by the
    group list and synced as object permissions (docs/performance.md). Groups staffed
    before this rule keep their admins: who administers a real group is HR's to change,
    on the group's page, not a migration's.
    """
    hr = Department.objects.filter(path=HR_DEPARTMENT).first()
    if group.creator_id is None and hr is not None and hr.head_id is not None:
        group.creator_id = hr.head_id
        group.save(update_fields=["creator"])
    if not group.admins.exists():
        creator = [group.creator_id] if group.creator_id else []
        group.admins.set(default_admins(exclude=creator))
    return group


def _permissions_by_codename() -> dict[str, Permission]:
    return {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="groups", codename__in=MANAGED_PERMISSIONS
        )
    }


def desired_permissions(group: ChatGroup) -> set[tuple[int, str]]:
    """(user id, codename) pairs the group's creator and admins should hold.

    A departed (离职) creator or admin holds none (docs/security.md, 7: a leaver loses
    access at once, even before HR names a successor).
    """
    wanted: set[tuple[int, str]] = set()
    creator = group.creator
    if creator is not None and creator.user_id and creator.is_active:
        wanted |= {(creator.user_id, codename) for codename in CREATOR_PERMISSIONS}
    for admin in group.admins.active().filter(user__isnull=False):
        wanted |= {(admin.user_id, codename) for codename in ADMIN_PERMISSIONS}
    return wanted


@transaction.atomic
def chat_group_sync_permissions(*, group: ChatGroup) -> None:
    """Make the group's object permissions match its creator and admins.

    Grants what a new creator/admin (with a login) lacks and revokes what a
    former one still holds. Only the permissions this module manages are
    touched; anything else granted by hand stays.
    """
    perms = _permissions_by_codename()
    existing = {
        (row.user_id, row.permission.codename): row.pk
        for row in ChatGroupUserObjectPermission.objects.filter(
            content_object=group, permission__codename__in=MANAGED_PERMISSIONS
        ).select_related("permission")
    }
    wanted = desired_permissions(group)
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        ChatGroupUserObjectPermission.objects.filter(pk__in=stale).delete()
    ChatGroupUserObjectPermission.objects.bulk_create(
        [
            ChatGroupUserObjectPermission(
                content_object=group, user_id=user_id, permission=perms[codename]
            )
            for user_id, codename in sorted(wanted - existing.keys())
        ]
    )


def chat_group_sync_all_permissions() -> None:
    """Re-sync every group: after a login is linked to, moved from or unlinked from an employee.

    Groups are few (tens), and a login changing hands is rare, so the simple
    full pass is cheaper to trust than tracking who held what.
    """
    for group in ChatGroup.objects.select_related("creator"):
        chat_group_sync_permissions(group=group)
