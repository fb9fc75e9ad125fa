"""The Celery app.

Settings come from Django's settings under the ``CELERY_`` namespace (see
config/settings/base.py, "Celery"). With ``CELERY_BROKER_URL`` unset, tasks run
eagerly in the calling process (the embedded default); set it to ``redis://...``
to use a real worker (``make worker``).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("hr_compliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
