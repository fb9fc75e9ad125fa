"""待确认公告 under /me/: the published 须确认 announcements sent to a group I belong in that I
have not confirmed yet, with a button to confirm having read each, and those I confirmed.

Rows come from announcements.selectors (the item's readers are the employees eligible for its
target groups); the button calls announcements.services.announcement_acknowledge, which checks
again that the item is mine to confirm.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from announcements.models import Acknowledgement
from announcements.selectors import acknowledgements_addressed_to, acknowledgements_pending_for
from announcements.services import AnnouncementError, announcement_acknowledge
from selfservice.views import employee_required

ACKNOWLEDGED = "已确认阅读“{title}”。"
CONFIRMED_SHOWN = 50  # the latest confirmations; older ones stay in the record


@employee_required
def announcement_list(request: HttpRequest) -> HttpResponse:
    employee = request.user.employee
    pending = acknowledgements_pending_for(employee).order_by("-updated_at", "-pk")
    confirmed = (
        Acknowledgement.objects.filter(employee=employee)
        .select_related("announcement__category")
        .prefetch_related("announcement__target_groups")
        .order_by("-at", "-pk")[:CONFIRMED_SHOWN]
    )
    return render(
        request,
        "selfservice/announcement_list.html",
        {"employee": employee, "pending": pending, "confirmed": confirmed},
    )


@employee_required
@require_POST
def announcement_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    # Only an item addressed to me: any other id is a 404, whether it exists or not, so the
    # page tells nobody which announcements (机密 ones included, §6.1) there are. One I
    # confirmed already stays found: confirming twice keeps the first time.
    announcement = get_object_or_404(acknowledgements_addressed_to(request.user.employee), pk=pk)
    try:
        announcement_acknowledge(
            announcement=announcement, employee=request.user.employee, actor=request.user
        )
    except AnnouncementError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, ACKNOWLEDGED.format(title=announcement.title))
    return redirect("me:announcement_list")
