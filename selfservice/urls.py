"""The employee's own self-service pages (not the admin): their cases, appeals, and appraisal."""

from django.urls import path
from django.views.generic import RedirectView

from selfservice import (
    account_views,
    announcements_views,
    directives_views,
    notices_views,
    question_raise_views,
    roster_views,
    views,
)

app_name = "me"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="me:case_list", permanent=False)),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/appeal/", views.case_appeal_submit, name="case_appeal"),
    path("cases/<int:pk>/explain/", views.case_explain_submit, name="case_explain"),
    path("notices/", notices_views.notice_list, name="notice_list"),
    path("notices/read-all/", notices_views.notice_read_all, name="notice_read_all"),
    path("notices/<int:pk>/", notices_views.notice_open, name="notice_open"),
    path("email/", account_views.email_settings, name="email_settings"),
    path("appraisal/", views.appraisal, name="appraisal"),
    path("account/", account_views.account_report, name="account_report"),  # §6.3
    path("group-names/", roster_views.group_name_list, name="group_name_list"),  # §5.3.b
    path("directives/", directives_views.directive_list, name="directive_list"),
    path("directives/<int:pk>/", directives_views.directive_detail, name="directive_detail"),
    path("questions/", directives_views.question_list, name="question_list"),
    path("questions/new/", question_raise_views.question_raise_view, name="question_raise"),
    path("questions/<int:pk>/", directives_views.question_act, name="question_act"),
    path("announcements/", announcements_views.announcement_list, name="announcement_list"),
    path(
        "announcements/<int:pk>/acknowledge/",
        announcements_views.announcement_acknowledge_view,
        name="announcement_acknowledge",
    ),
]
