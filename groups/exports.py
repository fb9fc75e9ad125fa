"""Spreadsheets HR hands out: the creator's to-do list for one group (§5.1)."""

from __future__ import annotations

from django.utils import timezone

from common.spreadsheets import escape_formula, write_xlsx
from groups import selectors
from groups.models import ChatGroup
from groups.provenance import provenance_of

TODO_HEADERS = [
    "微信群",
    "待办",
    "问题",
    "条款",
    "群昵称",
    "微信号",
    "工号",
    "姓名",
    "部门",
    "说明",
    "建议处理",
    "截止日期",
    "由谁处理",  # the creator's own, the member's rename (§5.3.b) or HR's question
    "负责人",
]


def todo_rows(group: ChatGroup):
    """One row per open roster action; text escaped so Excel never runs it as a formula."""
    actions = list(selectors.todo_for_creator(group))
    # §5.3.a: who brought a stranger or an ineligible member in (the list goes to the
    # roster's viewers; never part of the finding's detail: groups.provenance).
    words = provenance_of([action.finding for action in actions])
    for action in actions:
        finding = action.finding
        employee = finding.employee
        texts = [
            action.group.name,
            action.get_kind_display(),
            finding.get_kind_display(),
            f"§{finding.clause}",
            finding.display_name,
            finding.wechat_id,
            employee.employee_no if employee else "",
            employee.name if employee else "",
            employee.department.path if employee else "",
            "；".join(text for text in (finding.detail, words.get(finding.pk)) if text),
            finding.recommended_action,
        ]
        yield [
            *(escape_formula(t) for t in texts),
            action.due_on,
            action.get_owner_display(),
            escape_formula(action.assignee.name) if action.assignee else "",
        ]


def todo_workbook(group: ChatGroup) -> bytes:
    title = f"{group.name} 待办 {timezone.localdate():%Y-%m-%d}"[:31]
    return write_xlsx(TODO_HEADERS, todo_rows(group), title=title.replace("/", "-"))
