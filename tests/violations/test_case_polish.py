"""The case pages as HR and the employee use them (issue 12 fix-up): the reporter of a
proposal is not offered to decide it nor asked to in the queue (four eyes); a decided
proposal's invitation to explain stops waiting on /me/notices/; a refused decision keeps the
clerk's comment, and 确认 is disabled while the employee may still explain; 记录已告知员工
is asked once more and written into the case's timeline, with 申诉截止 on the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from company.roles import HR
from notices.models import Notice
from tests.factories import UserFactory
from tests.violations.explaining import propose
from violations.models import Case, CaseTransition, Rule
from violations.selectors import appeal_of, proposed_queue
from violations.services import (
    case_appeal,
    case_confirm,
    case_dismiss,
    case_explain,
    case_file,
    case_record_told,
    explanation_due,
)
from violations.services.guards import ERROR_OWN_APPEAL, own_interest
from violations.services.telling import TOLD_IN_PERSON, appeal_deadline

pytestmark = pytest.mark.django_db
State = Case.State


@pytest.fixture(autouse=True)
def _window(settings):
    settings.CASE_EXPLANATION_WORKING_DAYS = 1


QUEUE = "admin:violations_case_queue"
NOTE_OWN_REPORT = "你是报告人：请另一位人力资源部同事确认或驳回（四眼原则）"


def reported_by(clerk, employee) -> Case:
    """A proposal HR reported themselves (as the finding action 向邀请人提出 does)."""
    return case_file(
        rule=Rule.objects.get(code="9.4"),
        employee=employee,
        group=None,
        occurred_at=timezone.now() - dt.timedelta(hours=3),
        description="邀请了未实名的人入群",
        actor=clerk,
    )


def page_of(client, case: Case) -> str:
    return client.get(reverse("admin:violations_case_change", args=[case.pk])).content.decode()


def decide(client, case: Case, decision: str, comment: str):
    return client.post(
        reverse("admin:violations_case_decide", args=[case.pk]),
        {"decision": decision, "comment": comment},
    )


# -- 1. the reporter does not decide their own proposal (four eyes) ------------------------------


def test_the_reporter_sees_why_not_instead_of_the_decide_buttons(client, people, hr, hr2):
    case = reported_by(hr, people["nologin"])
    client.force_login(hr)

    page = page_of(client, case)

    assert NOTE_OWN_REPORT in page
    assert 'id="case-decide-refused"' in page
    assert 'id="case-decide-form"' not in page
    assert 'value="confirm"' not in page
    assert 'value="dismiss"' not in page
    client.force_login(hr2)
    other = page_of(client, case)
    assert 'id="case-decide-form"' in other
    assert 'value="confirm"' in other
    assert NOTE_OWN_REPORT not in other


def test_the_queue_leaves_out_the_clerks_own_reports(client, people, hr, hr2):
    own = reported_by(hr, people["nologin"])
    others = propose(people["lina"], key="others")

    assert list(proposed_queue(hr)) == [others]
    assert list(proposed_queue(hr2)) == [own, others]
    client.force_login(hr)
    page = client.get(reverse(QUEUE)).content.decode()
    assert "共 1 个待处理案件" in page
    assert f'data-case="{others.pk}"' in page
    assert f'data-case="{own.pk}"' not in page
    client.force_login(hr2)
    page = client.get(reverse(QUEUE)).content.decode()
    assert "共 2 个待处理案件" in page
    assert f'data-case="{own.pk}"' in page


def test_the_reporter_still_decides_the_appeal_of_their_report(client, people, hr, hr2):
    case = reported_by(hr, people["nologin"])
    case = case_confirm(case=case, actor=hr2, comment="属实")
    case_appeal(case=case, actor=hr2, comment="员工当面提出申诉")

    assert case.pk in {c.pk for c in proposed_queue(hr)}
    client.force_login(hr)
    page = page_of(client, case)
    assert 'value="uphold"' in page
    assert 'value="overturn"' in page
    assert NOTE_OWN_REPORT not in page


# -- 2. a decided proposal no longer invites the employee to explain -----------------------------


def proposal_notice(case: Case) -> Notice:
    return Notice.objects.get(subject_key=f"case:{case.pk}:proposed")


@pytest.mark.parametrize("decision", ["confirm", "dismiss"])
def test_deciding_marks_the_proposal_notice_read(people, hr, decision):
    case = propose(people["lina"])
    case_explain(case=case, text="我的说明", actor=people["lina"].user)  # HR need not wait
    assert proposal_notice(case).read_at is None

    if decision == "confirm":
        case_confirm(case=case, actor=hr, comment="属实")
    else:
        case_dismiss(case=case, actor=hr, comment="证据不足")

    assert proposal_notice(case).read_at is not None


def test_a_notice_already_read_keeps_its_time(people, hr):
    case = propose(people["lina"])
    read_at = timezone.now() - dt.timedelta(days=1)
    Notice.objects.filter(pk=proposal_notice(case).pk).update(read_at=read_at)

    case_dismiss(case=case, actor=hr, comment="证据不足")

    assert proposal_notice(case).read_at == read_at


def test_my_notices_mark_a_decided_proposal(client, people, hr):
    decided = propose(people["lina"], key="decided")
    waiting = propose(people["lina"], key="waiting")
    case_dismiss(case=decided, actor=hr, comment="证据不足")
    client.force_login(people["lina"].user)

    response = client.get(reverse("me:notice_list"))

    page = response.content.decode()
    assert page.count("（已处理）") == 1
    rows = dict(response.context["rows"])
    assert rows[proposal_notice(decided)] is True
    assert rows[proposal_notice(waiting)] is False
    # The waiting invitation stays unread; the decided one no longer counts.
    assert Notice.objects.filter(recipient=people["lina"].user, read_at__isnull=True).filter(
        subject_key__endswith=":proposed"
    ).get() == proposal_notice(waiting)


def test_my_notices_query_count_does_not_grow_with_decided_proposals(
    client, people, hr, django_assert_max_num_queries
):
    for n in range(6):
        case_dismiss(case=propose(people["lina"], key=f"k{n}"), actor=hr, comment="证据不足")
    client.force_login(people["lina"].user)
    client.get(reverse("me:notice_list"))  # warm the session

    with django_assert_max_num_queries(10):
        page = client.get(reverse("me:notice_list")).content.decode()

    assert page.count("（已处理）") == 6


# -- 4. the 处理 box: the comment survives a refusal; 确认 waits for the explanation ------------


def test_a_refused_confirm_keeps_the_comment_and_the_case_undecided(client, people, hr):
    case = propose(people["lina"])
    client.force_login(hr)

    response = decide(client, case, "confirm", "聊天记录截图属实")

    assert response.status_code == 200
    page = response.content.decode()
    assert "聊天记录截图属实" in page  # the textarea, re-filled
    assert "员工尚未说明" in page  # the refusal, as a message
    case.refresh_from_db()
    assert case.state == State.PROPOSED


def test_an_empty_comment_on_dismiss_is_refused_on_the_page(client, people, hr):
    case = propose(people["lina"])
    client.force_login(hr)

    response = decide(client, case, "dismiss", "   ")

    assert response.status_code == 200
    assert 'id="case-decide-form"' in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.PROPOSED


def test_confirm_is_disabled_while_the_employee_may_explain(client, people, hr):
    case = propose(people["lina"])
    client.force_login(hr)

    page = page_of(client, case)

    confirm = page[page.index('value="confirm"') - 60 : page.index(">确认</button>")]
    assert "disabled" in confirm
    assert 'title="员工尚未说明' in confirm
    dismiss = page[page.index('value="dismiss"') : page.index(">驳回</button>")]
    assert "disabled" not in dismiss
    case_explain(case=case, text="我的说明", actor=people["lina"].user)
    page = page_of(client, case)
    confirm = page[page.index('value="confirm"') - 60 : page.index(">确认</button>")]
    assert "disabled" not in confirm


def test_a_successful_decision_still_goes_back_to_the_case_page(client, people, hr):
    case = propose(people["nologin"])  # nobody told: HR does not wait
    client.force_login(hr)

    response = decide(client, case, "confirm", "属实")

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.CONFIRMED


def test_the_explanation_heading_appears_once(client, people, hr, finance):
    case = propose(people["lina"])
    case_explain(case=case, text="手机被孩子拿去玩了", actor=people["lina"].user)
    client.force_login(hr)

    page = page_of(client, case)

    assert page.count(">员工说明</h2>") == 1
    assert page.count("手机被孩子拿去玩了") == 1
    # Whoever gets no 处理 box reads it in the change form instead.
    client.force_login(finance)
    page = page_of(client, case)
    assert page.count(">员工说明</h2>") == 1
    assert "手机被孩子拿去玩了" in page


# -- 5. 记录已告知员工: asked once more, on the timeline, the appeal deadline shown --------------


def confirmed_untold(people, hr) -> Case:
    return case_confirm(case=propose(people["nologin"]), actor=hr, comment="属实")


def test_the_told_button_asks_first(client, people, hr, hr2):
    case = confirmed_untold(people, hr)
    told_url = reverse("admin:violations_case_told", args=[case.pk])
    client.force_login(hr2)

    assert told_url in page_of(client, case)
    asked = client.get(told_url)

    assert asked.status_code == 200
    text = asked.content.decode()
    assert "申诉期自现在起算" in text
    assert 'id="told-confirm-form"' in text
    case.refresh_from_db()
    assert case.told_at is None
    client.post(told_url)
    case.refresh_from_db()
    assert case.told_how == TOLD_IN_PERSON


def test_the_told_page_of_a_case_told_already_offers_nothing_more(client, people, hr, hr2):
    case = confirmed_untold(people, hr)
    case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr2)
    client.force_login(hr2)

    answer = client.get(reverse("admin:violations_case_told", args=[case.pk]), follow=True)

    text = answer.content.decode()
    assert 'id="told-confirm-form"' not in text
    assert "申诉期不变" in text
    assert answer.redirect_chain[-1][0] == reverse("admin:violations_case_change", args=[case.pk])


def test_the_queue_says_a_proposal_waits_for_the_explanation(client, people, hr):
    waiting = propose(people["lina"], key="waiting")  # told by the notice: HR waits
    nobody_told = propose(people["nologin"], key="untold")
    client.force_login(hr)

    rows = {
        int(row.split('data-case="')[1].split('"')[0]): row
        for row in client.get(reverse(QUEUE)).content.decode().split('class="queue-row"')[1:]
    }

    until = timezone.localtime(explanation_due(waiting))
    assert f"等待员工说明（至 {until:%-m月%-d日 %H:%M}）；可驳回" in rows[waiting.pk]
    assert "确认或驳回" in rows[nobody_told.pk]


def test_telling_in_person_is_on_the_timeline(people, hr, hr2):
    case = confirmed_untold(people, hr)

    case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr2)

    assert recorded
    row = case.transitions.order_by("-pk").first()
    assert (row.from_state, row.to_state, row.actor) == (State.CONFIRMED, State.CONFIRMED, hr2)
    told = timezone.localtime(case.told_at)
    assert row.comment.startswith(f"已当面告知员工，申诉期自 {told:%Y年%-m月%-d日 %H:%M} 起算")
    # Told again: nothing more on the timeline.
    case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr2)
    assert CaseTransition.objects.filter(case=case, comment__startswith="已当面告知").count() == 1


def test_the_case_page_shows_the_timeline_row_and_the_appeal_deadline(client, people, hr, hr2):
    case = confirmed_untold(people, hr)
    client.force_login(hr2)
    assert "尚未告知员工，申诉期未开始" in page_of(client, case)

    client.post(reverse("admin:violations_case_told", args=[case.pk]))

    case.refresh_from_db()
    page = page_of(client, case)
    assert "已当面告知员工，申诉期自" in page
    assert "申诉截止" in page
    assert f"{timezone.localtime(appeal_deadline(case)):%Y年%-m月%-d日 %H:%M}" in page


def test_a_telling_after_an_appeal_is_not_taken_for_the_appeal(people, hr, hr2):
    case = confirmed_untold(people, hr)
    case_appeal(case=case, actor=hr2, comment="员工当面提出申诉")  # HR for the employee
    case.refresh_from_db()

    # A third clerk tells the employee: the appeal stays hr2's (own_interest), not the teller's.
    hr3 = UserFactory(username="hr3", roles=[HR])
    case, recorded = case_record_told(case=case, how=TOLD_IN_PERSON, actor=hr3)

    assert recorded
    appeal = appeal_of(case)
    assert appeal.actor == hr2
    assert appeal.comment == "员工当面提出申诉"
    assert own_interest(case, hr2) == ERROR_OWN_APPEAL
    assert own_interest(case, hr3) == ""


# -- 3. the 员工说明 column in words, without a query per row -------------------------------------


def test_the_explanation_column_costs_no_query_per_row(client, people, hr):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(hr)
    propose(people["lina"], key="first")
    client.get(reverse("admin:violations_case_changelist"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:violations_case_changelist"))
    for n in range(6):
        propose(people["lina"], key=f"more{n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("admin:violations_case_changelist")).content.decode()

    assert page.count("待说明（至 ") == 7
    assert len(many.captured_queries) == len(few.captured_queries)
