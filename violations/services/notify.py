"""Telling the employee about their case (issue 12, point 6): a notice on their own page
and an email (notices.notice_post), once per event — proposed (with the chance to explain),
confirmed, dismissed, appeal decided — and the §9.8 joint case to the department head;
and HR of an appeal that arrived (notify_appeal_arrived), told only to whoever may decide it.

Only the posting and its words live here; when a telling starts the explanation window or
the appeal clock is telling.py's (explanation_due, told_at).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from common.actors import Actor
from common.permissions import logins_with_perm
from notices.models import Notice
from notices.services import notice_post
from violations.models import Case
from violations.services.guards import DECIDE_PERMISSION, parties

log = logging.getLogger(__name__)

TITLE_PROPOSED = "有一项违规待人力资源部审核，你可以在页面上说明"
TITLE_CONFIRMED = "你的违规案件 #{pk} 已确认"
TITLE_JOINT = "连带责任：你部门员工的案件 #{pk} 已确认"
TITLE_DISMISSED = "你的违规案件 #{pk} 已驳回，不作处理"
TITLE_UPHELD = "你对案件 #{pk} 的申诉不成立，维持原处理"
TITLE_OVERTURNED = "你对案件 #{pk} 的申诉成立，处理已撤销"
TITLE_JOINT_OVERTURNED = "案件 #{pk} 申诉成立，你的连带记录 #{joint} 已撤销"
TITLE_APPEAL_ARRIVED = "新的申诉：{name} 对案件 #{pk} 提出申诉，等待裁决"

APPEAL_WINDOW = "如有异议，请在 {days} 天内（自你收到本通知起，截至 {deadline:%Y年%-m月%-d日 %H:%M}）在案件页面提出申诉。"
EXPLANATION_WAIT = (
    "人力资源部会等你说明至 {until:%Y年%-m月%-d日 %H:%M}（{days} 个工作日）再作决定。"
)


def _facts(case: Case) -> str:
    occurred = timezone.localtime(case.occurred_at)
    group = f"，{case.group.name}" if case.group is not None else ""
    return (
        f"§{case.rule.code} {case.rule.title_zh}（{occurred:%Y年%-m月%-d日 %H:%M}{group}）\n"
        f"{case.description}"
    )


SUBJECT_KEY = "case:{pk}:{event}"


def _subject_key(case: Case, event: str) -> str:
    return SUBJECT_KEY.format(pk=case.pk, event=event)


def _post(case: Case, kind: str, event: str, title: str, body: str) -> Notice | None:
    return notice_post(
        recipient=case.employee.user,  # None without a login: nobody to tell
        kind=kind,
        title=title,
        body=body,
        url=reverse("me:case_detail", args=[case.pk]),
        subject_key=_subject_key(case, event),
    )


def proposal_notice_at(case: Case) -> dt.datetime | None:
    """When the proposal's notice reached the employee's present login; None if it never did
    (no login then, or a login made since): they were not told of the proposal."""
    user_id = case.employee.user_id
    if user_id is None:
        return None
    told = Notice.objects.filter(recipient_id=user_id, subject_key=_subject_key(case, "proposed"))
    return told.values_list("created_at", flat=True).first()


def proposal_notice_settle(case: Case) -> None:
    """The case left 待审核: its proposal notice no longer waits for the employee's
    explanation, so it stops counting as unread (the bell on /me/); /me/notices/ marks it
    （已处理） (violations.selectors.proposals_decided)."""
    user_id = case.employee.user_id
    if user_id is None:
        return
    Notice.objects.filter(
        recipient_id=user_id, subject_key=_subject_key(case, "proposed"), read_at__isnull=True
    ).update(read_at=timezone.now())


def notify_proposed(case: Case, explain_until: dt.datetime | None) -> Notice | None:
    """A case was proposed or filed: the employee may explain before HR decides."""
    lines = [
        _facts(case),
        "",
        "人力资源部作出决定前，你可以在“我的违规记录”中该案件的页面上说明情况。",
    ]
    if explain_until is not None:
        lines.append(
            EXPLANATION_WAIT.format(
                until=timezone.localtime(explain_until),
                days=settings.CASE_EXPLANATION_WORKING_DAYS,
            )
        )
    return _post(case, Notice.Kind.CASE_PROPOSED, "proposed", TITLE_PROPOSED, "\n".join(lines))


def notify_confirmed(case: Case) -> Notice | None:
    """HR confirmed: points and sanction, and the appeal window that starts now."""
    days = settings.CASE_APPEAL_WINDOW_DAYS
    title = (TITLE_JOINT if case.joint_of_id else TITLE_CONFIRMED).format(
        pk=case.joint_of_id or case.pk
    )
    lines = [
        _facts(case),
        "",
        f"扣分：{case.points}；处分：{case.get_sanction_display()}。",
        APPEAL_WINDOW.format(
            days=days, deadline=timezone.localtime(timezone.now() + dt.timedelta(days=days))
        ),
    ]
    return _post(case, Notice.Kind.CASE_CONFIRMED, "confirmed", title, "\n".join(lines))


def notify_dismissed(case: Case, comment: str) -> Notice | None:
    body = f"{_facts(case)}\n\n人力资源部的意见：{comment}"
    title = TITLE_DISMISSED.format(pk=case.pk)
    return _post(case, Notice.Kind.CASE_DISMISSED, "dismissed", title, body)


def notify_appeal_decided(case: Case, comment: str) -> Notice | None:
    upheld = case.state == Case.State.UPHELD
    title = (TITLE_UPHELD if upheld else TITLE_OVERTURNED).format(pk=case.pk)
    body = f"{_facts(case)}\n\n人力资源部的裁决意见：{comment}"
    return _post(case, Notice.Kind.APPEAL_DECIDED, "appeal", title, body)


def notify_joint_overturned(joint: Case, case: Case) -> Notice | None:
    title = TITLE_JOINT_OVERTURNED.format(pk=case.pk, joint=joint.pk)
    body = f"{_facts(joint)}\n\n员工的申诉成立，部门负责人的连带记录随之撤销，不再计分。"
    return _post(joint, Notice.Kind.APPEAL_DECIDED, "appeal", title, body)


def notify_appeal_arrived(case: Case, appellant: Actor) -> list[Notice]:
    """An appeal arrived (§7.1): every HR clerk who may decide it is told — the holders of
    violations.decide_case, superusers left out (logins_with_perm), and never the parties of
    the case (guards.parties: the employee, §9.8 joint heads), whoever confirmed it nor
    whoever filed the appeal: the four-eyes rules of case_decide_appeal, so nobody is asked
    to decide what they may not. When those rules leave no clerk (a small HR team), the
    active superusers outside them are told instead — they may decide it — and a warning is
    logged, so an appeal never waits unseen. Queries: the parties, the holders (then the
    superusers), notice_post each."""
    excluded = [pk for pk in parties(case) | {case.confirmed_by_id, appellant.pk} if pk]
    body = f"{_facts(case)}\n\n申诉理由见案件页面；请确认人以外的人力资源部同事裁决。"
    url = reverse("admin:violations_case_change", args=[case.pk])
    told = []
    deciders = list(logins_with_perm(DECIDE_PERMISSION).exclude(pk__in=excluded))
    if not deciders:
        deciders = list(
            get_user_model()
            .objects.filter(is_superuser=True, is_active=True)
            .exclude(pk__in=excluded)
            .order_by("pk")
        )
        log.warning(
            "violations: no HR clerk may decide the appeal of case %s (four eyes); "
            "told %s superuser(s) instead",
            case.pk,
            len(deciders),
        )
    for user in deciders:
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.APPEAL_ARRIVED,
            title=TITLE_APPEAL_ARRIVED.format(name=case.employee.name, pk=case.pk),
            body=body,
            url=url,
            subject_key=_subject_key(case, "appealed"),
        )
        if notice is not None:
            told.append(notice)
    return told
