"""The employee's own self-service pages (not the admin): their cases, appeals, and appraisal."""

from django.urls import path
from django.views.generic import RedirectView

from selfservice import announcements_views, directives_views, question_raise_views, views

app_name = "me"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="me:case_list", permanent=False)),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/appeal/", views.case_appeal_submit, name="case_appeal"),
    path("appraisal/", views.appraisal, name="appraisal"),
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
