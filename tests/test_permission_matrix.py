"""The permission matrix (docs/security.md, 10): every role × every admin model × every action,
and every custom view, as HTTP requests — so that the 0-leak result an outside probe found
stays true.

On the demo company (``manage.py demo``, built once for the module, rolled back after it),
each persona of the README (the superuser ``admin``, ``hr``, ``finance``, ``leader``, ``head``,
``groupadmin``, ``creator``, the plain ``employee`` and the visitor) requests, for every model
registered in the admin: the list, the add page, an object's change page (GET, and a POST of an
empty form), its delete page (GET, and the confirming POST), its history, and export/import
where the admin has them, and a past version's page and its revert; then every custom view
(CUSTOM) and the admin's autocomplete. What each answer must be is the table EXPECTED below
(and the allowed personas of each custom view), written from docs/permissions.md and the
policy, not from the code:

- an allowed cell answers 200 or a redirect that is not to a login page nor back to the admin
  index (where Django sends a user asking for a row hidden from them); a 403, a 404 or a 5xx
  there fails (an allowed page broke); a confirming delete is judged by whether the row is gone;
- a refused cell answers 403, 404 or a redirect to a login page (the visitor, the employee in
  the admin) or to the admin index; a 200 fails (a leak).

For the object-scoped roles (a department head, a group's admin, a group's creator, each
employee for their own cases) every object action is tried on an object in the persona's scope
and on one outside it (SCOPES): the out-of-scope object must always be refused.

One test per persona × model (each collects all its cells and reports every failing one at
once); adding a model to the admin without a row here fails ``test_every_admin_model_has_a_row``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from appraisal.models import Period
from groups.models import ChatGroup, Finding, ReconciliationRun
from members.models import PATH_SEPARATOR, Department
from tests.demo_company import demo_company_rolled_back
from tests.factories import PNG_BYTES
from violations.models import Case, Evidence

PASSWORD = "matrix-demo-pass"  # the demo personas' password, tests only
DEMO_EMPLOYEES = 30
SUPERUSER = "admin"  # manage.py ensure_admin
STAFF = [SUPERUSER, "hr", "finance", "leader", "head", "groupadmin", "creator"]
PERSONAS = ["anonymous", *STAFF, "employee"]
LOGIN_PAGES = ("/admin/login/", "/accounts/login/")
ADMIN_INDEX = "/admin/"

# --- the actions -----------------------------------------------------------------------------
# One letter per action on an admin model, so that a row of the table reads at a glance.
#   L list   A add page   V change page (GET)   C change (POST of an empty form)
#   D delete page (GET)   X delete (confirming POST)   H history   E export   I import page
#   and, for a model with history, R one past version's page (allowed as H) and T its revert
#   (a POST of an empty form, allowed as C): a revert is a save and needs the change right.
OBJECT_ACTIONS = "VCDXH"  # on one object; tried in and out of scope for scoped roles
ALL = "LAVCDXH"
VIEW = "LVH"  # view permission: the list, the page read-only, its history
NOTHING = ""

# --- the expected table ----------------------------------------------------------------------
# EXPECTED[model][persona] = the actions allowed (on an object in scope, for a scoped persona);
# a persona absent from a row is refused everything (the visitor and the plain employee are
# absent from every row: the admin is for staff). Written from docs/permissions.md:
# HR holds every permission of our four apps (but never the user admin, auth.change_user);
# finance views employees and departments, cases and rules, every appraisal row, imports the
# pay sheet; leaders view employees, departments, positions, groups, eligibility rules, rules,
# cases and the appraisal; heads view employees, departments, rules, and (object scope) their
# departments' cases and results and the roster findings about their departments' people
# (§9.12); group admins view employees and rules, and (object scope) their groups, those
# groups' rosters, findings, to-dos, runs and cases; a group's creator the same for the group
# they created, except a confidential group's roster (§6.1).
# Rows only services write (findings, to-dos, runs, snapshots, results, lines, settlement
# imports) are never added, edited nor deleted in the admin, by anyone (docs/security.md, 8).
SERVICE_ROWS = "LVH"
EXPECTED: dict[str, dict[str, str]] = {
    # Django's and django-celery-beat's own models: the superuser's only.
    "auth.group": {SUPERUSER: ALL},
    "auth.user": {SUPERUSER: ALL},
    "django_celery_beat.periodictask": {SUPERUSER: ALL},
    "django_celery_beat.clockedschedule": {SUPERUSER: ALL},
    "django_celery_beat.crontabschedule": {SUPERUSER: ALL},
    "django_celery_beat.solarschedule": {SUPERUSER: ALL},
    "django_celery_beat.intervalschedule": {SUPERUSER: ALL},
    # docs/security.md, 6 (django-axes' rows as proxies): HR reads the failed logins and releases a
    # lockout (delete = release, through members.services); nobody adds or edits either.
    "members.loginlockout": {SUPERUSER: "LVDXH", "hr": "LVDXH"},
    "members.loginfailure": {SUPERUSER: VIEW, "hr": VIEW},
    # members: HR edits, the others who need to know see (§9.12 heads, §7.2 leaders).
    "members.employee": {
        SUPERUSER: ALL + "EI",
        "hr": ALL + "EI",  # import_employee / export_employee
        "finance": VIEW,
        "leader": VIEW,
        "head": VIEW,
        "groupadmin": VIEW,
        "creator": VIEW,  # a department head too (company.demo.plan)
    },
    "members.department": {
        SUPERUSER: ALL,
        "hr": ALL,
        "finance": VIEW,
        "leader": VIEW,
        "head": VIEW,
        "creator": VIEW,
    },
    "members.position": {SUPERUSER: ALL, "hr": ALL, "leader": VIEW},
    # 人事变动: recorded by members.signals, read by HR (never added, edited nor deleted).
    "members.personnelevent": {SUPERUSER: SERVICE_ROWS, "hr": SERVICE_ROWS},
    # groups
    "groups.chatgroup": {
        SUPERUSER: ALL,
        "hr": ALL,
        "leader": VIEW,
        "groupadmin": VIEW,  # object permission view_chatgroup on their groups (§5.2)
        "creator": VIEW,  # on the group they created (§5.1)
    },
    "groups.contentkind": {SUPERUSER: ALL, "hr": ALL},
    "groups.eligibilityrule": {SUPERUSER: ALL, "hr": ALL, "leader": VIEW},
    "groups.rostersnapshot": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "groupadmin": SERVICE_ROWS,
        "creator": SERVICE_ROWS,
    },
    "groups.finding": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        # §9.12: the findings about their departments' people (scoped): whoever heads a
        # department, whatever their role — in the demo finance heads 财务部, leader 总经办.
        "finance": SERVICE_ROWS,
        "leader": SERVICE_ROWS,
        "head": SERVICE_ROWS,
        "groupadmin": SERVICE_ROWS,
        "creator": SERVICE_ROWS,
    },
    "groups.rosteraction": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "groupadmin": SERVICE_ROWS,
        "creator": SERVICE_ROWS,
    },
    "groups.reconciliationrun": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "groupadmin": SERVICE_ROWS,
        "creator": SERVICE_ROWS,
    },
    "groups.memberidentity": {SUPERUSER: ALL, "hr": ALL},  # HR's identity decisions
    # 离职继承: written by groups.services.lifecycle, read by HR.
    "groups.groupsuccession": {SUPERUSER: SERVICE_ROWS, "hr": SERVICE_ROWS},
    "groups.membershipexception": {SUPERUSER: ALL, "hr": ALL},
    # §6.3 account reports: HR records one for an employee (A) and closes it (an action);
    # written by groups.services.accounts only, never edited nor deleted in the admin.
    "groups.accountreport": {SUPERUSER: "LAVH", "hr": "LAVH"},
    # violations: cases are never deleted (their audit trail, §7.1); HR files and decides.
    "violations.case": {
        SUPERUSER: ALL,  # only the superuser deletes a case (CaseAdmin.has_delete_permission)
        "hr": "LAVCH",
        "finance": VIEW,
        "leader": VIEW,
        "head": VIEW,  # their department's (§9.12)
        "groupadmin": "LAVH",  # files for their groups (§5.2)
        "creator": "LAVH",
    },
    # screening (issue 15): HR's; a group's admins and creator upload their groups' chat logs.
    "screening.hit": {SUPERUSER: VIEW, "hr": VIEW},
    "screening.message": {SUPERUSER: VIEW, "hr": VIEW},
    "screening.screeningrule": {SUPERUSER: ALL, "hr": ALL},
    "screening.allowsuggestion": {SUPERUSER: VIEW, "hr": VIEW},
    "screening.chatimport": {
        SUPERUSER: "LAVH",
        "hr": "LAVH",
        "groupadmin": "LAVH",
        "creator": "LAVH",
    },
    "violations.rule": {
        SUPERUSER: ALL,
        "hr": ALL,
        "finance": VIEW,
        "leader": VIEW,
        "head": VIEW,
        "groupadmin": VIEW,
        "creator": VIEW,
    },
    # appraisal: HR computes and locks; finance and leaders see; heads their department's.
    "appraisal.period": {
        SUPERUSER: ALL,
        "hr": ALL,
        "finance": VIEW,
        "leader": VIEW,
    },
    "appraisal.gradeband": {SUPERUSER: ALL, "hr": ALL, "finance": VIEW, "leader": VIEW},
    "appraisal.result": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "finance": SERVICE_ROWS,
        "leader": SERVICE_ROWS,
        "head": SERVICE_ROWS,  # their department's (§9.12)
        "creator": SERVICE_ROWS,
        "groupadmin": SERVICE_ROWS,  # their own result, as on /me/appraisal/
    },
    "appraisal.line": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "finance": SERVICE_ROWS,
        "leader": SERVICE_ROWS,
        "head": SERVICE_ROWS,
        "creator": SERVICE_ROWS,
    },
    "appraisal.settlementimport": {
        SUPERUSER: SERVICE_ROWS,
        "hr": SERVICE_ROWS,
        "finance": SERVICE_ROWS,
    },
    "appraisal.settlement": {
        SUPERUSER: SERVICE_ROWS + "I",
        "hr": SERVICE_ROWS + "I",
        "finance": SERVICE_ROWS + "I",  # import_settlement
    },
    # announcements (§4): any staff login drafts (A); the page opens for whoever the item is
    # about — HR (publish_announcement) and the superuser every item, the author theirs, an
    # approver what waits for them or they decided, a leader the 应急 items to review — and is
    # edited by its author only (draft or rejected); never deleted but by the superuser.
    "announcements.announcement": {
        SUPERUSER: "LAVDXH",
        "hr": "LAVH",
        "finance": "LA",
        "leader": "LAVH",
        "head": "LAVH",
        "groupadmin": "LA",
        "creator": "LA",
    },
    "announcements.approvalroute": {SUPERUSER: ALL, "hr": ALL},  # routes are HR's data
    # an approver sets (A) and ends (D, X) their own delegation, a delegate sees theirs; HR all.
    "announcements.delegation": {
        SUPERUSER: "LAVDXH",
        "hr": "LAVDXH",
        "finance": "LA",
        "leader": "LAVDXH",
        "head": "LAVDXH",
        "groupadmin": "LA",
        "creator": "LAVH",  # the head persona's delegate in the demo
    },
    # workdays: the holiday table is HR's (the deadlines read it; nobody else edits it).
    "workdays.calendarday": {SUPERUSER: ALL, "hr": ALL},
    # directives (§7.2, §9.9): written by their services only (no change, no delete); HR sees
    # all; the issuer, a head (their departments' assignees), a group's admins and creator
    # (their groups') see theirs; leaders every question. Recording a directive: HR, leaders,
    # heads, a group's admins and creator; a question: HR, a group's admins and creator.
    "directives.directive": {
        SUPERUSER: "LAVH",
        "hr": "LAVH",
        "finance": "A",  # the finance persona heads 财务部: a head may record what they order
        "leader": "LAVH",
        "head": "LAVH",
        "groupadmin": "LAVH",
        "creator": "LAVH",
    },
    "directives.directiveassignment": {
        SUPERUSER: VIEW,
        "hr": VIEW,
        "leader": VIEW,
        "head": VIEW,
        "groupadmin": VIEW,
        "creator": VIEW,
    },
    "directives.question": {
        SUPERUSER: "LAVH",
        "hr": "LAVH",
        "leader": VIEW,
        "head": VIEW,
        "groupadmin": "LAVH",
        "creator": "LAVH",
    },
    "directives.replysla": {SUPERUSER: ALL, "hr": ALL},  # HR sets a group's reply time
    # notices: the emails sent are a record, read-only; HR may try one again (an action).
    "notices.emaildelivery": {SUPERUSER: VIEW, "hr": VIEW},
}


# Rows whose state only their service moves (docs/security.md, 1): nobody reverts them to a past
# version, which would move the state behind the service's back (T refused, R still allowed).
NO_REVERT = {"appraisal.period", "violations.case"}


# --- object scope ------------------------------------------------------------------------------
def _employee(user):
    return getattr(user, "employee", None)


def _headed_q(user, prefix: str) -> Q:
    """§9.12: the departments ``user`` heads and everything below them (``prefix``: the lookup
    path to a department's ``path``)."""
    q = Q(pk__in=[])
    for path in Department.objects.filter(head__user=user).values_list("path", flat=True):
        q |= Q(**{f"{prefix}path": path}) | Q(
            **{f"{prefix}path__startswith": path + PATH_SEPARATOR}
        )
    return q


def _groups_q(user, *, roster: bool = False) -> Q:
    """The groups ``user`` administers or created (§5.1, §5.2); for a roster, a confidential
    group only if they administer it (§6.1)."""
    created = Q(creator__user=user)
    if roster:
        created &= Q(is_confidential=False)
    return Q(admins__user=user) | created


def _group_ids(user, *, roster: bool = False) -> QuerySet:
    return ChatGroup.objects.filter(_groups_q(user, roster=roster)).values("pk")


def _case_q(user) -> Q:
    return (
        Q(employee__user=user)
        | Q(group__in=_group_ids(user))
        | _headed_q(user, "employee__department__")
    )


def _finding_q(user) -> Q:
    """A group's roster findings (as the other roster rows) and, §9.12, those about the people
    of the departments ``user`` heads, in whichever group (docs/permissions.md)."""
    return Q(group__in=_group_ids(user, roster=True)) | _headed_q(user, "employee__department__")


def _result_q(user) -> Q:
    return Q(employee__user=user) | _headed_q(user, "employee__department__")


def _directive_q(user) -> Q:
    """directives.selectors.directives_visible_to for one without the view permission."""
    return (
        Q(issuer__user=user)
        | Q(group__in=_group_ids(user))
        | Q(assignments__employee__user=user)
        | _headed_q(user, "assignments__employee__department__")
    )


def _assignment_q(user) -> Q:
    from directives.models import Directive

    return Q(directive__in=Directive.objects.filter(_directive_q(user)).values("pk"))


def _question_q(user) -> Q:
    return (
        Q(group__in=_group_ids(user))
        | Q(raised_by__user=user)
        | Q(recorded_by=user)
        | _headed_q(user, "department__")
    )


def _announcement_q(user) -> Q:
    """Who opens an announcement without seeing every one (docs/permissions.md): its author,
    whoever it waits for (待我审批: announcements.selectors) or who decided a step of it (or
    for whom a delegate did), and a company leader the 应急 items still to be reviewed."""
    from announcements.selectors import announcements_waiting_for

    q = (
        Q(author=user)
        | Q(steps__decided_by=user)
        | Q(steps__decided_for=user)
        | Q(pk__in=announcements_waiting_for(user).values("pk"))
    )
    if user.has_perm("announcements.approve_as_leader"):
        q |= Q(review_after=True, reviewed_at__isnull=True, state__in=["approved", "published"])
    return q


ROSTER_MODELS = ["groups.rostersnapshot", "groups.finding", "groups.rosteraction"]
ROSTER_MODELS += ["groups.reconciliationrun"]
# The (model, persona) pairs that see only some rows: the rows in scope.
SCOPES: dict[tuple[str, str], Callable[[object], Q]] = {
    **{("groups.chatgroup", p): (lambda u: _groups_q(u)) for p in ("groupadmin", "creator")},
    **{
        (model, p): (lambda u: Q(group__in=_group_ids(u, roster=True)))
        for model in ROSTER_MODELS
        for p in ("groupadmin", "creator")
    },
    # §9.12: the personas heading a department (finance, leader, head, and the creator too) see
    # findings as a head does, besides their groups'.
    **{("groups.finding", p): _finding_q for p in ("finance", "leader", "head", "creator")},
    **{("violations.case", p): _case_q for p in ("head", "groupadmin", "creator")},
    **{
        (m, p): _result_q
        for m in ("appraisal.result", "appraisal.line")
        for p in ("head", "creator")
    },
    ("appraisal.result", "groupadmin"): _result_q,
    **{("announcements.announcement", p): _announcement_q for p in ("leader", "head")},
    **{
        ("announcements.delegation", p): (lambda u: Q(approver=u) | Q(delegate=u))
        for p in ("leader", "head", "creator")
    },
    **{
        (model, p): scope
        for model, scope in (
            ("directives.directive", _directive_q),
            ("directives.directiveassignment", _assignment_q),
        )
        for p in ("leader", "head", "groupadmin", "creator")
    },
    **{("directives.question", p): _question_q for p in ("head", "groupadmin", "creator")},
    **{
        ("screening.chatimport", p): (lambda u: Q(group__in=_group_ids(u, roster=True)))
        for p in ("groupadmin", "creator")
    },
}


@dataclass
class Cell:
    persona: str
    action: str  # a letter (see the actions above), or a custom view's name
    url: str
    method: str = "get"
    data: dict | None = None
    allowed: bool = False
    scope: str = ""  # "in", "out" or "" (not scoped)
    deletes: Model | None = None  # X: judged by whether the row is gone, not by the answer


# --- the demo company, once for the module ----------------------------------------------------


@pytest.fixture(scope="module")
def company(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo company with its persona logins and the superuser, in one transaction that is
    rolled back after the module. So that every scoped persona has an object out of scope too,
    ``groupadmin`` (who administers every demo group) stops administering the work group, and
    each case gets an evidence file."""
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        demo_company_rolled_back(employees=DEMO_EMPLOYEES, password=PASSWORD),
    ):
        _give_out_of_scope_rows()
        # Logged in once: the sessions live in the module's transaction, under every test's.
        users = _users()
        yield {p: (users.get(p), client_for(users.get(p))) for p in PERSONAS}


@pytest.fixture(autouse=True)
def _private_media():
    """Not a folder of each test's own (tests/conftest.py): the evidence files ``company``
    stored for the whole module are in its folder."""


def _give_out_of_scope_rows() -> None:
    from violations.services import evidence_add_all

    groupadmin = get_user_model().objects.get(username="groupadmin")
    work = ChatGroup.objects.get(code="work")
    work.admins.remove(groupadmin.employee)  # the signal revokes the object permissions
    if not ReconciliationRun.objects.filter(group=work).exists():
        from groups.services.runs import run_execute

        run_execute(snapshot=work.snapshots.first())
    hr = get_user_model().objects.get(username="hr")
    for case in Case.objects.all():
        evidence_add_all(case=case, files=[("截图.png", PNG_BYTES)], actor=hr)
    _rows_the_demo_lacks(hr, work)
    # 我的任务: a job of hr's and one of finance's, so that each is another's for the rest.
    from jobs.models import Job

    for owner in ("hr", "finance"):
        Job.objects.create(
            owner=get_user_model().objects.get(username=owner),
            kind=Job.Kind.LIST_EXPORT,
            status=Job.Status.DONE,
            result_text="违规案件已导出：1 行。",
        )


def _rows_the_demo_lacks(hr, group: ChatGroup) -> None:
    """One row of each admin model the demo does not fill, so that every cell has an object."""
    from decimal import Decimal

    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from appraisal.models import GradeBand, Settlement, SettlementImport
    from groups.models import AccountReport, MemberIdentity, MembershipException
    from members.models import Employee

    employee = Employee.objects.order_by("pk").first()
    GradeBand.objects.create(grade="A", min_score=Decimal("90"))
    period = Period.objects.order_by("pk").first()
    sheet = SettlementImport.objects.create(
        period=period, file="settlements/matrix.xlsx", file_name="扣款表.xlsx", imported_by=hr
    )
    Settlement.objects.create(
        period=period, employee=employee, amount=Decimal("10"), imported_in=sheet
    )
    MemberIdentity.objects.create(group=group, display_name="小王", employee=employee)
    AccountReport.objects.create(employee=employee, wechat_id="matrix-lost", kind="lost")
    # §9.12: a finding about someone of every department a persona heads (the demo's rosters
    # need not have one for a small department such as 总经办).
    for head in Employee.objects.filter(headed_departments__isnull=False).distinct():
        Finding.objects.get_or_create(
            group=group,
            kind=Finding.Kind.MISSING,
            subject=f"e:{head.pk}",
            status=Finding.Status.OPEN,
            defaults={"clause": "5.1", "severity": Finding.Severity.MEDIUM, "employee": head},
        )
    from groups.models import GroupSuccession
    from members.models import PersonnelEvent

    event = PersonnelEvent.objects.create(
        employee=employee, kind=PersonnelEvent.Kind.MOVER, changes={"职级": [1, 2]}
    )
    GroupSuccession.objects.create(
        group=group, role="admin", predecessor=employee, successor=employee, event=event
    )
    from notices.models import EmailDelivery, Notice  # the demo's personas have no address

    notice = Notice.objects.create(recipient=hr, title="矩阵通知", subject_key="matrix")
    EmailDelivery.objects.create(notice=notice, to="matrix@example.com", subject="矩阵", body="-")
    MembershipException.objects.create(
        group=group,
        employee=employee,
        kind=MembershipException.Kind.values[0],
        reason="外派",
        approved_by=employee,
    )
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    CrontabSchedule.objects.get_or_create(minute="30", hour="2")
    SolarSchedule.objects.create(event="sunrise", latitude=31.2, longitude=121.5)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    PeriodicTask.objects.get_or_create(
        name="matrix", defaults={"task": "groups.reconcile_all", "interval": interval}
    )
    if apps.is_installed("axes"):  # docs/security.md, 6: the rows HR's lockout lists show
        from axes.models import AccessAttempt, AccessFailureLog

        # (not a persona's name: a login that succeeds resets its attempts)
        seen = {"user_agent": "matrix", "ip_address": "10.0.0.9", "username": "someone"}
        AccessAttempt.objects.create(**seen, failures_since_start=9, get_data="", post_data="")
        AccessFailureLog.objects.create(**seen, locked_out=True)


def _users() -> dict[str, object]:
    return {
        u.username: u for u in get_user_model().objects.filter(username__in=[*STAFF, "employee"])
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _pick(model, q: Q | None, *, inside: bool) -> Model | None:
    qs = model._default_manager.order_by("pk")
    if q is None:
        return qs.first()
    return (qs.filter(q) if inside else qs.exclude(q)).distinct().first()


def admin_cells(model_label: str, persona: str, user) -> list[Cell]:
    """Every cell of one persona on one admin model."""
    model = next(m for m in admin.site._registry if m._meta.label_lower == model_label)
    model_admin = admin.site._registry[model]
    opts = model._meta
    allowed = EXPECTED[model_label].get(persona, NOTHING)
    name = f"admin:{opts.app_label}_{opts.model_name}"
    cells = [
        Cell(persona, "L", reverse(f"{name}_changelist"), allowed="L" in allowed),
        Cell(persona, "A", reverse(f"{name}_add"), allowed="A" in allowed),
    ]
    if hasattr(model_admin, "export_action") or hasattr(model_admin, "has_export_permission"):
        if _has_url(f"{name}_export"):
            cells.append(Cell(persona, "E", reverse(f"{name}_export"), allowed="E" in allowed))
    if _has_url(f"{name}_import"):
        cells.append(Cell(persona, "I", reverse(f"{name}_import"), allowed="I" in allowed))

    scope = SCOPES.get((model_label, persona))
    q = scope(user) if scope else None
    sides = [("in", True), ("out", False)] if q is not None else [("", True)]
    for side, inside in sides:
        obj = _pick(model, q, inside=inside)
        assert obj is not None, f"the demo has no {model_label} {side} the scope of {persona}"
        for action in OBJECT_ACTIONS:
            url = {
                "V": reverse(f"{name}_change", args=[obj.pk]),
                "C": reverse(f"{name}_change", args=[obj.pk]),
                "D": reverse(f"{name}_delete", args=[obj.pk]),
                "X": reverse(f"{name}_delete", args=[obj.pk]),
                "H": reverse(f"{name}_history", args=[obj.pk]),
            }[action]
            method, data = ("post", {"post": "yes"}) if action == "X" else ("get", None)
            if action == "C":
                method, data = "post", {}
            cell = Cell(persona, action, url, method, data, inside and action in allowed, side)
            cell.deletes = obj if action == "X" else None
            cells.append(cell)
        revertible = allowed.replace("C", "") if model_label in NO_REVERT else allowed
        cells += revision_cells(
            name, obj, persona, allowed=revertible if inside else NOTHING, side=side
        )
    # The deleting POST last: it may delete the object the others open.
    return sorted(cells, key=lambda c: c.action == "X")


def revision_cells(name: str, obj: Model, persona: str, *, allowed: str, side: str) -> list[Cell]:
    """simple_history's page of one past version (R, as the history: H) and its revert, a
    POST of an empty form (T, as a change: C) — for a model with history and a version."""
    if not _has_url(f"{name}_simple_history", args=[obj.pk, 1]) or not hasattr(obj, "history"):
        return []
    version = obj.history.order_by("history_id").first()
    if version is None:
        return []
    url = reverse(f"{name}_simple_history", args=[obj.pk, version.history_id])
    return [
        Cell(persona, "R", url, allowed="H" in allowed, scope=side),
        Cell(persona, "T", url, "post", {}, allowed="C" in allowed, scope=side),
    ]


def _has_url(name: str, args: list | None = None) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


def answer(client: Client, cell: Cell) -> tuple[int, str, str]:
    """(status, redirect target, error): an exception a view raises (the test client re-raises
    it) is a 500 in production."""
    try:
        if cell.method == "post":
            response = client.post(cell.url, cell.data or {})
        else:
            response = client.get(cell.url)
    except Exception as exc:  # every failure is collected, then reported
        return 500, "", f"{type(exc).__name__}: {exc}"
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code, response.get("Location", ""), ""


def refused(status: int, location: str) -> bool:
    if status in (403, 404):
        return True
    if status in (301, 302, 303):
        path = location.split("?")[0]
        return path.startswith(LOGIN_PAGES) or path == ADMIN_INDEX
    return False


def problem(cell: Cell, status: int, location: str, error: str) -> str:
    where = f"{cell.persona} {cell.method.upper()} {cell.url} [{cell.action}{' ' + cell.scope if cell.scope else ''}]"
    got = f"{status}{' → ' + location if location else ''}{' ' + error if error else ''}"
    if status >= 500:
        return f"{where}: {got} (a server error)"
    if cell.allowed and refused(status, location):
        return f"{where}: {got}, expected allowed"
    if not cell.allowed and not refused(status, location):
        return f"{where}: {got}, expected refused (a leak)"
    return ""


def check(cells: list[Cell], client: Client) -> list[str]:
    problems = []
    observed = []
    for cell in cells:
        status, location, error = answer(client, cell)
        if cell.deletes is not None and status < 500:
            # A successful delete redirects to the admin index when the user may not change
            # the model (Django's response_delete), like a refusal does: look at the row.
            # A row that stays was either refused (403, a redirect) or is protected: Django
            # answers 200 with the rows that forbid it, which the user may be shown.
            gone = not type(cell.deletes)._default_manager.filter(pk=cell.deletes.pk).exists()
            if gone:
                status, location = 302, "(deleted)"
            elif status in (301, 302, 303) and not refused(status, location):
                status, location = 500, f"{location}, but the row is still there"
        if found := problem(cell, status, location, error):
            problems.append(found)
        observed.append(f"{cell.action}{cell.scope}:{status}")
    if os.environ.get("MATRIX_OBSERVE"):  # to draft a new row: what each cell answers now
        print(f"\n{cells[0].persona} {cells[0].url}: {' '.join(observed)}")
    return problems


# Models whose admin is registered; a row of EXPECTED for a model not (yet) registered is skipped.
ADMIN_MODELS = sorted(EXPECTED)


def _registered() -> set[str]:
    return {m._meta.label_lower for m in admin.site._registry}


@pytest.mark.parametrize("model_label", ADMIN_MODELS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_model_cells(db, company, persona, model_label):
    if model_label not in _registered():
        pytest.skip(f"{model_label} is not registered in the admin")
    user, client = company[persona]
    problems = check(admin_cells(model_label, persona, user), client)
    assert not problems, f"{len(problems)} cell(s) wrong:\n" + "\n".join(problems)


def test_every_admin_model_has_a_row():
    """A model newly registered in the admin must get its row in EXPECTED."""
    assert _registered() - set(EXPECTED) == set()


# --- the custom views ----------------------------------------------------------------------------
# Each: the URL name, the method, what it is about (TARGETS: which object, and for a scoped
# persona which ones are in scope), and the personas allowed (on an object in their scope).
HR_ONLY = {SUPERUSER, "hr"}
LOGGED_IN = set(STAFF) | {"employee"}


def _run_group_q(u) -> Q:
    return Q(group__in=_group_ids(u, roster=True))


def _evidence_q(u) -> Q:
    return Q(case__in=Case.objects.filter(_case_q(u)).values("pk"))


def _own_case_q(u) -> Q:
    return Q(employee__user=u)


# target → (model, {persona: the rows in scope}); a persona not named sees every row of it.
GROUP_RUNNERS = ("groupadmin", "creator")
TARGETS: dict[str, tuple[type[Model] | None, dict[str, Callable[[object], Q]]]] = {
    "": (None, {}),
    # can_upload_roster: a group's admins and creator, a confidential group included (§5.1, §5.2)
    "group": (ChatGroup, dict.fromkeys(GROUP_RUNNERS, _groups_q)),
    # can_view_roster: not a confidential group's roster for its creator (§6.1)
    "roster": (ChatGroup, dict.fromkeys(GROUP_RUNNERS, lambda u: _groups_q(u, roster=True))),
    "run": (ReconciliationRun, dict.fromkeys(GROUP_RUNNERS, _run_group_q)),
    "case": (Case, dict.fromkeys(("head", *GROUP_RUNNERS), _case_q)),
    # can_add_evidence: a case of a group they run, not one they see as a department's head
    # (the creator persona heads 生产部 too, whose cases it sees but does not file for)
    "group_case": (Case, dict.fromkeys(GROUP_RUNNERS, lambda u: Q(group__in=_group_ids(u)))),
    "period": (Period, {}),
    "hit": (apps.get_model("screening", "Hit"), {}),
    "finding": (Finding, {}),  # HR-only views: no persona's scope is tried
    "evidence": (Evidence, dict.fromkeys(("head", *GROUP_RUNNERS, "employee"), _evidence_q)),
    # /me/: each login's own cases only; the in-scope side is tried where the persona has one
    # (not the superuser, who has no employee: /me/ tells them so, whatever the case)
    "own_case": (Case, dict.fromkeys([*STAFF[1:], "employee"], _own_case_q)),
    # /me/notices/: each login's own notices only (every login has an inbox, the superuser too)
    "own_notice": (
        apps.get_model("notices", "Notice"),
        dict.fromkeys([*STAFF, "employee"], lambda u: Q(recipient=u)),
    ),
    # 我的任务: each staff login's own jobs only (another's is a 404)
    "own_job": (apps.get_model("jobs", "Job"), dict.fromkeys(STAFF, lambda u: Q(owner=u))),
    # /me/directives/: each login's own assignments only (§7.2)
    "own_assignment": (
        apps.get_model("directives", "DirectiveAssignment"),
        dict.fromkeys([*STAFF[1:], "employee"], _own_case_q),
    ),
}


def _listers(model_label: str) -> set[str]:
    return {persona for persona, cells in EXPECTED[model_label].items() if "L" in cells}


@dataclass(frozen=True)
class View:
    name: str
    method: str
    target: str
    allowed: frozenset[str]
    data: tuple = ()

    @property
    def id(self) -> str:
        return self.name.split(":")[-1]


CUSTOM = [
    View("admin:members_employee_import_template", "get", "", frozenset(HR_ONLY)),
    View(
        "admin:groups_chatgroup_upload_roster",
        "get",
        "group",
        frozenset(HR_ONLY | {*GROUP_RUNNERS}),
    ),
    View(
        "admin:groups_chatgroup_reconcile", "post", "group", frozenset(HR_ONLY | {*GROUP_RUNNERS})
    ),
    View(
        "admin:groups_chatgroup_todo_export", "get", "roster", frozenset(HR_ONLY | {*GROUP_RUNNERS})
    ),
    View("admin:groups_reconciliation_run", "get", "run", frozenset(HR_ONLY | {*GROUP_RUNNERS})),
    View(
        "admin:groups_reconciliation_run_status",
        "get",
        "run",
        frozenset(HR_ONLY | {*GROUP_RUNNERS}),
    ),
    # the import's confirm step (an empty POST: allowed, it is a form error sent back to the
    # import page; docs/security.md, 4: the token binds the file itself to the preview)
    View("admin:members_employee_process_import", "post", "", frozenset(HR_ONLY)),
    View("admin:appraisal_settlement_process_import", "post", "", frozenset(HR_ONLY | {"finance"})),
    View("admin:violations_case_queue", "get", "", frozenset(HR_ONLY)),  # decide_case
    View("admin:violations_case_decide", "post", "case", frozenset(HR_ONLY)),
    View("admin:violations_case_told", "post", "case", frozenset(HR_ONLY)),  # 记录已告知员工
    View("admin:violations_case_told", "get", "case", frozenset(HR_ONLY)),  # its confirm page
    # more evidence: who may see the case's evidence and file for its group (not a head)
    View(
        "admin:violations_case_add_evidence",
        "get",
        "group_case",
        frozenset(HR_ONLY | {*GROUP_RUNNERS}),
    ),
    View("admin:appraisal_period_export", "get", "period", frozenset(HR_ONLY | {"finance"})),
    View("admin:appraisal_period_compute", "post", "period", frozenset(HR_ONLY)),  # §7.1
    View("admin:appraisal_period_lock", "post", "period", frozenset(HR_ONLY)),
    View("admin:appraisal_period_create_next", "post", "", frozenset(HR_ONLY)),
    # evidence: not finance, not leaders (view_evidence), unless the case is in their scope
    View(
        "evidence:file",
        "get",
        "evidence",
        frozenset(HR_ONLY | {"head", *GROUP_RUNNERS, "employee"}),
    ),
    # /me/ answers every login; one without an employee (the superuser) gets a page saying so
    View("me:case_list", "get", "", frozenset(LOGGED_IN)),
    View("me:announcement_list", "get", "", frozenset(LOGGED_IN)),
    View("me:appraisal", "get", "", frozenset(LOGGED_IN)),
    View("me:case_detail", "get", "own_case", frozenset(LOGGED_IN)),
    View("me:case_appeal", "post", "own_case", frozenset(LOGGED_IN)),
    View("me:directive_list", "get", "", frozenset(LOGGED_IN)),
    View("me:directive_detail", "get", "own_assignment", frozenset(LOGGED_IN)),
    View("me:question_list", "get", "", frozenset(LOGGED_IN)),
    View("me:question_raise", "get", "", frozenset(LOGGED_IN)),
    View("me:account_report", "get", "", frozenset(LOGGED_IN)),  # §6.3: one's own reports
    # §5.3.a against a finding's inviter (groups.change_finding, as the §9.5 decisions)
    View("admin:groups_finding_propose_inviter_case", "post", "finding", frozenset(HR_ONLY)),
    View("me:group_name_list", "get", "", frozenset(LOGGED_IN)),  # §5.3.b: one's own renames
    # 我的通知: each login's own notices (another's opens 404: own_notice's out-of-scope side)
    View("me:notice_list", "get", "", frozenset(LOGGED_IN)),
    View("me:notice_read_all", "post", "", frozenset(LOGGED_IN)),
    View("me:notice_open", "get", "own_notice", frozenset(LOGGED_IN)),
    View("me:case_explain", "post", "own_case", frozenset(LOGGED_IN)),
    # 导出 Excel: whoever may list the rows (their scope is the list's: tests/reports)
    View("admin:violations_case_export_xlsx", "get", "", frozenset(_listers("violations.case"))),
    View("admin:groups_finding_export_xlsx", "get", "", frozenset(_listers("groups.finding"))),
    # 我的任务 and a job's pages (docs/background-jobs.md): staff, their own jobs only
    View("jobs:mine", "get", "", frozenset(STAFF)),
    View("jobs:detail", "get", "own_job", frozenset(STAFF)),
    View("jobs:status", "get", "own_job", frozenset(STAFF)),
    # 公平性报告 (appraisal.view_fairness_report): HR and company leaders
    View("admin:appraisal_period_fairness", "get", "period", frozenset(HR_ONLY | {"leader"})),
    View("admin:appraisal_period_fairness_xlsx", "get", "period", frozenset(HR_ONLY | {"leader"})),
    # 筛查待审: HR decides (violations.decide_case); the template for whoever may upload
    View("admin:screening_hit_decide", "post", "hit", frozenset(HR_ONLY)),
    View("admin:screening_chatimport_template", "get", "", frozenset(HR_ONLY | {*GROUP_RUNNERS})),
]


def custom_cells(view: View, persona: str, user) -> list[Cell]:
    model, scopes = TARGETS[view.target]
    allowed = persona in view.allowed
    if model is None:
        return [Cell(persona, view.id, reverse(view.name), view.method, dict(view.data), allowed)]
    scope = scopes.get(persona) if user is not None else None
    q = scope(user) if scope else None
    sides = [("in", True), ("out", False)] if q is not None else [("", True)]
    cells = []
    for side, inside in sides:
        obj = _pick(model, q, inside=inside)
        if obj is None and view.target.startswith("own_") and side == "in":
            continue  # this persona has no case of their own: only another's is tried
        assert obj is not None, f"the demo has no {view.target} {side} the scope of {persona}"
        url = reverse(view.name, args=[obj.pk])
        cells.append(
            Cell(persona, view.id, url, view.method, dict(view.data), allowed and inside, side)
        )
    return cells


@pytest.mark.parametrize("view", CUSTOM, ids=lambda v: v.id)
@pytest.mark.parametrize("persona", PERSONAS)
def test_custom_view_cells(db, company, persona, view):
    user, client = company[persona]
    problems = check(custom_cells(view, persona, user), client)
    assert not problems, f"{len(problems)} cell(s) wrong:\n" + "\n".join(problems)


# --- the admin's autocomplete (one JSON view that lists any registered model's rows) -------------
# Django's AutocompleteJsonView asks only the listed model's admin for view permission, then
# lists its get_queryset(): a role may autocomplete a model iff it may list it (EXPECTED's L),
# and a scoped role gets only the rows in its scope.
def _autocomplete_fields() -> list[tuple[str, str]]:
    fields = [
        (model._meta.label_lower, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.autocomplete_fields
    ]
    return sorted({*fields, ("violations.case", "employee")})  # Case's depends on the request


AUTOCOMPLETE = _autocomplete_fields()


@pytest.mark.parametrize(("source", "field"), AUTOCOMPLETE, ids=[".".join(f) for f in AUTOCOMPLETE])
@pytest.mark.parametrize("persona", PERSONAS)
def test_autocomplete_cells(db, company, persona, source, field):
    app_label, model_name = source.split(".")
    model = apps.get_model(app_label, model_name)
    remote = model._meta.get_field(field).remote_field.model
    listed = remote._meta.label_lower
    allowed = "L" in EXPECTED[listed].get(persona, NOTHING)
    user, client = company[persona]
    query = {"term": "", "app_label": app_label, "model_name": model_name, "field_name": field}
    response = client.get(reverse("admin:autocomplete"), query)
    cell = f"{persona} autocomplete {source}.{field} (lists {listed})"
    if not allowed:
        assert refused(response.status_code, response.get("Location", "")), (
            f"{cell}: {response.status_code}, expected refused (a leak)"
        )
        return
    assert response.status_code == 200, f"{cell}: {response.status_code}, expected allowed"
    shown = {int(row["id"]) for row in response.json()["results"]}
    assert shown, f"{cell}: lists nothing, expected the rows this role may see"
    if scope := SCOPES.get((listed, persona)):
        in_scope = set(remote._default_manager.filter(scope(user)).values_list("pk", flat=True))
        assert shown <= in_scope, f"{cell}: rows out of scope listed (a leak): {shown - in_scope}"
