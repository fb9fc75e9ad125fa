"""A case's life in a browser (§7.1): HR files it with a screenshot, a second HR clerk
confirms it on the case page, the employee appeals on their own page, HR decides the
appeal on the case page.

Each step is its own test, starting from the state the steps before it leave (made
through the services, as the browser would have): a step whose page is broken fails
alone and the others still say what works.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.models import ChatGroup
from tests.e2e.conftest import PASSWORD, admin_login, pick_autocomplete, shot
from violations.models import Case, Rule
from violations.services import case_appeal, case_confirm, case_decide_appeal, case_file

RULE = "5.3.d"  # 违法违规言论、负面情绪或小道消息: 3 points, a warning
GROUP = "leisure"  # 俊马欢乐谷: every employee is in it (§4)
WHAT = "在欢乐谷群内转发未经核实的裁员传言，引起同事议论。"
CONFIRM_NOTE = "截图清楚，本人当日已承认，按条款处理。"
APPEAL = "转发时不知道是谣言，看到后十分钟内已撤回，请求从轻处理。"
DECISION = "撤回前已有多人转发，影响已经造成，维持原处理。"


def png(width: int = 240, height: int = 120) -> bytes:
    """A real PNG (a chat screenshot's stand-in): a grey page with a green message bubble."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            bubble = 20 <= x < 180 and 30 <= y < 70
            rows += bytes((149, 236, 105) if bubble else (237, 237, 237))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def last_month(day: int = 15, hour: int = 10) -> dt.datetime:
    """A time in the previous month (the demo's computed period), Shanghai time."""
    first = timezone.localdate().replace(day=1)
    month = first - dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime(month.year, month.month, day, hour, 30))  # noqa: DTZ001


def user(username: str):
    return get_user_model().objects.get(username=username)


def filed(demo) -> Case:
    """What step 10 leaves: the case as HR filed it, with its screenshot."""
    return case_file(
        rule=Rule.objects.get(code=RULE),
        employee=demo.worker,
        group=ChatGroup.objects.get(code=GROUP),
        occurred_at=last_month(),
        description=WHAT,
        evidence=[("聊天截图.png", png())],
        actor=user(demo.hr),
    )


def confirmed(demo) -> Case:
    return case_confirm(case=filed(demo), actor=user(demo.hr2), comment=CONFIRM_NOTE)


def appealed(demo) -> Case:
    return case_appeal(case=confirmed(demo), actor=demo.worker.user, comment=APPEAL)


def upheld(demo) -> Case:
    hr = user(demo.hr)
    return case_decide_appeal(case=appealed(demo), actor=hr, uphold=True, comment=DECISION)


def case_page(page: Page, case: Case) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})  # the browser walk's window
    page.goto(f"/admin/violations/case/{case.pk}/change/")
    expect(page.locator("#content")).to_contain_text(f"#{case.pk}")


def comment_box(page: Page):
    """The 处理意见 textarea, asserted to be where a clerk sees it: a real width inside the
    window (fill() works on a 14-px box at x=1540 of a 1400-px window; people do not)."""
    box = page.get_by_label("处理意见")
    expect(box).to_be_visible()
    bounds = box.bounding_box()
    width = page.viewport_size["width"]
    assert bounds["width"] >= 300, bounds
    assert bounds["x"] >= 0, bounds
    assert bounds["x"] + bounds["width"] <= width, (bounds, width)
    return box


def test_10_hr_files_a_case_with_a_screenshot(open_page, demo):
    worker = demo.worker
    page = open_page()
    admin_login(page, demo.hr)
    page.goto("/admin/violations/case/add/")

    page.get_by_label("条款").select_option(label=str(Rule.objects.get(code=RULE)))
    pick_autocomplete(page, "employee", worker.name, worker.employee_no)
    page.get_by_label("微信群").select_option(label=ChatGroup.objects.get(code=GROUP).name)
    when = timezone.localtime(last_month())
    page.locator("#id_occurred_at_0").fill(f"{when:%Y-%m-%d}")
    page.locator("#id_occurred_at_1").fill(f"{when:%H:%M:%S}")
    page.get_by_label("经过").fill(WHAT)
    page.get_by_label("证据").set_input_files(
        {"name": "聊天截图.png", "mimeType": "image/png", "buffer": png()}
    )
    shot(page, "10-case-file-form")
    page.get_by_role("button", name="保存", exact=True).click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    case = Case.objects.get(employee=worker, description=WHAT)
    assert (case.state, case.reported_by.username, case.occurred_at) == (
        Case.State.PROPOSED,
        demo.hr,
        last_month(),
    )
    assert [e.original_name for e in case.evidence.all()] == ["聊天截图.png"]
    case_page(page, case)
    thumbnail = page.locator("img[src*='/evidence/']")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") == 240  # the file itself is served
    shot(page, "11-case-filed")


def test_12_second_hr_confirms_on_the_case_page(open_page, demo):
    case = filed(demo)
    page = open_page()
    admin_login(page, demo.hr2)
    case_page(page, case)

    expect(page.locator(".submit-row input[name=_addanother]")).to_have_count(0)
    comment_box(page).fill(CONFIRM_NOTE)
    shot(page, "12-case-to-confirm")
    page.get_by_role("button", name="确认", exact=True).click()

    expect(page.locator(".messagelist")).to_be_visible()
    case.refresh_from_db()
    assert (case.state, case.confirmed_by.username, case.points) == (
        Case.State.CONFIRMED,
        demo.hr2,
        Rule.objects.get(code=RULE).default_points,
    )
    assert case.transitions.last().comment == CONFIRM_NOTE
    shot(page, "12-case-confirmed")


def test_13_employee_appeals_on_their_own_page(open_page, demo):
    case = confirmed(demo)
    page = open_page()
    page.goto(f"/me/cases/{case.pk}/")  # the link HR's notice gives them
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("用户名").fill(demo.employee)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(rf"/me/cases/{case.pk}/$"))
    expect(page.locator("h1")).to_contain_text(f"案件 #{case.pk}")

    page.get_by_label("申诉理由").fill(APPEAL)
    shot(page, "13-employee-appeal-form")
    page.get_by_role("button", name="提交申诉").click()

    expect(page.get_by_text("申诉已提交")).to_be_visible()
    case.refresh_from_db()
    assert case.state == Case.State.APPEALED
    assert case.transitions.last().comment == APPEAL
    assert case.transitions.last().actor == demo.worker.user
    shot(page, "14-employee-appealed")


@pytest.mark.parametrize(
    ("button", "state"), [("维持", Case.State.UPHELD), ("撤销", Case.State.OVERTURNED)]
)
def test_15_hr_decides_the_appeal_on_the_case_page(open_page, demo, button, state):
    case = appealed(demo)
    page = open_page()
    admin_login(page, demo.hr)  # not hr2, who confirmed it (four eyes)
    case_page(page, case)
    expect(page.locator("#content")).to_contain_text(APPEAL)  # the reason, where it is decided

    comment_box(page).fill(DECISION)
    expect(page.locator("input[name=_save]")).to_have_count(0)  # nothing here to save
    shot(page, "15-appeal-to-decide")
    page.get_by_role("button", name=button, exact=True).click()

    expect(page.locator(".messagelist")).to_be_visible()
    case.refresh_from_db()
    assert case.state == state
    assert case.transitions.last().comment == DECISION
    assert case.transitions.last().actor.username == demo.hr
    shot(page, f"16-appeal-{'upheld' if button == '维持' else 'overturned'}")
