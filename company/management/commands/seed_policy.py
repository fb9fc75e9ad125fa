"""python manage.py seed_policy — create what the policy names; safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from company.roles import seed_roles
from groups.models import ChatGroup
from groups.services import chat_group_assign_default_staff, seed_groups
from members.services import seed_org_chart
from violations.services import seed_rule_catalog


class Command(BaseCommand):
    help = "创建制度规定的部门、四个微信群及入群条件、违规条款和角色（可重复运行）。"

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        seed_org_chart()
        groups = seed_groups()
        for group in ChatGroup.objects.all():
            chat_group_assign_default_staff(group=group)
        rules = seed_rule_catalog()
        roles = seed_roles()
        self.stdout.write(
            f"seed_policy: {len(groups)} 个微信群，{len(rules)} 条违规条款，{len(roles)} 个角色。"
        )
