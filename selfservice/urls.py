"""The employee's own self-service pages (not the admin): their cases, appeals, and appraisal."""

from django.urls import path
from django.views.generic import RedirectView

from selfservice import views

app_name = "me"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="me:case_list", permanent=False)),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/appeal/", views.case_appeal_submit, name="case_appeal"),
    path("appraisal/", views.appraisal, name="appraisal"),
]
