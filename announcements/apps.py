from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    """Announcements to be posted in the groups (§4, §6.1): categories and classification checked
    per group, approval routes as data, versions, delegation, escalation, publication and
    acknowledgement. Above violations (evidence checks); independent of directives."""

    name = "announcements"
    label = "announcements"
    verbose_name = "公告审批"
