"""Writes for the WeChat groups: seeding §4, staffing (§5.1, §5.2), object permissions."""

from __future__ import annotations

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


@transaction.atomic
def chat_group_assign_default_staff(*, group: ChatGroup) -> ChatGroup:
    """Give a group without admins the HR staff as admins (§5.2), and the HR head as creator.

    Only fills gaps: a creator or admins HR chose are never replaced.
    """
    hr = Department.objects.filter(path=HR_DEPARTMENT).first()
    if hr is None:
        return group
    if group.creator_id is None and hr.head_id is not None:
        group.creator_id = hr.head_id
        group.save(update_fields=["creator"])
    if not group.admins.exists():
        staff = Employee.objects.active().filter(hr.subtree_q("department__"))
        group.admins.set(staff)
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
