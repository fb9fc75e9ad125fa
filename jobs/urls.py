"""我的任务 and each job's pages, under /admin/jobs/ behind the admin's login."""

from django.contrib import admin
from django.urls import path

from jobs import views

app_name = "jobs"
wrap = admin.site.admin_view
urlpatterns = [
    path("", wrap(views.mine), name="mine"),
    path("<int:pk>/", wrap(views.detail), name="detail"),
    path("<int:pk>/status/", wrap(views.status), name="status"),
    path("<int:pk>/download/", wrap(views.download), name="download"),
]
