from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Long work in the background (issue 14, 2): one Job row per piece of work a person
    started — a period's computation, a large export or import — run by one Celery task with
    its progress recorded, shown on a page the browser polls and in the person's 我的任务.
    Between members and notices: the apps that start jobs are above it, and it tells the
    owner through notices when a job ends (docs/background-jobs.md)."""

    name = "jobs"
    label = "jobs"
    verbose_name = "后台任务"
