from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CompanyConfig(AppConfig):
    """The company-wide wiring, above every other app: the role groups (company.roles), the
    `seed_policy` and `demo` commands and the demo company they build (company.demo), and
    the Chinese names third-party apps lack (company.chinese).

    Nothing below imports it (the import-linter contract in pyproject.toml).
    """

    name = "company"
    label = "company"
    verbose_name = "公司"

    def ready(self) -> None:
        from company import chinese

        chinese.name_third_party_apps()
        chinese.name_boolean_icons()
        # For every app (a sender only if it has models): auth's receiver, connected
        # before this one, has created the app's permissions by then.
        post_migrate.connect(chinese.name_default_permissions, dispatch_uid="company.chinese")
