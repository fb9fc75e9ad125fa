"""Tests: fast hashing, in-memory mail and cache, eager Celery that raises."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-key"  # noqa: S105 — tests only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default="/tmp/hr-compliance-test-media")  # noqa: S108
LANGUAGE_CODE = "zh-hans"
# Unit tests run tasks in-process; the integration tests (tests/integration)
# start a real worker on Redis themselves.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# HR confirms a proposed case at once in most tests (they predate the employee's explanation
# window); tests/violations/test_case_notices.py switches the window on (override_settings).
CASE_EXPLANATION_WORKING_DAYS = 0
