from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "组织架构"

    def ready(self) -> None:
        from members import signals  # noqa: F401 — connects the receivers
