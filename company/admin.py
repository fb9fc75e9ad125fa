"""django-celery-beat's schedule pages with their remaining labels in Chinese.

Its admin shows a crontab's meaning through cron_descriptor, which describes in the server
process's locale (English on our servers) and names each day in English even in its
zh_CN catalogue; and two of its labels come from attribute names ("Crontab translation",
"Human readable"). The classes are re-registered here with the same behaviour otherwise.
"""

from __future__ import annotations

from cron_descriptor import (
    FormatException,
    MissingFieldException,
    Options,
    WrongArgumentException,
    get_description,
)
from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

DAYS = {
    "Monday": "星期一",
    "Tuesday": "星期二",
    "Wednesday": "星期三",
    "Thursday": "星期四",
    "Friday": "星期五",
    "Saturday": "星期六",
    "Sunday": "星期日",
}


def crontab_meaning(crontab: CrontabSchedule | None) -> str:
    """'在 08:30, 星期一 到 星期五（Asia/Shanghai）' for a crontab, '—' for none."""
    if crontab is None:
        return "—"
    fields = [
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    ]
    expression = " ".join(str(field) for field in fields)
    options = Options()
    options.locale_code = "zh_CN"
    options.use_24hour_time_format = True
    try:
        meaning = get_description(expression, options)
    except (FormatException, MissingFieldException, WrongArgumentException):
        meaning = expression
    for english, chinese in DAYS.items():
        meaning = meaning.replace(english, chinese)
    return f"{meaning}（{crontab.timezone}）"


admin.site.unregister(PeriodicTask)
admin.site.unregister(CrontabSchedule)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    @admin.display(description="执行时间说明")
    def crontab_translation(self, obj: PeriodicTask) -> str:
        return crontab_meaning(obj.crontab)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form's script shows the chosen crontab's meaning from this dict.
        extra_context = extra_context or {}
        extra_context["readable_crontabs"] = {
            crontab.pk: crontab_meaning(crontab) for crontab in CrontabSchedule.objects.all()
        }
        return admin.ModelAdmin.changeform_view(
            self, request, object_id, form_url, extra_context=extra_context
        )


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    list_display = ("__str__", "meaning")
    fields = ("meaning", "minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    fields += ("timezone",)
    readonly_fields = ("meaning",)

    @admin.display(description="执行时间说明")
    def meaning(self, obj: CrontabSchedule) -> str:
        return crontab_meaning(obj)
