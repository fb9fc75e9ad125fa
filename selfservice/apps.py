from django.apps import AppConfig


class SelfServiceConfig(AppConfig):
    """The employee's own pages (/me/): their cases, appeals and appraisal. Sits above
    violations and appraisal, whose selectors it reads; nothing below imports it."""

    name = "selfservice"
    label = "selfservice"
    verbose_name = "员工自助"
