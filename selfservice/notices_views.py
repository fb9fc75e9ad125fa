"""我的通知 (/me/notices/): what the system told this login — a case proposed, confirmed or
decided, a to-do, a group handed over — newest first, the unread ones marked. Opening one
marks it read and follows its link when it leads somewhere on this site; nobody opens
another's notice (404). The bell in the navigation (selfservice.context_processors) counts
the unread ones."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notices.selectors import notices_of
from notices.services import email_wanted, notice_read, notices_read_all
from violations.selectors import proposals_decided

NOTICES_PAGE_SIZE = 30
ALL_READ = "已将 {count} 条通知标为已读。"
NOTHING_UNREAD = "没有未读通知。"


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notices_of(request.user), NOTICES_PAGE_SIZE).get_page(request.GET.get("p"))
    # A proposal's invitation to explain, once the case is decided, says so (（已处理）).
    decided = proposals_decided(notice.subject_key for notice in page.object_list)
    rows = [(notice, notice.subject_key in decided) for notice in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "email_address": request.user.email,
        "email_on": email_wanted(request.user),
    }
    return render(request, "selfservice/notice_list.html", context)


@login_required
def notice_open(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(notices_of(request.user), pk=pk)
    notice_read(notice=notice, actor=request.user)
    # Only a path on this site: a notice's link never sends anyone to another host.
    if notice.url and url_has_allowed_host_and_scheme(notice.url, allowed_hosts=None):
        return redirect(notice.url)
    return redirect("me:notice_list")


@login_required
@require_POST
def notice_read_all(request: HttpRequest) -> HttpResponse:
    count = notices_read_all(actor=request.user)
    if count:
        messages.success(request, ALL_READ.format(count=count))
    else:
        messages.info(request, NOTHING_UNREAD)
    return redirect("me:notice_list")
