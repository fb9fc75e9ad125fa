"""HR's holiday table in the admin: listed by year and month, what HR saves is HR's own."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from workdays.models import CalendarDay

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:workdays_calendarday_changelist")


def test_hr_lists_the_table_by_month(client, hr):
    CalendarDay.objects.update_or_create(
        date=date(2026, 10, 1), defaults={"kind": "holiday", "name": "国庆节"}
    )
    client.force_login(hr)
    response = client.get(CHANGELIST, {"date__year": 2026, "date__month": 10})
    assert response.status_code == 200
    assert "国庆节" in response.text
    assert "法定假日" in response.text


def test_a_day_hr_adds_is_marked_as_hrs_own(client, hr):
    CalendarDay.objects.filter(date=date(2026, 12, 31)).delete()
    client.force_login(hr)
    response = client.post(
        reverse("admin:workdays_calendarday_add"),
        {"date": "2026-12-31", "kind": "holiday", "name": "公司年终休息"},
    )
    assert response.status_code == 302
    row = CalendarDay.objects.get(date=date(2026, 12, 31))
    assert row.source == CalendarDay.Source.HR
    assert row.history.get().history_user == hr


@pytest.mark.parametrize("persona", ["employee", "outsider", "finance"])
def test_others_cannot_open_the_table(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(CHANGELIST).status_code in (302, 403)
