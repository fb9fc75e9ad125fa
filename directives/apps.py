from django.apps import AppConfig


class DirectivesConfig(AppConfig):
    """Leaders' instructions given in a group (§7.2) and questions raised in a group (§9.9): their
    assignees, deadlines and the proposed cases when they pass. Above violations, whose
    case_propose it calls; independent of announcements."""

    name = "directives"
    label = "directives"
    verbose_name = "指令与群内问题"
