"""Telling people of directives (§7.2; issue 14, point 3): each assignee of a new directive
(a to-do assigned to them), and the issuer when an assignee reports the work done — it waits
for their acceptance (待验收). In-app notices, mailed in the evening digest — except an
assignment whose deadline comes before that digest is written: mailed at once, or the
assignee could learn of it only after the deadline, when a §7.2 case is already proposed.

A directive to whole departments has hundreds of assignees, each notice a few queries: they
are told after the directive commits, on the worker (directives.tell_assignees), not in the
request that issued it; with the broker down, right there after the commit instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from common.actors import Actor
from common.dates import moment_text
from directives.models import Directive, DirectiveAssignment
from notices.models import Notice
from notices.services import notice_post
from notices.services.digests import next_digest_at

TITLE_ASSIGNED = "新的指令：请在 {deadline} 前完成"
TITLE_DONE = "{name} 报告指令 #{pk} 已完成，等待你验收"
ASSIGNED_KEY = "directive-assignment:{pk}:assigned"
DONE_KEY = "directive-assignment:{pk}:done:{at}"

log = logging.getLogger(__name__)


def _my_directive_url(assignment_pk: int) -> str:
    try:
        return reverse("me:directive_detail", args=[assignment_pk])
    except NoReverseMatch:  # the /me/ pages are not mounted
        return ""


def directive_tell_assignees(
    directive: Directive,
    assignments: Iterable[DirectiveAssignment],
    actor: Actor,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Once the directive commits, tell each assignee of their part (assignees_tell), on
    the worker; with the broker down, here (the module docstring)."""
    ids = [a.pk for a in assignments]
    if not ids:
        return
    moment = (now or timezone.now()).isoformat()
    directive_id, actor_pk = directive.pk, actor.pk
    queued = timezone.now().isoformat()  # the clock's time, whatever ``now`` says

    def tell_here() -> None:
        assignees_tell(
            directive_id=directive_id,
            assignment_ids=ids,
            exclude_user_id=actor_pk,
            now=dt.datetime.fromisoformat(moment),
        )

    def queue() -> None:
        from directives.tasks import tell_assignees  # the task module imports the services

        if tell_assignees.app.conf.task_always_eager:
            tell_here()  # no broker: here, and an error is the error it is
            return
        try:
            tell_assignees.delay(directive_id, ids, actor_pk, moment, queued)
        except (KombuOperationalError, RedisError, OSError):  # the broker is down
            log.warning("directives: could not queue tell_assignees %s", ids, exc_info=True)
            tell_here()

    transaction.on_commit(queue)


def assignees_tell(
    *,
    directive_id: int,
    assignment_ids: list[int],
    exclude_user_id: int | None,
    now: dt.datetime,
    queued_at: dt.datetime | None = None,
) -> int:
    """Each assignee with a login is told of their part of the directive (not whoever recorded
    it, who knows; the system is nobody) — mailed at once when the deadline comes before the
    next digest (next_digest_at after ``now``). Idempotent (the notices' subject keys): a task
    run twice tells nobody twice. Returns how many were told."""
    directive = Directive.objects.select_related("issuer", "group").filter(pk=directive_id).first()
    if directive is None:
        return 0
    by_employee = {
        a.employee_id: a
        for a in DirectiveAssignment.objects.filter(directive=directive, pk__in=assignment_ids)
    }
    users = (
        get_user_model()
        .objects.filter(employee__in=list(by_employee), is_active=True)
        .select_related("employee")
    )
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    title = TITLE_ASSIGNED.format(deadline=moment_text(directive.deadline))
    body = f"{directive.issuer.name} 在{directive.group.name}下达的指令（§7.2）：\n{directive.text}"
    # As of when they are told: the task may run later than it was queued (a busy worker),
    # and a deadline before the digest after that is mailed at once.
    lag = max(timezone.now() - queued_at, dt.timedelta(0)) if queued_at else dt.timedelta(0)
    urgent = directive.deadline < next_digest_at(now + lag)
    told = 0
    for user in users:
        assignment = by_employee[user.employee.pk]
        notice = notice_post(
            recipient=user,
            kind=Notice.Kind.TODO_ASSIGNED,
            title=title,
            body=body,
            url=_my_directive_url(assignment.pk),
            subject_key=ASSIGNED_KEY.format(pk=assignment.pk),
            urgent=urgent,
        )
        told += int(notice is not None)
    return told


def directive_tell_done(assignment: DirectiveAssignment, actor: Actor) -> Notice | None:
    """The issuer is told the work waits for their acceptance — unless they recorded it."""
    issuer_user = assignment.directive.issuer.user
    if issuer_user is None or issuer_user.pk == actor.pk:
        return None
    return notice_post(
        recipient=issuer_user,
        kind=Notice.Kind.APPROVAL_WAITING,
        title=TITLE_DONE.format(name=assignment.employee.name, pk=assignment.directive_id),
        body=f"指令：{assignment.directive.text}\n完成情况：{assignment.note}",
        url=reverse("admin:directives_directiveassignment_change", args=[assignment.pk]),
        subject_key=DONE_KEY.format(pk=assignment.pk, at=f"{assignment.done_at:%Y%m%d%H%M%S}"),
    )
