"""导出 Excel of the case list (common.admin_export): the list's rows — its filters, search
and the viewer's scope (violations.selectors.cases_visible_to) — with the facts of each case."""

from __future__ import annotations

from common.admin_export import ExportColumn
from common.people import person_label
from common.spreadsheets.sheets import DATETIME_FORMAT, POINTS_FORMAT

# Beyond what the list's rows load (selectors.CASE_LIST_RELATED, CASE_LIST_PREFETCH).
CASE_EXPORT_RELATED = ["confirmed_by__employee"]


def _person(user) -> str:
    return "" if user is None else person_label(user)  # an empty cell, not "—", for nobody


CASE_EXPORT_COLUMNS = [
    ExportColumn("编号", "pk", width=8),
    ExportColumn("条款", lambda c: f"§{c.rule.code}", width=9),
    ExportColumn("条款名称", lambda c: c.rule.title_zh, width=28),
    ExportColumn("员工", lambda c: c.employee.name, width=12),
    ExportColumn("工号", lambda c: c.employee.employee_no, width=12),
    ExportColumn("部门", "department", width=24),
    ExportColumn("微信群", lambda c: c.group.name if c.group_id else "", width=20),
    ExportColumn("状态", lambda c: c.get_state_display(), width=14),
    ExportColumn("扣分", "points", width=8, number_format=POINTS_FORMAT),
    ExportColumn("处分", lambda c: c.get_sanction_display(), width=10),
    ExportColumn("来源", lambda c: c.get_source_display(), width=12),
    ExportColumn("发生时间", "occurred_at", width=18, number_format=DATETIME_FORMAT),
    ExportColumn("报告人", lambda c: _person(c.reported_by), width=16),
    ExportColumn("确认人", lambda c: _person(c.confirmed_by), width=16),
    ExportColumn("确认时间", "confirmed_at", width=18, number_format=DATETIME_FORMAT),
    ExportColumn("登记时间", "created_at", width=18, number_format=DATETIME_FORMAT),
    ExportColumn("经过", "description", width=48),
]
