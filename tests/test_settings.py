"""Settings come from the environment (12-factor); check each documented variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
from django.conf import settings
from config.celery import app
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "hosts": settings.ALLOWED_HOSTS,
    "secret": settings.SECRET_KEY,
    "language": settings.LANGUAGE_CODE,
    "tz": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "serializer": app.conf.task_serializer,
    "accept": list(app.conf.accept_content),
    "acks_late": app.conf.task_acks_late,
    "reject_lost": app.conf.task_reject_on_worker_lost,
}))
"""


def _settings(module: str, **env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    out = subprocess.run(  # noqa: S603 — our own interpreter and code
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_local_defaults_are_sqlite_debug_chinese_shanghai_and_eager_celery():
    s = _settings("config.settings.local")
    assert s["debug"] is True
    assert s["engine"] == "config.sqlite3"  # the stock backend, real parameter limit
    assert s["name"].endswith("var/db.sqlite3")
    assert s["language"] == "zh-hans"
    assert s["tz"] == "Asia/Shanghai"
    assert s["use_tz"] is True
    assert s["eager"] is True
    assert s["broker"] == "memory://"
    assert s["serializer"] == "json"
    assert s["accept"] == ["json"]
    assert s["acks_late"] is True
    assert s["reject_lost"] is True


def test_environment_overrides_database_broker_hosts_debug_and_key():
    s = _settings(
        "config.settings.local",
        DATABASE_URL="postgres://u:p@db.example:5432/hr",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        DJANGO_ALLOWED_HOSTS="hr.example.com,localhost",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="from-env",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "hr"
    assert s["eager"] is False
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["hosts"] == ["hr.example.com", "localhost"]
    assert s["debug"] is False
    assert s["secret"] == "from-env"


def test_production_defaults_to_no_debug_and_requires_a_secret_key():
    s = _settings("config.settings.production", DJANGO_SECRET_KEY="k")
    assert s["debug"] is False
    with pytest.raises(subprocess.CalledProcessError) as exc:
        _settings("config.settings.production")
    assert "DJANGO_SECRET_KEY" in exc.value.stderr
