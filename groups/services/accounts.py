"""§6.3 account misuse: an employee reports their WeChat account lost or stolen.

From the report on, reconciliation flags the account's roster rows (Finding.Kind.
REPORTED_ACCOUNT, HR's to look into) and a DUPLICATE_ACCOUNT finding on it mentions the
report (groups.services.detect); once HR closes the report (the account is back in its
owner's hands), the next reconciliation resolves the flag.

Guarantees: an employee reports only for themselves, an account that is theirs (their
registered WeChat id, or one a roster row of theirs shows); HR may report for anyone; one
open report per account; HR is told of each report once (notices), the employee of its
closing; each write is one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from common.actors import Actor, actor_may, actor_user
from common.exceptions import ServiceError
from common.permissions import logins_with_perm
from common.spreadsheets.cells import normalize_text
from groups.models import AccountReport, RosterMember
from members.models import Employee
from notices.models import Notice
from notices.services import notice_post

REPORT_PERMISSION = "groups.add_accountreport"  # HR reports for an employee
CLOSE_PERMISSION = "groups.change_accountreport"  # HR closes a report (and is told of one)

ERROR_REPORT_FORBIDDEN = "只能为自己报告微信账号丢失或被盗；为他人报告请联系人力资源部。"
ERROR_CLOSE_FORBIDDEN = "只有人力资源部可以解除微信账号挂失。"
ERROR_NO_WECHAT_ID = "请填写丢失或被盗的微信号。"
ERROR_NOT_YOUR_ACCOUNT = (
    "微信号“{wechat_id}”不是你登记的微信号，也未在群成员名单中对应到你；"
    "如确是你的账号，请联系人力资源部登记。"
)
ERROR_BAD_KIND = "请选择“丢失”或“被盗”。"
ERROR_HAPPENED_IN_FUTURE = "发生日期不能晚于今天。"
ERROR_ALREADY_REPORTED = "微信号“{wechat_id}”已在挂失中（{when} 报告），无需重复报告。"
ERROR_NOT_OPEN = "这条挂失已于 {when} 解除，不能再次解除。"


class AccountReportError(ServiceError):
    """An account report refused (message in Chinese, nothing written)."""


def _already_reported(wechat_id: str, reported_at: dt.datetime) -> AccountReportError:
    return AccountReportError(
        ERROR_ALREADY_REPORTED.format(
            wechat_id=wechat_id, when=f"{timezone.localtime(reported_at):%Y年%-m月%-d日}"
        )
    )


def _hr_logins():
    """The active logins that may close a report (HR); a handful, in one query."""
    return logins_with_perm(CLOSE_PERMISSION)


def _is_own_account(employee: Employee, wechat_id: str) -> bool:
    return employee.wechat_id == wechat_id or (
        RosterMember.objects.filter(employee=employee, wechat_id=wechat_id).exists()
    )


@transaction.atomic
def account_report_create(
    *,
    employee: Employee,
    wechat_id: str,
    kind: str,
    happened_on: dt.date | None = None,
    note: str = "",
    actor: Actor,
) -> AccountReport:
    """§6.3: record that ``employee``'s WeChat account ``wechat_id`` is lost or stolen, and
    tell HR. The employee for themselves (an account that is theirs), or HR for them."""
    user = actor_user(actor)
    own = user is not None and employee.user_id == user.pk
    by_hr = actor_may(actor, REPORT_PERMISSION)
    if not (own or by_hr):
        raise AccountReportError(ERROR_REPORT_FORBIDDEN)
    wechat_id = normalize_text(wechat_id or "")
    if not wechat_id:
        raise AccountReportError(ERROR_NO_WECHAT_ID)
    if kind not in AccountReport.Kind.values:
        raise AccountReportError(ERROR_BAD_KIND)
    if happened_on and happened_on > timezone.localdate():
        raise AccountReportError(ERROR_HAPPENED_IN_FUTURE)
    if not by_hr and not _is_own_account(employee, wechat_id):
        raise AccountReportError(ERROR_NOT_YOUR_ACCOUNT.format(wechat_id=wechat_id))
    # Locks the employee: two clicks of the button at once make one report.
    Employee.objects.select_for_update().filter(pk=employee.pk).first()
    already = AccountReport.objects.filter(
        wechat_id=wechat_id, status=AccountReport.Status.OPEN
    ).first()
    if already is not None:
        raise _already_reported(wechat_id, already.reported_at)
    report = AccountReport(
        employee=employee,
        wechat_id=wechat_id,
        kind=kind,
        happened_on=happened_on,
        note=note.strip(),
        reported_by=actor_user(actor),
    )
    # The one-open-report rule is the database's (account_report_one_open_per_account): the
    # lock above serialises one employee's clicks, not two reporters of one account (the
    # employee and HR, or two employees whose rosters show it), so a report that slips past
    # the check above meets the constraint on insert and gets the same message.
    report.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        other = AccountReport.objects.filter(
            wechat_id=wechat_id, status=AccountReport.Status.OPEN
        ).values_list("reported_at", flat=True)
        raise _already_reported(wechat_id, other.first() or timezone.now()) from None
    url = reverse("admin:groups_accountreport_change", args=[report.pk])
    title = f"{employee.name} 报告微信号 {wechat_id} {report.get_kind_display()}"
    body = (
        f"{employee.name}（{employee.employee_no}）的微信号 {wechat_id} "
        f"{report.get_kind_display()}"
        + (f"（发生于 {happened_on:%Y年%-m月%-d日}）" if happened_on else "")
        + "。此后名单中该账号的成员会被标记（§6.3），请核实；账号找回后请解除挂失。"
        + (f"\n说明：{report.note}" if report.note else "")
    )
    for user in _hr_logins():
        notice_post(
            recipient=user,
            kind=Notice.Kind.ACCOUNT_REPORT,
            title=title,
            body=body,
            url=url,
            subject_key=f"account-report:{report.pk}",
        )
    return report


@transaction.atomic
def account_report_close(*, report: AccountReport, actor: Actor, note: str = "") -> AccountReport:
    """HR closes a report (the account is back in its owner's hands): the next
    reconciliation resolves its flag. The employee is told. AccountReportError for a
    report already closed, or an actor who is not HR."""
    if not actor_may(actor, CLOSE_PERMISSION):
        raise AccountReportError(ERROR_CLOSE_FORBIDDEN)
    report = (
        AccountReport.objects.select_for_update(of=("self",))
        .select_related("employee__user")
        .get(pk=report.pk)
    )
    if report.status != AccountReport.Status.OPEN:
        raise AccountReportError(
            ERROR_NOT_OPEN.format(when=f"{timezone.localtime(report.closed_at):%Y年%-m月%-d日}")
        )
    report.status = AccountReport.Status.CLOSED
    report.closed_at = timezone.now()
    report.closed_by = actor_user(actor)
    report.hr_note = note.strip()[:255]
    report.save(update_fields=["status", "closed_at", "closed_by", "hr_note"])
    notice_post(
        recipient=report.employee.user,
        kind=Notice.Kind.ACCOUNT_REPORT,
        title=f"你的微信号 {report.wechat_id} 已解除挂失",
        body="人力资源部已解除挂失"
        + (f"：{report.hr_note.rstrip('。.')}" if report.hr_note else "")
        + "。下次核对群成员名单时不再标记该账号。",
        url=reverse("me:account_report"),
        subject_key=f"account-report:{report.pk}:closed",
    )
    return report


def account_reports_open_at(wechat_ids: set[str], at: dt.datetime) -> dict[str, AccountReport]:
    """§6.3: the open reports of these accounts made at or before ``at`` (a snapshot's
    taken_at), by WeChat id; one query (none without ids). The ids — a whole roster's —
    are bound as one array on PostgreSQL (groups.lookups), not one parameter each."""
    if not wechat_ids:
        return {}
    return {
        report.wechat_id: report
        for report in AccountReport.objects.filter(
            wechat_id__any_of=list(wechat_ids),
            status=AccountReport.Status.OPEN,
            reported_at__lte=at,
        )
        .select_related("employee")
        .order_by("reported_at", "pk")
    }
