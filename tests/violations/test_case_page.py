"""The case page and list as each role meets them: facet counts, HR's 处理 box
outside the change form, the appeal where it is decided, the queue of proposals and
appeals, links only where the viewer may follow them, people by name, rules in clause order."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.urls import reverse

from common.actors import SystemActor
from members.selectors import person_label
from tests.factories import PNG_BYTES, EmployeeFactory, RuleFactory
from tests.html import Page
from tests.violations.conftest import filed
from violations.admin.cases import DepartmentFilter
from violations.admin.decisions import MESSAGE_DECIDED, MESSAGE_REFUSED
from violations.forms import ERROR_DECISION_COMMENT
from violations.models import Case, Evidence, Rule, clause_sort_key
from violations.selectors import source_event_label
from violations.services import case_appeal, case_confirm, case_propose, evidence_add_all
from violations.services.cases import ERROR_OWN_CONFIRMATION, ERROR_OWN_REPORT
from violations.services.evidence import ERROR_EVIDENCE_TYPE

pytestmark = pytest.mark.django_db
State = Case.State
CHANGELIST = "admin:violations_case_changelist"
EXE_BYTES = b"MZ\x90\x00" + b"\x00" * 60


def page_url(case: Case) -> str:
    return reverse("admin:violations_case_change", args=[case.pk])


def decide_url(case: Case) -> str:
    return reverse("admin:violations_case_decide", args=[case.pk])


def history_url(case: Case) -> str:
    return reverse("admin:violations_case_history", args=[case.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- 1. 显示计数 (?_facets=True) -------------------------------------------------------------


@pytest.mark.parametrize("who", ["hr", "head", "finance", "groupadmin"])
@pytest.mark.parametrize("chosen", ["", "department", "state", "rule", "group", "source"])
def test_facet_counts_open_with_and_without_a_filter_chosen(client, world, cases, who, chosen):
    case = cases["offender_in_mine"]
    value = {
        "": "",
        "department": f"&department={world['sales'].pk}",
        "state": "&state__exact=proposed",
        "rule": f"&rule__id__exact={case.rule_id}",
        "group": f"&group__id__exact={case.group_id}",
        "source": "&source__exact=manual",
    }[chosen]
    client.force_login(world[who])
    response = client.get(reverse(CHANGELIST) + "?_facets=True" + value)
    assert response.status_code == 200


def test_facet_counts_count_each_department(client, world, cases):
    client.force_login(world["hr"])
    response = client.get(reverse(CHANGELIST) + "?_facets=True")
    spec = next(s for s in response.context["cl"].filter_specs if isinstance(s, DepartmentFilter))
    shown = [choice["display"] for choice in spec.choices(response.context["cl"])]
    assert shown[1:] == ["生产部 (1)", "销售部 (2)"]


# -- 2. the 处理 box on the case page --------------------------------------------------------


def buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="decision"[^>]*>([^<]*)</button>', html)


def test_hr_sees_the_decide_box_outside_the_change_form(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    html = client.get(page_url(case)).content.decode()
    parents = {form["id"]: form["parents"] for form in Page(html).forms}
    assert "case_form" in parents  # the admin's change form is there
    assert parents["case-decide-form"] == []  # and the decide form is not inside it
    assert f'action="{decide_url(case)}"' in html
    assert buttons(html) == ["确认", "驳回"]
    assert re.search(r'<label for="id_comment"[^>]*>处理意见', html)
    assert re.search(r'<textarea name="comment"', html)


def test_an_appealed_case_offers_uphold_and_overturn(client, world, appealed):
    client.force_login(world["hr"])
    assert buttons(client.get(page_url(appealed)).content.decode()) == ["维持", "撤销"]


def test_a_decided_case_offers_no_decision(client, world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr2"], comment="ok")
    client.force_login(world["hr"])
    html = client.get(page_url(case)).content.decode()
    assert "case-decide-form" not in html
    assert buttons(html) == []


@pytest.mark.parametrize(
    ("decision", "state", "verb"),
    [("confirm", State.CONFIRMED, "确认"), ("dismiss", State.DISMISSED, "驳回")],
)
def test_hr_decides_a_proposal_on_its_page(client, world, decision, state, verb):
    case = filed(world)
    client.force_login(world["hr"])
    response = client.post(
        decide_url(case), {"decision": decision, "comment": "核实属实"}, follow=True
    )
    assert response.redirect_chain[-1][0] == page_url(case)
    case.refresh_from_db()
    assert case.state == state
    last = case.transitions.order_by("at", "pk").last()
    assert (last.from_state, last.to_state, last.actor, last.comment) == (
        State.PROPOSED,
        state,
        world["hr"],
        "核实属实",
    )
    assert MESSAGE_DECIDED.format(verb=verb, pk=case.pk) in messages_of(response)


@pytest.mark.parametrize(
    ("decision", "state", "verb"),
    [("uphold", State.UPHELD, "维持"), ("overturn", State.OVERTURNED, "撤销")],
)
def test_hr_decides_an_appeal_on_its_page(client, world, appealed, decision, state, verb):
    client.force_login(world["hr"])
    response = client.post(
        decide_url(appealed), {"decision": decision, "comment": "复核结论"}, follow=True
    )
    appealed.refresh_from_db()
    assert appealed.state == state
    last = appealed.transitions.order_by("at", "pk").last()
    assert (last.from_state, last.to_state, last.comment) == (State.APPEALED, state, "复核结论")
    assert MESSAGE_DECIDED.format(verb=verb, pk=appealed.pk) in messages_of(response)


def test_confirming_on_the_page_may_set_other_points_with_a_reason(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    data = {"decision": "confirm", "comment": "ok", "points": "5", "override_reason": "情节严重"}
    client.post(decide_url(case), data)
    case.refresh_from_db()
    assert (case.state, case.points, case.override_reason) == (State.CONFIRMED, 5, "情节严重")


@pytest.mark.parametrize("comment", ["", "   "])
def test_an_empty_comment_is_refused_and_nothing_changes(client, world, comment):
    case = filed(world)
    client.force_login(world["hr"])
    response = client.post(
        decide_url(case), {"decision": "dismiss", "comment": comment}, follow=True
    )
    assert MESSAGE_REFUSED.format(
        pk=case.pk, verb="驳回", reason=ERROR_DECISION_COMMENT
    ) in messages_of(response)
    assert ERROR_DECISION_COMMENT in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.PROPOSED
    assert case.transitions.count() == 1


def test_four_eyes_on_the_page_own_report(client, world):
    case = filed(world, by="hr")
    client.force_login(world["hr"])
    response = client.post(decide_url(case), {"decision": "confirm", "comment": "ok"}, follow=True)
    assert MESSAGE_REFUSED.format(pk=case.pk, verb="确认", reason=ERROR_OWN_REPORT) in messages_of(
        response
    )
    case.refresh_from_db()
    assert case.state == State.PROPOSED


def test_four_eyes_on_the_page_own_confirmation(client, world, appealed):
    client.force_login(world["hr2"])  # confirmed it
    response = client.post(
        decide_url(appealed), {"decision": "uphold", "comment": "维持"}, follow=True
    )
    assert MESSAGE_REFUSED.format(
        pk=appealed.pk, verb="维持", reason=ERROR_OWN_CONFIRMATION
    ) in messages_of(response)
    appealed.refresh_from_db()
    assert appealed.state == State.APPEALED


def test_a_decision_the_state_does_not_allow_is_refused_in_words(client, world, appealed):
    client.force_login(world["hr"])
    response = client.post(
        decide_url(appealed), {"decision": "dismiss", "comment": "x"}, follow=True
    )
    assert any(
        m.startswith(MESSAGE_REFUSED.format(pk=appealed.pk, verb="驳回", reason=""))
        for m in messages_of(response)
    )
    appealed.refresh_from_db()
    assert appealed.state == State.APPEALED


@pytest.mark.parametrize("who", ["finance", "head"])
def test_those_who_may_not_decide_get_no_box_and_a_403(client, world, appealed, who):
    proposal = filed(world)
    client.force_login(world[who])
    for case, decision in [(proposal, "confirm"), (appealed, "overturn")]:
        html = client.get(page_url(case)).content.decode()
        assert "case-decide-form" not in html
        assert "处理意见" not in html
        response = client.post(decide_url(case), {"decision": decision, "comment": "x"})
        assert response.status_code == 403
    proposal.refresh_from_db()
    appealed.refresh_from_db()
    assert (proposal.state, appealed.state) == (State.PROPOSED, State.APPEALED)


def test_the_decide_url_answers_post_only(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    assert client.get(decide_url(case)).status_code == 405


# -- the appeal where it is decided ---------------------------------------------------------


@pytest.fixture
def appealed_with_material(world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr2"], comment="确认")
    return case_appeal(
        case=case,
        actor=world["offender"].user,
        comment="当时在外地出差，有审批记录",
        attachments=[("审批.png", PNG_BYTES)],
    )


def test_the_appeal_reason_and_material_are_shown_where_it_is_decided(
    client, world, appealed_with_material
):
    material = Evidence.objects.get(case=appealed_with_material, for_appeal=True)
    client.force_login(world["hr"])
    html = client.get(page_url(appealed_with_material)).content.decode()
    appeal = html[html.index('id="case-appeal"') : html.index('id="case-decide-form"')]
    assert "当时在外地出差，有审批记录" in appeal
    assert person_label(world["offender"].user) in appeal
    assert f'<img src="{reverse("evidence:file", args=[material.pk])}"' in appeal


def test_finance_reads_the_appeal_but_not_its_material(client, world, appealed_with_material):
    material = Evidence.objects.get(case=appealed_with_material, for_appeal=True)
    client.force_login(world["finance"])
    html = client.get(page_url(appealed_with_material)).content.decode()
    assert "当时在外地出差，有审批记录" in html
    assert reverse("evidence:file", args=[material.pk]) not in html


def test_the_employee_appeals_with_material_on_their_own_page(client, world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr"], comment="ok")
    client.force_login(world["offender"].user)
    url = reverse("me:case_appeal", args=[case.pk])
    data = {"reason": "我没有发过", "attachments": [SimpleUploadedFile("聊天.png", PNG_BYTES)]}
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.state == State.APPEALED
    material = case.evidence.get()
    assert (material.original_name, material.for_appeal, material.uploaded_by) == (
        "聊天.png",
        True,
        world["offender"].user,
    )


def test_an_appeal_with_a_refused_file_stores_neither(client, world):
    case = filed(world)
    case_confirm(case=case, actor=world["hr"], comment="ok")
    client.force_login(world["offender"].user)
    url = reverse("me:case_appeal", args=[case.pk])
    data = {"reason": "我没有发过", "attachments": [SimpleUploadedFile("聊天.png", EXE_BYTES)]}
    response = client.post(url, data)
    assert response.status_code == 200
    assert (
        ERROR_EVIDENCE_TYPE.format(name="聊天.png")
        in response.context["form"].errors["attachments"]
    )
    case.refresh_from_db()
    assert case.state == State.CONFIRMED
    assert not case.evidence.exists()


# -- 3. HR's queue: proposals and appeals ----------------------------------------------------


def test_the_queue_lists_appeals_with_proposals_each_with_what_is_asked(client, world, appealed):
    proposal = filed(world)
    decided = filed(world)
    case_confirm(case=decided, actor=world["hr"], comment="ok")
    client.force_login(world["hr"])
    response = client.get(reverse("admin:violations_case_queue"))
    asked = {case.pk: ask for case, ask in response.context["rows"]}
    assert asked == {proposal.pk: "确认或驳回", appealed.pk: "裁决申诉（维持或撤销）"}
    html = response.content.decode()
    assert "裁决申诉（维持或撤销）" in html
    assert person_label(world["groupadmin"]) in html  # the reporter, by name


# -- 4. no related-object icons beside the case's foreign keys -------------------------------


def test_no_add_edit_delete_or_view_icons_beside_rule_employee_and_group(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    for url in (reverse("admin:violations_case_add"), page_url(case)):
        response = client.get(url)
        assert "related-widget-wrapper-link" not in response.content.decode()
        form = response.context["adminform"].form
        for name in ("rule", "employee", "group"):
            widget = form.fields[name].widget
            icons = (
                widget.can_add_related,
                widget.can_change_related,
                widget.can_delete_related,
                widget.can_view_related,
            )
            assert icons == (False, False, False, False), name


# -- 5. links only where the viewer may follow them; people by name ---------------------------


def test_people_on_the_case_page_are_names_never_links_to_logins(client, world):
    EmployeeFactory(name="周敏", employee_no="HR002", user=world["hr2"])
    case = filed(world)
    evidence_add_all(case=case, files=[("shot.png", PNG_BYTES)], actor=world["groupadmin"])
    client.force_login(world["hr2"])  # decided through the page: the history has its user
    client.post(decide_url(case), {"decision": "confirm", "comment": "ok"})
    client.force_login(world["hr"])
    html = client.get(page_url(case)).content.decode()
    assert "/admin/auth/user/" not in html
    # reporter, uploader and the timeline's actor: 王芳; confirmer: 周敏
    assert html.count(person_label(world["groupadmin"])) >= 3
    assert "周敏（HR002）" in html
    history = client.get(history_url(case)).content.decode()
    assert "/admin/auth/user/" not in history
    assert "周敏（HR002）" in history


def test_the_queue_and_the_decide_page_name_the_reporter(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    queue = client.get(reverse("admin:violations_case_queue")).content.decode()
    assert person_label(world["groupadmin"]) in queue
    page = client.post(
        reverse(CHANGELIST), {"action": "confirm_cases", "_selected_action": [case.pk]}
    )
    assert person_label(world["groupadmin"]) in page.content.decode()


def test_one_person_filter_for_every_template():
    libraries = engines["django"].engine.template_libraries
    assert [name for name, library in libraries.items() if "person" in library.filters] == [
        "people"
    ]


def test_the_list_shows_the_reporter_by_name(client, world):
    filed(world)
    client.force_login(world["hr"])
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert person_label(world["groupadmin"]) in html
    assert ">groupadmin<" not in html


def group_link(case: Case) -> str:
    return reverse("admin:groups_chatgroup_change", args=[case.group_id])


@pytest.mark.parametrize(
    ("who", "linked"),
    [("hr", True), ("groupadmin", True), ("finance", False), ("head", False)],
)
def test_the_group_is_a_link_only_for_those_who_may_open_it(client, world, who, linked):
    case = filed(world)
    case_confirm(case=case, actor=world["hr2"], comment="ok")  # decided: read-only for all
    client.force_login(world[who])
    html = client.get(page_url(case)).content.decode()
    assert (f'href="{group_link(case)}"' in html) is linked
    assert "办公群" in html


@pytest.mark.parametrize(("who", "linked"), [("hr", True), ("creator", False)])
def test_rule_and_employee_are_links_only_for_those_who_may_open_them(client, world, who, linked):
    case = filed(world)
    client.force_login(world[who])
    html = client.get(page_url(case)).content.decode()
    rule_url = reverse("admin:violations_rule_change", args=[case.rule_id])
    employee_url = reverse("admin:members_employee_change", args=[case.employee_id])
    if who == "hr":  # HR edits a proposal's facts: form fields, no links needed
        case_confirm(case=case, actor=world["hr2"], comment="ok")
        html = client.get(page_url(case)).content.decode()
    assert (f'href="{rule_url}"' in html) is linked
    assert (f'href="{employee_url}"' in html) is linked
    assert "§9.4" in html


# -- 6. clause order, §, labels in words ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key"),
    [("9.2", "00090002"), ("9.10", "00090010"), ("5.3.b", "00050003b"), ("10", "0010")],
)
def test_clause_sort_key(code, key):
    assert clause_sort_key(code) == key


def test_rules_are_in_clause_order_everywhere(client, world, cases):
    RuleFactory(code="10.1", title_zh="附则")
    expected = sorted(Rule.objects.values_list("code", flat=True), key=clause_sort_key)
    assert expected.index("9.2") < expected.index("9.10") < expected.index("10.1")
    assert [r.code for r in Rule.objects.all()] == expected
    client.force_login(world["hr"])
    listed = client.get(reverse("admin:violations_rule_changelist"))
    assert [r.code for r in listed.context["cl"].result_list] == expected
    html = listed.content.decode()
    assert ">§9.10<" in html
    form = client.get(reverse("admin:violations_case_add")).context["adminform"].form
    active = [c for c in expected if Rule.objects.get(code=c).is_active]
    assert [r.code for r in form.fields["rule"].queryset] == active
    cl = client.get(reverse(CHANGELIST)).context["cl"]
    spec = next(s for s in cl.filter_specs if getattr(s, "field_path", "") == "rule")
    assert [label.split()[0] for _, label in spec.lookup_choices] == [f"§{c}" for c in expected]


def test_a_renamed_clause_moves_to_its_place(world):
    rule = Rule.objects.get(code="9.4")
    rule.code = "9.12"
    rule.save(update_fields=["code"])
    codes = list(Rule.objects.values_list("code", flat=True))
    assert codes.index("9.11") < codes.index("9.12")


def test_the_history_page_shows_labels_and_names_not_raw_values(client, world):
    EmployeeFactory(name="周敏", employee_no="HR002", user=world["hr2"])
    case = filed(world)
    client.force_login(world["hr2"])  # through the page, so the history records who
    client.post(decide_url(case), {"decision": "confirm", "comment": "ok"})
    assert case.history.latest().history_user == world["hr2"]
    client.force_login(world["hr"])
    html = client.get(history_url(case)).content.decode()
    assert "警告" in html  # §9.4's sanction
    assert "warning" not in html
    assert html.count("周敏（HR002）") >= 2  # the confirmer, and who changed the case
    assert "&nbsp;hr2" not in html
    assert ">hr2<" not in html
    assert "/admin/auth/user/" not in html


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("", "—"),
        ("finding:12", "群成员核对发现 #12"),
        ("joint:7", "案件 #7 的部门负责人连带责任（§9.8、§9.12）"),
        ("roster-actions:3:5:2026-11-03", "群成员待办逾期（截止 2026年11月3日）"),
        ("demo:screening:ads", "演示数据：内容筛查记录"),
        ("demo:finding:4", "演示数据：群成员核对发现 #4"),
        ("message:31:rule:2", "内容筛查：群消息 #31"),
        ("flood:9:3:77:2026-11-30", "内容筛查：2026年11月30日刷图（§9.7）"),
        ("message:x", "其他来源事件"),
        ("directive:stocktake", "逾期的群内指令"),
        ("something:else", "其他来源事件"),
    ],
)
def test_source_events_in_words(key, label):
    assert source_event_label(key) == label


@pytest.mark.parametrize("who", ["hr", "finance", "head"])
def test_the_case_page_shows_the_source_in_words(client, world, who):
    case, _ = case_propose(
        rule_code="9.11",
        employee=world["offender"],
        group=world["mine"],
        source=Case.Source.SCREENING,
        source_key="demo:screening:ads",
        description="广告",
        occurred_at=filed(world).occurred_at,
        actor=SystemActor("test"),
    )
    client.force_login(world[who])
    html = client.get(page_url(case)).content.decode()
    assert "demo:screening:ads" not in html
    assert "演示数据：内容筛查记录" in html
    assert "内容筛查" in html


# -- 6. the page's rows of buttons; the queue's 待办 link; the rule page read-only ------------


def save_buttons(html: str) -> list[str]:
    return re.findall(r'<input type="submit"[^>]*name="(_save|_continue|_addanother)"', html)


def test_a_proposal_saves_its_facts_but_never_offers_save_and_add_another(client, world):
    case = filed(world)
    client.force_login(world["hr"])
    assert save_buttons(client.get(page_url(case)).content.decode()) == ["_save", "_continue"]


def test_decided_and_appealed_cases_show_no_save_row(client, world, appealed):
    decided = filed(world)
    case_confirm(case=decided, actor=world["hr2"], comment="ok")
    client.force_login(world["hr"])
    for case in (decided, appealed):
        html = client.get(page_url(case)).content.decode()
        assert save_buttons(html) == [], case.state
    assert buttons(client.get(page_url(appealed)).content.decode()) == ["维持", "撤销"]


def test_the_queue_asks_link_to_the_cases_decide_box(client, world, appealed):
    proposal = filed(world)
    client.force_login(world["hr"])
    page = Page(client.get(reverse("admin:violations_case_queue")).content.decode())
    asks = {
        text: href
        for href, text in page.anchors
        if text in ("确认或驳回", "裁决申诉（维持或撤销）")
    }
    assert asks == {
        "确认或驳回": page_url(proposal) + "#case-decide",
        "裁决申诉（维持或撤销）": page_url(appealed) + "#case-decide",
    }
    # No other link reads like a row's ask (the bulk links name the lists they open).
    assert [t for _, t in page.anchors if "确认或驳回" in t] == ["确认或驳回"]


@pytest.mark.parametrize("who", ["finance"])  # read-only on rules in this world
def test_the_read_only_rule_page_shows_the_clause_with_section_and_points_with_two_decimals(
    client, world, who
):
    rule = RuleFactory(code="9.77", default_points="1")
    client.force_login(world[who])
    response = client.get(reverse("admin:violations_rule_change", args=[rule.pk]))
    assert response.status_code == 200
    text = " ".join(Page(response.content.decode()).text)
    assert "§9.77" in text
    assert text.count("9.77") == text.count("§9.77")  # never the bare number
    assert "1.00" in text
    assert "1.0 " not in text + " "


def test_hr_edits_the_rule_code_and_points_as_fields(client, world):
    rule = RuleFactory(code="9.77", default_points="1")
    client.force_login(world["hr"])
    form = (
        client.get(reverse("admin:violations_rule_change", args=[rule.pk]))
        .context["adminform"]
        .form
    )
    assert {"code", "default_points"} <= set(form.fields)


def test_a_proposal_page_opened_before_its_confirmation_does_not_change_it(client, world):
    """docs/security.md, 1: HR corrects a proposal's facts on a page opened before another clerk
    confirmed it: the save is refused, the confirmed case keeps its facts and state."""
    from common.admin import STALE_EDIT
    from tests.html import change_form_data

    case = filed(world)
    client.force_login(world["hr"])
    stale = change_form_data(client, page_url(case), {"description": "改过的描述"})
    case_confirm(case=case, actor=world["hr2"], comment="确认")

    response = client.post(page_url(case), stale)

    assert STALE_EDIT in response.content.decode()
    case.refresh_from_db()
    assert (case.state, case.description) == (State.CONFIRMED, "群内发布赌博链接")
