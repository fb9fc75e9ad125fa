"""The set-based writes of common.db: same rows as the ORM would write, on both databases."""

from __future__ import annotations

import pytest

from common.db import insert_many, update_from_values
from groups.models import RosterSnapshot
from members.models import Position
from tests.factories import EmployeeFactory, PositionFactory

pytestmark = pytest.mark.django_db


def test_insert_many_writes_plain_rows(unseeded):
    insert_many(Position, [Position(name=f"岗位{i}", rank=i) for i in range(1, 4)], batch=2)
    assert list(Position.objects.order_by("rank").values_list("name", "rank")) == [
        ("岗位1", 1),
        ("岗位2", 2),
        ("岗位3", 3),
    ]


def test_insert_many_refuses_fields_it_cannot_bind_as_they_are():
    with pytest.raises(TypeError, match="taken_at"):
        insert_many(RosterSnapshot, [])


def test_update_from_values_writes_the_named_fields_only(unseeded):
    positions = [PositionFactory(rank=1), PositionFactory(rank=1)]
    employee = EmployeeFactory(wechat_id="old")
    for position in positions:
        position.rank = 7
        position.name = "不该写入"
    update_from_values(Position, positions, ["rank"], batch=1)
    assert set(Position.objects.values_list("rank", flat=True)) == {7}
    assert not Position.objects.filter(name="不该写入").exists()
    employee.wechat_id = ""
    employee.position = None
    update_from_values(type(employee), [employee], ["wechat_id", "position"])
    employee.refresh_from_db()
    assert (employee.wechat_id, employee.position) == ("", None)
