"""The demo's announcements (§4, §6.1): one in every state, made through
announcements.services by the people who would make them, so that the ``leader`` and
``head`` personas find items in 待我审批 (and what they decided), the author sees who has not
confirmed a 须确认 item, and the ``employee`` persona has one to confirm on /me/.

- 草稿; 审批中 at step 1 (the head persona's: the author works in their workshop) and at
  step 2 (any company leader's); a 工作群 greeting waiting for HR; 已批准, not yet posted;
  已发布 in 工作群 with 须确认 (a few readers confirmed); a 欢乐谷 item with 须确认 (no
  approval; the employee persona reads it); 已退回 waiting for its revision; one rejected,
  revised (version 2) and submitted again; 已撤回; two 应急 items approved by one company
  leader, one of them reviewed after by the leader persona; and two delegations (the leader
  persona's, the head persona's to the creator persona, who heads the workshop's parent).

The author is ``demo-author`` (an unusable password), a clerk of the head persona's workshop;
a second company leader ``demo-leader`` (a deputy general manager) approves the 应急 items.
Needs the persona logins (DEMO_PASSWORD): without them nothing is made. A second run makes
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from announcements.models import Announcement
from announcements.selectors import announcement_target_employee_ids
from announcements.services import (
    announcement_acknowledge,
    announcement_approve,
    announcement_create,
    announcement_publish,
    announcement_reject,
    announcement_review,
    announcement_revise,
    announcement_submit,
    announcement_withdraw,
    delegation_create,
)
from company import roles
from company.demo import DEMO
from company.demo.cases import HEAD_PERSONA_DEPARTMENT
from groups.models import ChatGroup, ContentKind
from members.models import Employee

DEMO_AUTHOR = "demo-author"
DEMO_LEADER = "demo-leader"
DEMO_ANNOUNCEMENT_USERNAMES = (DEMO_AUTHOR, DEMO_LEADER)
PREFIX = "【演示】"


@dataclass(frozen=True)
class DemoAnnouncementsSummary:
    by_state: dict[str, int]  # state label -> count
    created: int
    skipped: bool = False  # no persona logins: nothing made


def demo_announcements_apply(
    *, now: dt.datetime | None = None, reserved_employee_nos: tuple[str, ...] = ()
) -> DemoAnnouncementsSummary:
    """Give the demo company its announcements, once (module docstring)."""
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=("leader", "head"))
    }
    if len(users) < 2:
        return DemoAnnouncementsSummary(by_state={}, created=0, skipped=True)
    created = 0
    if not Announcement.objects.filter(author__username=DEMO_AUTHOR).exists():
        created = _make(
            now=now or timezone.now(),
            leader=users["leader"],
            head=users["head"],
            reserved=set(reserved_employee_nos),
        )
    counts = dict(Announcement.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return DemoAnnouncementsSummary(  # in the order of the workflow
        by_state={s.label: counts[s.value] for s in Announcement.State if s.value in counts},
        created=created,
    )


def _login(username: str, employee: Employee | None, role: str | None = None):
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(username=username, is_staff=True)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    if employee is not None and not Employee.objects.filter(user=user).exists():
        employee.user = user
        employee.save(update_fields=["user"])
    return user


def _free(queryset, reserved: set[str]) -> Employee | None:
    return (
        queryset.filter(user__isnull=True, headed_departments=None)
        .exclude(employee_no__in=reserved)
        .order_by("employee_no")
        .first()
    )


def _author_employee(active, reserved: set[str]) -> Employee | None:
    """A clerk of the head persona's workshop (their items go to that head first, §4); in a
    company too small to have a free one, anyone whose department head has a login."""
    workshop = active.filter(department__path=HEAD_PERSONA_DEPARTMENT)
    for candidates in (
        workshop.filter(category=Employee.Category.ADMIN),
        workshop,
        active.filter(department__head__user__isnull=False),
    ):
        employee = _free(candidates, reserved)
        if employee is not None:
            return employee
    return None


@transaction.atomic
def _make(*, now: dt.datetime, leader, head, reserved: set[str]) -> int:
    active = Employee.objects.active()
    clerk = _author_employee(active, reserved)
    if clerk is None:
        return 0
    author = _login(DEMO_AUTHOR, clerk)  # any login drafts; no role needed
    deputy = _free(active.filter(department__path="总经办", rank__gte=8), reserved)
    second_leader = _login(DEMO_LEADER, deputy, roles.COMPANY_LEADERS)
    groups = {g.code: g for g in ChatGroup.objects.all()}
    kinds = {k.code: k for k in ContentKind.objects.all()}
    day = dt.timedelta(days=1)
    made = 0

    def draft(title, body, group="work", kind="notices", **kwargs):
        nonlocal made
        made += 1
        return announcement_create(
            title=PREFIX + title,
            body=body,
            category=kinds[kind],
            groups=[groups[group]],
            actor=author,  # the demo writes as the author: the timeline names them
            **kwargs,
        )

    def submitted(title, body, when, **kwargs):
        item = draft(title, body, **kwargs)
        return announcement_submit(announcement=item, actor=author, now=when)

    def approved(title, body, when, **kwargs):
        item = submitted(title, body, when, **kwargs)
        announcement_approve(announcement=item, actor=head, comment="同意", now=when + day / 4)
        return announcement_approve(
            announcement=item, actor=leader, comment="同意发布", now=when + day / 2
        )

    def posted(item, group, when):
        announcement_publish(
            announcement=item, group=groups[group], posted_at=when, actor=author, now=now
        )

    draft("十二月安全生产检查安排", "各班组于 12 月 20 日前完成自查，车间复查。")
    submitted(
        "一车间设备检修的通知", "本周六 8:00–17:00 一车间停机检修，请提前安排生产。", now - day
    )
    at_leader = submitted(
        "年终盘点的通知", "各部门于 12 月 28 日前完成盘点，财务部抽盘。", now - 2 * day
    )
    announcement_approve(
        announcement=at_leader, actor=head, comment="已核对盘点范围", now=now - day
    )
    submitted("冬至祝福", "冬至到了，祝大家阖家幸福！", now - day / 2, kind="holiday_greetings")
    approved("消防演练的通知", "12 月 15 日下午 3 点全厂消防演练，请准时参加。", now - 3 * day)
    notice = approved(
        "劳保用品发放的通知",
        "本月劳保用品于周五在仓库发放，请各部门领取并签字。",
        now - 6 * day,
        requires_acknowledgement=True,
    )
    posted(notice, "work", now - 5 * day)
    readers = sorted(announcement_target_employee_ids(notice))[:3]
    for reader in Employee.objects.filter(pk__in=readers):
        announcement_acknowledge(
            announcement=notice, employee=reader, actor=DEMO, now=now - 4 * day
        )
    party = draft(
        "元旦联欢会报名",
        "元旦联欢会 12 月 31 日晚举行，请在本周内向部门文员报名节目。",
        group="leisure",
        kind="leisure",
        requires_acknowledgement=True,
    )
    announcement_submit(announcement=party, actor=author, now=now - 2 * day)  # no approval
    posted(party, "leisure", now - 2 * day)
    rejected = submitted("加班安排的通知", "本周六全员加班。", now - 3 * day)
    announcement_reject(
        announcement=rejected, actor=head, comment="请写明加班时间和调休安排。", now=now - 2 * day
    )
    revised = submitted("夜班补贴调整的通知", "夜班补贴自下月起调整。", now - 4 * day)
    announcement_reject(
        announcement=revised,
        actor=head,
        comment="请写明调整后的标准和起始日期。",
        now=now - 3 * day,
    )
    announcement_revise(
        announcement=revised,
        title=PREFIX + "夜班补贴调整的通知",
        body="夜班补贴自 1 月 1 日起由每晚 20 元调整为 30 元。",
        actor=author,
        comment="按意见补充标准和起始日期",
    )
    announcement_submit(announcement=revised, actor=author, now=now - 2 * day)
    withdrawn = submitted("临时停水的通知", "明日上午停水。", now - 2 * day)
    announcement_withdraw(announcement=withdrawn, actor=author, comment="水务公司取消停水")
    for title, reviewed in (("暴雨停工的紧急通知", True), ("锅炉故障的紧急通知", False)):
        urgent = submitted(
            title, "因突发情况，相关岗位立即停工待命，等候通知。", now - day, kind="emergency"
        )
        announcement_approve(announcement=urgent, actor=second_leader, now=now - day)
        posted(urgent, "work", now - day)
        if reviewed:
            announcement_review(
                announcement=urgent, actor=leader, comment="处置及时", now=now - day / 2
            )
    today = timezone.localdate(now)
    delegation_create(
        approver=leader,
        delegate=second_leader,
        starts_on=today + 7 * day,
        ends_on=today + 9 * day,
        reason="出差",
        actor=DEMO,
    )
    # The workshop director away: the production director (the creator persona) decides.
    creator = get_user_model().objects.filter(username="creator").first()
    if creator is not None and creator != head:
        delegation_create(
            approver=head,
            delegate=creator,
            starts_on=today + 14 * day,
            ends_on=today + 15 * day,
            reason="外出培训",
            actor=DEMO,
        )
    return made
