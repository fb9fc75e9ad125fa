"""Every changelist and change page opens, and no changelist does a query per row."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal.models import GradeBand, Line, Result, Settlement, SettlementImport
from common.admin import HistoryAdmin
from groups.models import (
    Finding,
    MemberIdentity,
    MembershipException,
    ReconciliationRun,
    RosterAction,
)
from groups.services.runs import run_execute
from members.models import LoginFailure, LoginLockout
from members.services import department_set_head
from tests.factories import (
    ChatGroupFactory,
    ContentKindFactory,
    DepartmentFactory,
    EligibilityRuleFactory,
    EmployeeFactory,
    PositionFactory,
    RuleFactory,
)
from violations.models import Case

pytestmark = pytest.mark.django_db


def _employee():
    employee = EmployeeFactory(position=PositionFactory())
    department_set_head(department=employee.department, head=employee)
    return employee


def _group():
    group = ChatGroupFactory(creator=EmployeeFactory())
    group.admins.add(EmployeeFactory(), EmployeeFactory())
    EligibilityRuleFactory(group=group)
    return group


def _snapshot():
    from tests.groups.conftest import capture

    group = ChatGroupFactory(creator=EmployeeFactory())
    EligibilityRuleFactory(group=group)
    employee = EmployeeFactory()
    snapshot = capture(group, "路人", f"{employee.department.name}-{employee.name}")
    run_execute(snapshot=snapshot)
    return snapshot


def _finding():
    return Finding.objects.filter(last_seen=_snapshot()).first()


def _action():
    return RosterAction.objects.filter(finding=_finding()).first()


def _run():
    return ReconciliationRun.objects.create(group=ChatGroupFactory(), snapshot=_snapshot())


def _identity():
    return MemberIdentity.objects.create(
        group=ChatGroupFactory(), display_name="小王", employee=EmployeeFactory()
    )


def _exception():
    return MembershipException.objects.create(
        group=ChatGroupFactory(),
        employee=EmployeeFactory(),
        kind=MembershipException.Kind.INCLUDE,
        reason="借调",
        approved_by=EmployeeFactory(),
    )


def _case():
    return Case.objects.create(
        rule=RuleFactory(),
        employee=EmployeeFactory(),
        group=ChatGroupFactory(),
        occurred_at=timezone.now(),
        description="经过",
    )


_counter = iter(range(1, 10_000))


def _period():
    from appraisal.services import period_get_or_create

    n = next(_counter)
    return period_get_or_create(code=f"{2000 + n // 12}-{n % 12 + 1:02d}")


def _gradeband():
    n = next(_counter)
    return GradeBand.objects.create(grade=f"G{n}", min_score=n)


def _result():
    employee = EmployeeFactory()
    return Result.objects.create(
        period=_period(),
        employee=employee,
        department_path=employee.department.path,
        base_score=100,
        deducted=2,
        warnings=1,
        final_score=98,
    )


def _line():
    case = _case()
    return Line.objects.create(
        period=_period(),
        employee=case.employee,
        case=case,
        clause=case.rule.code,
        rule_title=case.rule.title_zh,
        occurred_on=timezone.localdate(),
        points=2,
    )


def _settlement_import():
    from django.core.files.base import ContentFile

    record = SettlementImport(period=_period(), file_name="pay.xlsx", rows=1)
    record.file.save("pay.xlsx", ContentFile(b"x"), save=False)
    record.save()
    return record


def _settlement():
    record = _settlement_import()
    return Settlement.objects.create(
        period=record.period, employee=EmployeeFactory(), amount=10, imported_in=record
    )


def _lockout():
    # django-axes writes these on failed logins (docs/security.md, 6).
    return LoginLockout.objects.create(
        username=f"guess{LoginLockout.objects.count()}",
        ip_address="10.0.0.7",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )


def _login_failure():
    return LoginFailure.objects.create(
        username="guess",
        ip_address="10.0.0.7",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        locked_out=True,
    )


def _account_report():
    from groups.models import AccountReport

    return AccountReport.objects.create(
        employee=EmployeeFactory(), wechat_id=f"lost-{AccountReport.objects.count()}", kind="lost"
    )


def _personnel_event():
    from members.models import PersonnelEvent

    return PersonnelEvent.objects.create(
        employee=EmployeeFactory(), kind="mover", changes={"职级": [1, 5]}, outcome={}
    )


def _succession():
    from groups.models import GroupSuccession

    return GroupSuccession.objects.create(
        group=ChatGroupFactory(), role="creator", predecessor=EmployeeFactory(), successor=None
    )


MAKERS = {
    "members.employee": _employee,
    "members.loginlockout": _lockout,
    "members.loginfailure": _login_failure,
    "members.department": lambda: DepartmentFactory(head=EmployeeFactory()),
    "members.position": PositionFactory,
    "groups.chatgroup": _group,
    "groups.eligibilityrule": lambda: EligibilityRuleFactory(
        kind="department", department=DepartmentFactory()
    ),
    "groups.contentkind": ContentKindFactory,
    "violations.rule": RuleFactory,
    "violations.case": _case,
    "groups.rostersnapshot": _snapshot,
    "groups.finding": _finding,
    "groups.rosteraction": _action,
    "groups.reconciliationrun": _run,
    "groups.memberidentity": _identity,
    "groups.membershipexception": _exception,
    "groups.accountreport": _account_report,
    "groups.groupsuccession": _succession,
    "members.personnelevent": _personnel_event,
    "appraisal.period": _period,
    "appraisal.gradeband": _gradeband,
    "appraisal.result": _result,
    "appraisal.line": _line,
    "appraisal.settlement": _settlement,
    "appraisal.settlementimport": _settlement_import,
}
# Made by the system, never added by hand in the admin.
NO_ADD_PAGE = {
    "members.loginlockout",
    "members.personnelevent",
    "groups.groupsuccession",
    "members.loginfailure",
    "groups.rostersnapshot",
    "groups.finding",
    "groups.rosteraction",
    "groups.reconciliationrun",
    "appraisal.result",
    "appraisal.line",
    "appraisal.settlement",
    "appraisal.settlementimport",
}


def test_every_model_of_ours_is_in_the_admin():
    ours = {
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model in admin.site._registry
        if model._meta.app_label in {"members", "groups", "violations", "appraisal"}
    }
    assert ours == set(MAKERS)


def _changelist_queries(client, label: str) -> int:
    app, model = label.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_changelist_query_count_does_not_grow_with_rows(client, superuser, label):
    client.force_login(superuser)
    for _ in range(3):
        MAKERS[label]()
    few = _changelist_queries(client, label)
    for _ in range(20):
        MAKERS[label]()
    many = _changelist_queries(client, label)
    assert many == few, f"{label}: {few} queries for 3 rows, {many} for 23"


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_change_and_history_pages_open(client, superuser, label):
    client.force_login(superuser)
    obj = MAKERS[label]()
    app, model = label.split(".")
    assert client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk])).status_code == 200
    expected = 403 if label in NO_ADD_PAGE else 200
    assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == expected
    history = client.get(reverse(f"admin:{app}_{model}_history", args=[obj.pk]))
    assert history.status_code == 200


def test_admin_is_in_chinese_by_default(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert "微信群合规管理" in page
    assert "员工" in page


@pytest.mark.parametrize("label", ["members.employee", "members.department", "groups.chatgroup"])
def test_a_view_only_user_cannot_revert_history(client, seeded, label):
    """simple_history saves its revert form for anyone who may view the history."""

    from company.roles import COMPANY_LEADERS
    from tests.factories import UserFactory

    leader = UserFactory(username="leader", roles=[COMPANY_LEADERS])
    obj = MAKERS[label]()
    model = type(obj)
    obj.save()  # a second history row to revert to
    version = obj.history.earliest()
    client.force_login(leader)
    app, name = label.split(".")
    url = reverse(f"admin:{app}_{name}_simple_history", args=[obj.pk, version.history_id])
    before = model.objects.filter(pk=obj.pk).values().get()
    response = client.post(url, {"name": "改掉了"})
    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before


HISTORY_LABELS = sorted(
    label
    for label in MAKERS
    if isinstance(admin.site.get_model_admin(apps.get_model(label)), HistoryAdmin)
)


@pytest.mark.parametrize("label", HISTORY_LABELS)
def test_history_names_who_changed_a_row_as_a_person_without_a_user_link(client, seeded, label):
    """simple_history lists the login name linked to /admin/auth/user/N/, which only a
    superuser may open; every HistoryAdmin names the person instead."""

    from company.roles import HR
    from tests.factories import UserFactory

    hr = UserFactory(username="hr-clerk", roles=[HR])
    changer = EmployeeFactory(name="钱多多", user=UserFactory(username="qdd")).user
    obj = MAKERS[label]()
    obj.history.update(history_user=changer)
    client.force_login(hr)
    app, model = label.split(".")
    page = client.get(reverse(f"admin:{app}_{model}_history", args=[obj.pk])).content.decode()
    assert "钱多多" in page
    assert "/admin/auth/user/" not in page
    assert ">qdd<" not in page
