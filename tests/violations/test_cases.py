"""The case workflow (§7.1): every transition, every forbidden one, four eyes, the appeal
window, repeat escalation, joint liability (§9.8/§9.12) and evidence checks."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from common.actors import SystemActor
from company.roles import FINANCE, HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import ChatGroupFactory, EmployeeFactory, UserFactory
from violations.models import Case, CaseTransition, Evidence, Rule
from violations.services import (
    CaseError,
    EvidenceError,
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    case_file,
    case_propose,
    evidence_add_all,
    evidence_inspect,
)
from violations.services.cases import (
    ERROR_APPEAL_NOT_YOURS,
    ERROR_COMMENT_REQUIRED,
    ERROR_FILE_FORBIDDEN,
    ERROR_NOT_HR,
    ERROR_OWN_CONFIRMATION,
    ERROR_OWN_REPORT,
    ERROR_REASON_REQUIRED,
    ERROR_SYSTEM_DECIDES,
    ERROR_UNKNOWN_RULE,
)
from violations.services.evidence import ERROR_EVIDENCE_FORBIDDEN

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
State = Case.State
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def hr(hr, hr2):
    """Three HR clerks (the shared two and hr3), so that four eyes hold at every step."""
    return [hr, hr2, UserFactory(username="hr3", roles=[HR])]


@pytest.fixture
def org():
    sales = department_get_or_create_by_path(path="销售部")
    head = EmployeeFactory(name="郭杰华", department=sales)
    department_set_head(department=sales, head=head)
    offender = EmployeeFactory(name="李娜", department=sales, user=UserFactory(username="lina"))
    return {"sales": sales, "head": head, "offender": offender, "group": ChatGroupFactory()}


def new_case(org, hr, code="9.4", *, days_ago=1, reporter=None) -> Case:
    return case_file(
        rule=Rule.objects.get(code=code),
        employee=org["offender"],
        group=org["group"],
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        description="群内发布赌博链接",
        actor=reporter or hr[0],
    )


def states(case: Case) -> list[tuple[str, str]]:
    return list(case.transitions.order_by("pk").values_list("from_state", "to_state"))


# -- the happy paths -------------------------------------------------------------


def test_filed_case_is_proposed_with_its_audit_row(org, hr):
    case = new_case(org, hr)
    assert case.state == State.PROPOSED
    assert states(case) == [("", State.PROPOSED)]
    assert case.transitions.get().actor == hr[0]


def test_confirm_fixes_points_and_sanction_from_the_rule(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1], comment="证据确凿")
    assert case.state == State.CONFIRMED
    assert case.points == Decimal("3.00")  # §9.4 default
    assert case.sanction == "warning"  # §9.4 予以警告处分
    assert case.offence_number == 1
    assert case.confirmed_by == hr[1]
    assert states(case)[-1] == (State.PROPOSED, State.CONFIRMED)
    assert case.transitions.last().comment == "证据确凿"


def test_points_never_change_when_the_rule_changes_later(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    Rule.objects.filter(code="9.4").update(default_points=Decimal("9"))
    case.refresh_from_db()
    assert case.points == Decimal("3.00")


def test_hr_may_override_points_only_with_a_reason(org, hr):
    case = new_case(org, hr)
    with pytest.raises(CaseError, match=ERROR_REASON_REQUIRED):
        case_confirm(case=case, actor=hr[1], points=Decimal("1"))
    case.refresh_from_db()
    assert case.state == State.PROPOSED
    case = case_confirm(case=case, actor=hr[1], points=Decimal("1"), override_reason="初犯且已删除")
    assert case.points == Decimal("1.00")
    assert case.override_reason == "初犯且已删除"


def test_dismiss_needs_a_comment(org, hr):
    case = new_case(org, hr)
    with pytest.raises(CaseError, match=ERROR_COMMENT_REQUIRED):
        case_dismiss(case=case, actor=hr[1], comment="  ")
    case = case_dismiss(case=case, actor=hr[1], comment="截图不是本群")
    assert case.state == State.DISMISSED
    assert case.points is None


def test_appeal_then_upheld_by_another_hr_clerk(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    case = case_appeal(case=case, actor=org["offender"].user, comment="链接是同事转发的")
    assert case.state == State.APPEALED
    case = case_decide_appeal(case=case, actor=hr[2], uphold=True, comment="维持")
    assert case.state == State.UPHELD
    assert states(case) == [
        ("", State.PROPOSED),
        (State.PROPOSED, State.CONFIRMED),
        (State.CONFIRMED, State.APPEALED),
        (State.APPEALED, State.UPHELD),
    ]
    assert case.counts_for_appraisal


def test_overturned_case_stops_counting_but_keeps_its_points(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    case_appeal(case=case, actor=hr[0], comment="员工口头申诉，HR 代为提交")
    case = case_decide_appeal(case=case, actor=hr[2], uphold=False, comment="证据不足")
    assert case.state == State.OVERTURNED
    assert not case.counts_for_appraisal
    assert case.points == Decimal("3.00")


# -- forbidden transitions: a clear error and nothing changed ---------------------


def _at(state: str, org, hr) -> Case:
    case = new_case(org, hr)
    if state == State.PROPOSED:
        return case
    if state == State.DISMISSED:
        return case_dismiss(case=case, actor=hr[1], comment="驳回")
    case = case_confirm(case=case, actor=hr[1])
    if state == State.CONFIRMED:
        return case
    case = case_appeal(case=case, actor=hr[0], comment="申诉")
    if state == State.APPEALED:
        return case
    return case_decide_appeal(case=case, actor=hr[2], uphold=state == State.UPHELD, comment="裁决")


def _try(action: str, case: Case, hr) -> None:
    if action == "confirm":
        case_confirm(case=case, actor=hr[2])
    elif action == "dismiss":
        case_dismiss(case=case, actor=hr[2], comment="驳回")
    elif action == "appeal":
        case_appeal(case=case, actor=hr[0], comment="申诉")
    else:
        case_decide_appeal(case=case, actor=hr[2], uphold=action == "uphold", comment="裁决")


ALLOWED_FROM = {
    "confirm": {State.PROPOSED},
    "dismiss": {State.PROPOSED},
    "appeal": {State.CONFIRMED},
    "uphold": {State.APPEALED},
    "overturn": {State.APPEALED},
}
FORBIDDEN = [
    (state, action)
    for action, allowed in ALLOWED_FROM.items()
    for state in State.values
    if state not in allowed
]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN)
def test_every_forbidden_transition_is_refused_and_changes_nothing(org, hr, state, action):
    case = _at(state, org, hr)
    before = (Case.objects.filter(pk=case.pk).values().get(), CaseTransition.objects.count())
    with pytest.raises(CaseError, match=f"当前为“{State(state).label}”"):
        _try(action, case, hr)
    after = (Case.objects.filter(pk=case.pk).values().get(), CaseTransition.objects.count())
    assert after == before


# -- who may do what -----------------------------------------------------------------


def test_four_eyes_nobody_confirms_their_own_report(org, hr):
    case = new_case(org, hr, reporter=hr[0])
    with pytest.raises(CaseError, match=ERROR_OWN_REPORT):
        case_confirm(case=case, actor=hr[0])
    with pytest.raises(CaseError, match=ERROR_OWN_REPORT):
        case_dismiss(case=case, actor=hr[0], comment="驳回")
    case.refresh_from_db()
    assert case.state == State.PROPOSED


def test_four_eyes_the_confirmer_does_not_decide_the_appeal(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    case_appeal(case=case, actor=org["offender"].user, comment="申诉")
    with pytest.raises(CaseError, match=ERROR_OWN_CONFIRMATION):
        case_decide_appeal(case=case, actor=hr[1], uphold=True, comment="维持")


@pytest.mark.parametrize("who", ["finance", "offender", "outsider"])
def test_only_hr_confirms(org, hr, who):
    users = {
        "finance": UserFactory(username="fin"),
        "offender": org["offender"].user,
        "outsider": UserFactory(username="nobody"),
    }
    users["finance"].groups.add(Group.objects.get(name=FINANCE))
    case = new_case(org, hr)
    with pytest.raises(CaseError, match=ERROR_NOT_HR):
        case_confirm(case=case, actor=users[who])


def test_only_the_employee_or_hr_appeals(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    with pytest.raises(CaseError, match=ERROR_APPEAL_NOT_YOURS):
        case_appeal(case=case, actor=UserFactory(username="colleague"), comment="替他申诉")


def test_appeal_window(org, hr, settings):
    settings.CASE_APPEAL_WINDOW_DAYS = 7
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    # The window runs from when the employee was told: here the confirmation's notice.
    assert case.told_how == "站内通知"
    late = case.told_at + dt.timedelta(days=7, minutes=1)
    with pytest.raises(CaseError, match="申诉期已过"):
        case_appeal(case=case, actor=org["offender"].user, comment="申诉", now=late)
    case.refresh_from_db()
    assert case.state == State.CONFIRMED
    on_time = case.told_at + dt.timedelta(days=6, hours=23)
    assert (
        case_appeal(case=case, actor=org["offender"].user, comment="申诉", now=on_time).state
        == State.APPEALED
    )


def test_filing_is_for_hr_and_the_groups_own_admins(org, hr):
    admin_employee = EmployeeFactory(user=UserFactory(username="groupadmin"))
    org["group"].admins.add(admin_employee)
    rule = Rule.objects.get(code="9.3")
    case = case_file(
        rule=rule,
        employee=org["offender"],
        group=org["group"],
        occurred_at=timezone.now(),
        description="辱骂同事",
        actor=admin_employee.user,
    )
    assert case.reported_by == admin_employee.user
    with pytest.raises(CaseError, match=ERROR_FILE_FORBIDDEN):
        case_file(
            rule=rule,
            employee=org["offender"],
            group=ChatGroupFactory(),
            occurred_at=timezone.now(),
            description="别的群",
            actor=admin_employee.user,
        )


# -- escalation ------------------------------------------------------------------------


def test_second_offence_within_the_window_counts_one_and_a_half(org, hr):
    case_confirm(case=new_case(org, hr, days_ago=30), actor=hr[1])
    second = case_confirm(case=new_case(org, hr, days_ago=1), actor=hr[1])
    assert second.offence_number == 2
    assert second.points == Decimal("4.50")  # 3 × 1.5
    assert second.sanction == "warning"


def test_third_offence_moves_the_sanction_one_level_up(org, hr):
    for days in (60, 30):
        case_confirm(case=new_case(org, hr, days_ago=days), actor=hr[1])
    third = case_confirm(case=new_case(org, hr, days_ago=1), actor=hr[1])
    assert third.offence_number == 3
    assert third.sanction == "serious_warning"


def test_offences_outside_the_window_dismissed_or_overturned_do_not_count(org, hr):
    case_confirm(case=new_case(org, hr, days_ago=120), actor=hr[1])  # outside 90 days
    case_dismiss(case=new_case(org, hr, days_ago=20), actor=hr[1], comment="不成立")
    overturned = case_confirm(case=new_case(org, hr, days_ago=10), actor=hr[1])
    case_appeal(case=overturned, actor=hr[0], comment="申诉")
    case_decide_appeal(case=overturned, actor=hr[2], uphold=False, comment="撤销")
    latest = case_confirm(case=new_case(org, hr, days_ago=1), actor=hr[1])
    assert latest.offence_number == 1
    assert latest.points == Decimal("3.00")


def test_the_repeat_policy_is_data_on_the_rule(org, hr):
    Rule.objects.filter(code="9.4").update(
        repeat_window_days=10, repeat_points_factor=Decimal("2"), repeat_escalate_at=2
    )
    case_confirm(case=new_case(org, hr, days_ago=5), actor=hr[1])
    second = case_confirm(case=new_case(org, hr, days_ago=1), actor=hr[1])
    assert (second.points, second.sanction) == (Decimal("6.00"), "serious_warning")


# -- joint liability (§9.8, §9.12) -----------------------------------------------------------


def test_confirming_a_joint_liability_rule_makes_the_heads_case(org, hr):
    case = case_confirm(case=new_case(org, hr, code="9.8"), actor=hr[1])
    joint = Case.objects.get(joint_of=case)
    assert joint.employee == org["head"]
    assert joint.state == State.CONFIRMED
    assert joint.points == case.points * Decimal("0.5")
    assert joint.source == Case.Source.JOINT
    assert joint.transitions.get().actor == hr[1]


def test_no_joint_case_for_the_head_themselves_or_rules_without_share(org, hr):
    case_confirm(case=new_case(org, hr, code="9.4"), actor=hr[1])
    assert not Case.objects.filter(joint_of__isnull=False).exists()
    headed = case_file(
        rule=Rule.objects.get(code="9.8"),
        employee=org["head"],
        group=org["group"],
        occurred_at=timezone.now(),
        description="部门负责人本人推诿",
        actor=hr[0],
    )
    case_confirm(case=headed, actor=hr[1])
    assert not Case.objects.filter(joint_of=headed).exists()


def test_overturning_the_case_overturns_the_heads_case(org, hr):
    case = case_confirm(case=new_case(org, hr, code="7.2"), actor=hr[1])
    case_appeal(case=case, actor=org["offender"].user, comment="已按时处理")
    case_decide_appeal(case=case, actor=hr[2], uphold=False, comment="申诉成立")
    joint = Case.objects.get(joint_of=case)
    assert joint.state == State.OVERTURNED
    assert list(joint.transitions.values_list("to_state", flat=True)) == [
        State.CONFIRMED,
        State.OVERTURNED,
    ]


# -- proposals from other parts ---------------------------------------------------------------


def test_the_same_source_event_never_makes_two_cases(org, hr):
    kwargs = {
        "rule_code": "5.1",
        "employee": org["offender"],
        "source": Case.Source.RECONCILIATION,
        "source_key": "roster-actions:1:2:2026-11-20",
        "description": "逾期",
        "occurred_at": timezone.now(),
        "actor": SYSTEM,
    }
    first, created = case_propose(**kwargs)
    again, created_again = case_propose(**kwargs)
    assert (created, created_again) == (True, False)
    assert first == again
    assert Case.objects.count() == 1
    assert states(first) == [("", State.PROPOSED)]


def test_proposing_an_inactive_rule_is_refused(org, hr):
    with pytest.raises(CaseError, match=re.escape(ERROR_UNKNOWN_RULE.format(code="9.6"))):
        case_propose(
            rule_code="9.6",  # tracked, never a deduction by default
            employee=org["offender"],
            source=Case.Source.SCREENING,
            source_key="x",
            description="",
            occurred_at=timezone.now(),
            actor=SYSTEM,
        )


# -- evidence ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 16, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
    ],
)
def test_evidence_type_comes_from_the_content(data, kind):
    assert evidence_inspect(data, name="随便叫什么.bin") == kind


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 60, "截图.png"),  # a renamed Windows executable
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 32, "聊天记录.pdf"),
        (b"PK\x03\x04" + b"\x00" * 32, "证据.jpg"),
        (b"<html><script>alert(1)</script>", "截图.png"),
    ],
)
def test_renamed_executables_and_other_files_are_refused(org, hr, data, name):
    case = new_case(org, hr)
    with pytest.raises(EvidenceError, match="不是图片"):
        evidence_add_all(case=case, files=[(name, data)], actor=hr[0])
    assert not Evidence.objects.exists()


def test_evidence_size_is_checked(org, hr, settings):
    settings.EVIDENCE_MAX_BYTES = 32
    with pytest.raises(EvidenceError, match="太大"):
        evidence_inspect(PNG, name="big.png")
    with pytest.raises(EvidenceError, match="空文件"):
        evidence_inspect(b"", name="empty.png")


def test_evidence_is_stored_privately_under_a_name_of_our_choosing(org, hr, settings):
    case = new_case(org, hr)
    evidence = evidence_add_all(case=case, files=[("../../etc/passwd.png", PNG)], actor=hr[0])[0]
    assert evidence.content_type == "image/png"
    assert evidence.original_name == "../../etc/passwd.png"
    assert evidence.file.name.startswith(f"evidence/{case.pk}/")
    assert evidence.file.name.endswith(".png")
    assert ".." not in evidence.file.name
    assert evidence.file.path.startswith(str(settings.MEDIA_ROOT))
    assert evidence.size == len(PNG)


def test_a_refused_file_when_filing_stores_no_case(org, hr):
    with pytest.raises(EvidenceError, match="不是图片"):
        case_file(
            rule=Rule.objects.get(code="9.4"),
            employee=org["offender"],
            group=org["group"],
            occurred_at=timezone.now(),
            description="附件有问题",
            actor=hr[0],
            evidence=[("ok.png", PNG), ("virus.png", b"MZ" + b"\x00" * 40)],
        )
    assert not Case.objects.exists()
    assert not Evidence.objects.exists()


def test_a_refused_file_leaves_no_file_on_disk(org, hr, settings):
    with pytest.raises(EvidenceError, match="不是图片"):
        case_file(
            rule=Rule.objects.get(code="9.4"),
            employee=org["offender"],
            group=org["group"],
            occurred_at=timezone.now(),
            description="第一个文件合格，第二个不合格",
            actor=hr[0],
            evidence=[("ok.png", PNG), ("virus.png", b"MZ" + b"\x00" * 40)],
        )
    assert not list(settings.MEDIA_ROOT.rglob("*.*"))


def test_more_evidence_is_all_the_files_or_none(org, hr, settings):
    case = new_case(org, hr)
    with pytest.raises(EvidenceError, match="不是图片"):
        evidence_add_all(
            case=case, files=[("ok.png", PNG), ("virus.png", b"MZ" + b"\x00" * 40)], actor=hr[0]
        )
    assert not case.evidence.exists()
    assert not list(settings.MEDIA_ROOT.rglob("*.*"))
    stored = evidence_add_all(case=case, files=[("a.png", PNG), ("b.pdf", PDF)], actor=hr[0])
    assert [e.original_name for e in stored] == ["a.png", "b.pdf"]
    assert [e.uploaded_by for e in stored] == [hr[0], hr[0]]


def test_evidence_from_someone_who_may_not_add_it_is_refused_before_any_file_is_read(org, hr):
    case = new_case(org, hr)
    outsider = UserFactory(username="outsider")
    with pytest.raises(EvidenceError, match=ERROR_EVIDENCE_FORBIDDEN.format(pk=case.pk)):
        evidence_add_all(case=case, files=[("ok.png", PNG)], actor=outsider)
    assert not case.evidence.exists()


def test_the_system_adds_evidence_as_no_person(org, hr):
    case = new_case(org, hr)
    [evidence] = evidence_add_all(
        case=case, files=[("ok.png", PNG)], actor=SystemActor("task:screening")
    )
    assert evidence.uploaded_by is None


def test_a_service_called_without_an_actor_refuses_rather_than_skipping_its_checks(org, hr):
    case = new_case(org, hr)
    with pytest.raises(TypeError, match="actor is required"):
        case_confirm(case=case, actor=None, comment="属实")
    with pytest.raises(TypeError, match="actor is required"):
        evidence_add_all(case=case, files=[("ok.png", PNG)], actor=None)
    assert case.transitions.count() == 1


# -- the system proposes, a person decides (§7.1) ----------------------------------------


def test_the_system_neither_confirms_nor_dismisses_a_case(org, hr):
    case = new_case(org, hr)
    with pytest.raises(CaseError, match=re.escape(ERROR_SYSTEM_DECIDES)):
        case_confirm(case=case, actor=SYSTEM, comment="属实")
    with pytest.raises(CaseError, match=re.escape(ERROR_SYSTEM_DECIDES)):
        case_dismiss(case=case, actor=SYSTEM, comment="不构成违规")
    case.refresh_from_db()
    assert case.state == State.PROPOSED
    assert case.transitions.count() == 1


def test_the_system_does_not_decide_an_appeal(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    case_appeal(case=case, actor=org["offender"].user, comment="申诉")
    for uphold in (True, False):
        with pytest.raises(CaseError, match=re.escape(ERROR_SYSTEM_DECIDES)):
            case_decide_appeal(case=case, actor=SYSTEM, uphold=uphold, comment="裁决")
    case.refresh_from_db()
    assert case.state == State.APPEALED


# -- the order of refusals and who attaches evidence -------------------------------------


def test_an_appeal_with_a_refused_file_is_refused_for_the_file_before_who_appeals(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    with pytest.raises(EvidenceError, match="不是图片"):
        case_appeal(
            case=case,
            actor=UserFactory(username="colleague"),  # may not appeal either: the file speaks first
            comment="替他申诉",
            attachments=[("virus.png", b"MZ" + b"\x00" * 40)],
        )
    case.refresh_from_db()
    assert case.state == State.CONFIRMED
    assert not case.evidence.exists()


def test_an_appeal_stores_its_material_marked_for_the_appeal(org, hr):
    case = case_confirm(case=new_case(org, hr), actor=hr[1])
    case_appeal(
        case=case, actor=org["offender"].user, comment="申诉", attachments=[("说明.pdf", PDF)]
    )
    [material] = case.evidence.all()
    assert (material.for_appeal, material.uploaded_by) == (True, org["offender"].user)


def test_whoever_files_a_case_attaches_its_evidence_without_the_view_evidence_check(org, hr):
    # A login that may file (violations.add_case) but not read evidence (no view_evidence,
    # no role in the case's group or department): its own filing carries its files; adding
    # to the filed case later is the admin's 补充证据, which checks it.
    filer = UserFactory(username="filer")
    filer.user_permissions.add(Permission.objects.get(codename="add_case"))
    case = case_file(
        rule=Rule.objects.get(code="9.4"),
        employee=org["offender"],
        group=org["group"],
        occurred_at=timezone.now(),
        description="附截图",
        actor=filer,
        evidence=[("shot.png", PNG)],
    )
    [evidence] = case.evidence.all()
    assert (evidence.uploaded_by, evidence.for_appeal) == (filer, False)
    with pytest.raises(EvidenceError, match=ERROR_EVIDENCE_FORBIDDEN.format(pk=case.pk)):
        evidence_add_all(case=case, files=[("more.png", PNG)], actor=filer)
    assert case.evidence.count() == 1


def test_filing_by_someone_who_may_not_file_is_refused_before_the_files_are_read(org):
    with pytest.raises(CaseError, match=ERROR_FILE_FORBIDDEN):
        case_file(
            rule=Rule.objects.get(code="9.4"),
            employee=org["offender"],
            group=org["group"],
            occurred_at=timezone.now(),
            description="外人登记",
            actor=UserFactory(username="nobody"),
            evidence=[("virus.png", b"MZ" + b"\x00" * 40)],
        )
    assert not Case.objects.exists()
