"""Keep object permissions in step with who runs each group, however it changed, and make the
groups follow joiners, movers and leavers (members.PersonnelEvent) at once.

The rules themselves live in groups.services; these receivers only say when to apply them.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from groups import services
from groups.models import ChatGroup
from groups.services.lifecycle import personnel_events_apply
from groups.services.succession import group_creator_todos_follow
from members.models import Employee, PersonnelEvent
from members.signals import personnel_events_recorded


@receiver(post_save, sender=ChatGroup)
def group_saved(sender, instance: ChatGroup, raw: bool = False, **kwargs) -> None:
    if not raw:
        services.chat_group_sync_permissions(group=instance)
        # §5.1: the creator's to-dos follow whoever HR names creator (a fresh due date).
        group_creator_todos_follow(group=instance)


@receiver(m2m_changed, sender=ChatGroup.admins.through)
def group_admins_changed(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # employee.administered_groups.add(...)
        for group in ChatGroup.objects.filter(pk__in=kwargs.get("pk_set") or []):
            services.chat_group_sync_permissions(group=group)
        if action == "post_clear":
            services.chat_group_sync_all_permissions()
    else:
        services.chat_group_sync_permissions(group=instance)


@receiver(post_save, sender=Employee)
def employee_login_changed(sender, instance: Employee, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    # Only an employee who creates or administers a group passes rights to a login: the
    # many logins opened at once by an employee sheet or HR's invite skip the full pass.
    if instance.loaded_user_id != instance.user_id and (
        instance.created_groups.exists() or instance.administered_groups.exists()
    ):
        services.chat_group_sync_all_permissions()
    instance.loaded_user_id = instance.user_id


@receiver(personnel_events_recorded)
def personnel_events_follow(sender, events: list[PersonnelEvent], **kwargs) -> None:
    # members.signals records joiners, movers and leavers in the transaction that changed the
    # employees (one at a time, or a whole employee sheet at once); the groups follow in the
    # same one (groups.services.lifecycle).
    personnel_events_apply(events=events)
