from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "微信群"

    def ready(self) -> None:
        # Registers the checks and the field__any_of lookup (here, not by whichever module
        # uses it first), connects the permission sync.
        from groups import checks, lookups, signals  # noqa: F401
