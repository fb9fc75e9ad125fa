from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """Telling people: one in-app notice list per login, and email as a second channel whose
    failed sends are recorded and retried, never dropped. Near the bottom, above common: any
    app that needs to tell someone something (a case, a to-do, a group handed over) posts here."""

    name = "notices"
    label = "notices"
    verbose_name = "通知"
