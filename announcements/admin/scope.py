"""Which announcements a login opens in the admin, and the list's 审批 filter.

Reads only. 待我审批 itself is announcements.selectors.announcements_waiting_for; this adds the
rest of what a person may look at: HR (who records postings, publish_announcement) and the
superuser every item; anyone else their own items, the items waiting for them, the items they
decided (themselves or for someone), and — for a company leader — the 应急 items still to be
reviewed after the fact (§4). Filtered in the queryset, never by hiding buttons.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet

from announcements.models import Announcement, AnnouncementStep, ApproverKind
from announcements.selectors import ROLE_PERMISSIONS, announcements_waiting_for
from announcements.services.posting import PUBLISH_PERMISSION

State = Announcement.State
LEADER_PERMISSION = ROLE_PERMISSIONS[ApproverKind.COMPANY_LEADER]


def sees_every_announcement(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(PUBLISH_PERMISSION))


def announcements_visible_to(user) -> QuerySet[Announcement]:
    """The items ``user`` may open (module docstring), with what the list shows loaded."""
    base = Announcement.objects.select_related("author__employee", "category").prefetch_related(
        "target_groups"
    )
    if not user.is_authenticated or not user.is_active:
        return base.none()
    if sees_every_announcement(user):
        return base
    waiting = announcements_waiting_for(user).values("pk")
    mine = Q(author=user) | Q(pk__in=waiting) | decided_by_q(user)
    if user.has_perm(LEADER_PERMISSION):
        mine |= Q(
            review_after=True,
            reviewed_at__isnull=True,
            state__in=(State.APPROVED, State.PUBLISHED),
        )
    return base.filter(mine)


def decided_by_q(user) -> Q:
    decided = AnnouncementStep.objects.filter(announcement=OuterRef("pk")).filter(
        Q(decided_by=user) | Q(decided_for=user)
    )
    return Q(Exists(decided))


WAITING = "waiting"


class InboxFilter(admin.SimpleListFilter):
    """待我审批 (exactly announcements_waiting_for), 我已审批, 我起草的. Values are text and the
    filter reads the user from the request it is given, so 显示计数 (facets) counts right."""

    title = "审批"
    parameter_name = "inbox"

    def lookups(self, request, model_admin):
        return [(WAITING, "待我审批"), ("decided", "我已审批"), ("mine", "我起草的")]

    def queryset(self, request, queryset):
        value = self.value()
        user = request.user
        if value == WAITING:
            return queryset.filter(pk__in=announcements_waiting_for(user).values("pk"))
        if value == "decided":
            return queryset.filter(decided_by_q(user))
        if value == "mine":
            return queryset.filter(author=user)
        return queryset
