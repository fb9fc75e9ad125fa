from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    """Working days and the holiday table (official holidays and 调休 make-up working days): every
    deadline that counts working days asks here. At the bottom, above common: any app may use it."""

    name = "workdays"
    label = "workdays"
    verbose_name = "工作日历"
