"""python manage.py seed_policy — create what the policy names; safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from announcements.services import approval_route_seed
from common.actors import SystemActor
from company.roles import seed_roles
from groups.models import ChatGroup
from groups.services import chat_group_assign_default_staff, seed_groups
from members.services import seed_org_chart
from screening.services import screening_rules_seed
from violations.services import seed_rule_catalog
from workdays.services import calendar_seed


class Command(BaseCommand):
    help = "创建制度规定的部门、四个微信群及入群条件、违规条款、角色和今明两年的节假日安排（可重复运行）。"

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        seed_org_chart()
        groups = seed_groups()
        for group in ChatGroup.objects.all():
            chat_group_assign_default_staff(group=group)
        rules = seed_rule_catalog()
        roles = seed_roles()
        # Chat-log screening's starting rules (docs/screening.md): created once, HR edits them.
        screening = screening_rules_seed()
        # §4: who approves what is posted in each group (routes HR may edit afterwards).
        approval_route_seed()
        # The official holidays and 调休 working days of this year and the next (the next is
        # published late in the year: a package that does not know it yet skips it, and says so
        # in the log).
        this_year = timezone.localdate().year
        years = [this_year, this_year + 1]
        days = calendar_seed(years=years, actor=SystemActor("command:seed_policy"))
        self.stdout.write(
            f"seed_policy: {len(groups)} 个微信群，{len(rules)} 条违规条款，"
            f"{len(screening)} 条新的筛查规则，{len(roles)} 个角色，"
            f"新增或更正 {days} 个节假日与调休日。"
        )
