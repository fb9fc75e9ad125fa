"""Evidence files are served by a view that checks who may see the case, never by URL from
the private MEDIA_ROOT; Finance sees cases for the appraisal but never their evidence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from company.roles import FINANCE, HR
from members.services import department_get_or_create_by_path, department_set_head
from tests.factories import (
    PDF_BYTES,
    PNG_BYTES,
    ChatGroupFactory,
    EmployeeFactory,
    login,
)
from violations.models import Rule
from violations.services import case_file, evidence_add_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(seeded):
    """A case in 办公群 against 李娜 (销售部), filed by the group's admin, with a PNG and a PDF."""
    sales = department_get_or_create_by_path(path="销售部")
    production = department_get_or_create_by_path(path="生产部")
    production_head = EmployeeFactory(department=production, user=login("otherhead"))
    department_set_head(department=production, head=production_head)
    offender = EmployeeFactory(name="李娜", department=sales, user=login("lina", is_staff=False))
    group_admin = EmployeeFactory(department=production, user=login("groupadmin"))
    other_admin = EmployeeFactory(department=production, user=login("otheradmin"))
    mine = ChatGroupFactory(name="办公群", creator=EmployeeFactory(user=login("creator")))
    mine.admins.add(group_admin)
    ChatGroupFactory(name="别的群").admins.add(other_admin)
    case = case_file(
        rule=Rule.objects.get(code="9.4"),
        employee=offender,
        group=mine,
        occurred_at=timezone.now() - dt.timedelta(days=1),
        description="群内发布赌博链接",
        actor=group_admin.user,
    )
    return {
        "png": evidence_add_all(
            case=case, files=[("截图 1.png", PNG_BYTES)], actor=group_admin.user
        )[0],
        "pdf": evidence_add_all(case=case, files=[("记录.pdf", PDF_BYTES)], actor=group_admin.user)[
            0
        ],
        "hr": login("hr", HR),
        "finance": login("finance", FINANCE),
        "groupadmin": group_admin.user,
        "creator": mine.creator.user,
        "employee": offender.user,
        "otheradmin": other_admin.user,
        "otherhead": production_head.user,
        "outsider": login("outsider"),
    }


def url(evidence) -> str:
    return reverse("evidence:file", args=[evidence.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("who", ["hr", "groupadmin", "creator", "employee"])
def test_those_who_may_see_the_case_get_the_file(client, world, who):
    client.force_login(world[who])
    response = client.get(url(world["png"]))
    assert response.status_code == 200
    assert body(response) == PNG_BYTES


@pytest.mark.parametrize("who", ["finance", "outsider", "otheradmin", "otherhead"])
def test_others_are_refused_the_file(client, world, who):
    client.force_login(world[who])
    response = client.get(url(world["png"]))
    assert response.status_code == 403
    assert PNG_BYTES not in response.content


def test_image_is_served_inline_with_its_checked_type_and_nosniff(client, world):
    client.force_login(world["hr"])
    response = client.get(url(world["png"]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert "filename*=utf-8''%E6%88%AA%E5%9B%BE%201.png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_pdf_is_downloaded_not_opened_in_the_app(client, world):
    """docs/security.md, 8: a PDF opened inline runs in the app's origin; it is an attachment."""
    client.force_login(world["hr"])
    response = client.get(url(world["pdf"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert body(response) == PDF_BYTES


@pytest.mark.parametrize("kind", ["png", "pdf"])
def test_every_evidence_file_is_sandboxed(client, world, kind):
    client.force_login(world["hr"])
    policy = client.get(url(world[kind]))["Content-Security-Policy"]
    assert policy.startswith("sandbox;")
    assert "default-src 'none'" in policy


def test_anonymous_is_sent_to_log_in(client, world, settings):
    response = client.get(url(world["png"]))
    assert response.status_code == 302
    assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={url(world['png'])}"


def test_unknown_evidence_is_not_found(client, world):
    client.force_login(world["hr"])
    assert client.get(reverse("evidence:file", args=[999999])).status_code == 404


def test_file_missing_on_disk_is_not_found(client, world):
    world["png"].file.storage.delete(world["png"].file.name)
    client.force_login(world["hr"])
    assert client.get(url(world["png"])).status_code == 404


def test_the_file_is_not_reachable_by_its_media_url(client, world):
    client.force_login(world["hr"])
    assert client.get(world["png"].file.url).status_code == 404


def test_only_reads_are_allowed(client, world):
    client.force_login(world["hr"])
    assert client.post(url(world["png"])).status_code == 405
