"""Evidence files, served only to those allowed to see the case (never from MEDIA_ROOT directly)."""

from django.urls import path

from violations import views

app_name = "evidence"
urlpatterns = [
    path("<int:pk>/", views.evidence_file, name="file"),
]
