from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from members.views import InvitePasswordSetView

admin.site.site_header = "微信群合规管理"
admin.site.site_title = "微信群合规管理"
admin.site.index_title = "公司内部微信群管理办法"
# One dash for an empty value on every page (appraisal set its own; Django's default is "-").
admin.site.empty_value_display = "—"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # 我的任务 and the jobs' pages (docs/background-jobs.md): before the admin's catch-all.
    path("admin/jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
    path("evidence/", include("violations.urls")),
    path("me/", include("selfservice.urls")),
    # HR's set-password links (members.views): before Django's own view at the same path.
    path(
        "accounts/reset/<uidb64>/<token>/",
        InvitePasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
]
