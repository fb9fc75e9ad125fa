from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "微信群"

    def ready(self) -> None:
        from groups import checks, signals  # noqa: F401 — registers the checks, connects permission sync
