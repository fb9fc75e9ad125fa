from django.apps import AppConfig


class CompanyConfig(AppConfig):
    """The company-wide wiring, above every other app: the role groups (company.roles), the
    `seed_policy` and `demo` commands and the demo company they build (company.demo).

    Nothing below imports it (the import-linter contract in pyproject.toml).
    """

    name = "company"
    label = "company"
    verbose_name = "公司"
