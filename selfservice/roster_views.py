"""我的群昵称 (/me/group-names/): the member's own rename to-dos (§5.3.b).

A rename is the member's to fix, nobody else's (groups.services.reconcile_apply's
roster_action_for): this page tells them what each group expects and by when. Only their
own to-dos: the selector filters by the employee of the login, never by an id in the URL.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from groups.selectors import rename_todos_of
from groups.services.actions import rename_line
from selfservice.views import employee_required


@employee_required
def group_name_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = [
        {"action": action, "line": rename_line(action), "overdue": action.due_on < today}
        for action in rename_todos_of(request.user.employee)
    ]
    return render(request, "selfservice/group_name_list.html", {"rows": rows})
