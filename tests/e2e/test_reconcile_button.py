"""The group page's 重新核对最新快照 really submits in a browser.

It once did nothing: its form was nested inside the change form, browsers drop a nested
form, and the button's form="reconcile-form" pointed at nothing. Django's
test client cannot see that; Chromium can.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from groups.models import ChatGroup, ReconciliationRun
from tests.e2e.conftest import admin_login, shot


def test_reconcile_button_starts_a_run_in_the_browser(open_page, demo):
    group = ChatGroup.objects.get(code="work")  # has the demo's member list
    runs = ReconciliationRun.objects.filter(group=group).count()
    page = open_page()
    admin_login(page, demo.hr)
    page.goto(f"/admin/groups/chatgroup/{group.pk}/change/")

    page.get_by_role("button", name="重新核对最新快照").click()

    expect(page).to_have_url(re.compile(r"/admin/groups/chatgroup/runs/\d+/$"), timeout=5_000)
    expect(page.locator("#run-progress")).to_have_attribute("value", "100")
    assert ReconciliationRun.objects.filter(group=group).count() == runs + 1
    # The change form itself was not submitted: the group is as it was.
    assert not page.locator(".errornote").count()
    shot(page, "22-reconcile-button")
