from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "微信群"

    def ready(self) -> None:
        from groups import signals  # noqa: F401 — connects permission sync
