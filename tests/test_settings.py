"""Settings come from the environment (12-factor); check each documented variable."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
    "lockout": settings.AXES_LOCKOUT_PARAMETERS,
    "email": [settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT],
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
    "conn_health_checks": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
}))
"""


def _settings(module: str, **env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "AXES_", "EMAIL_"))
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


def test_email_goes_to_the_console_by_default_and_to_smtp_by_email_url():
    # A notice's email must go somewhere on a machine without a mail server (docs/notices.md):
    # the console, not Django's SMTP default on localhost, which refuses every send.
    assert _settings("config.settings.local")["email"][0] == (
        "django.core.mail.backends.console.EmailBackend"
    )
    s = _settings("config.settings.local", EMAIL_URL="smtp+tls://hr:pw@mail.example:587")
    assert s["email"] == ["django.core.mail.backends.smtp.EmailBackend", "mail.example", 587]


# A key as `secrets.token_urlsafe(50)` makes one (fixed here: the tests must be repeatable).
PRODUCTION_KEY = "tQ3v8-Zk2pW9xLr4Hn6Jy1Bc5Md7Fg0Ss2Ua4Ie6Oo8Kq1Xw3Ve5Rt7Yb9Nm0Pl2"


def test_production_defaults_to_no_debug_and_requires_a_secret_key():
    s = _settings("config.settings.production", DJANGO_SECRET_KEY=PRODUCTION_KEY)
    assert s["debug"] is False
    with pytest.raises(subprocess.CalledProcessError, match="non-zero exit status") as exc:
        _settings("config.settings.production")
    assert "DJANGO_SECRET_KEY" in exc.value.stderr


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    """docs/performance.md, "The admin under load": a connection per request (Django's default,
    kept by local settings, where runserver's threads would leak them) cost every page a new
    PostgreSQL backend."""
    s = _settings("config.settings.production", DJANGO_SECRET_KEY=PRODUCTION_KEY)
    assert s["conn_max_age"] == 600
    assert s["conn_health_checks"] is True
    s = _settings(
        "config.settings.production", DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_CONN_MAX_AGE="0"
    )
    assert s["conn_max_age"] == 0
    assert _settings("config.settings.local")["conn_max_age"] == 0


@pytest.mark.parametrize(
    ("env", "lockout"),
    [
        ({}, ["username", "ip_address"]),
        # Every request comes from the proxy: locking its address would lock everyone out.
        ({"DJANGO_TLS_TERMINATED_BY_PROXY": "true"}, ["username"]),
        (
            {"DJANGO_TLS_TERMINATED_BY_PROXY": "true", "AXES_LOCK_BY_ADDRESS": "true"},
            ["username", "ip_address"],
        ),
        ({"AXES_LOCK_BY_ADDRESS": "false"}, ["username"]),
    ],
)
def test_production_locks_by_address_only_where_addresses_tell_people_apart(env, lockout):
    s = _settings("config.settings.production", DJANGO_SECRET_KEY=PRODUCTION_KEY, **env)
    assert s["lockout"] == lockout


# docs/security.md, 8: local.py's development key, and keys too weak to be real ones.
@pytest.mark.parametrize(
    "key",
    ["local-development-key-not-for-production", "", "short-key", "a" * 60],
    ids=["local-development-key", "empty", "shorter-than-50", "one-character-repeated"],
)
def test_production_refuses_the_development_key_and_weak_keys(key):
    with pytest.raises(subprocess.CalledProcessError, match="non-zero exit status") as exc:
        _settings("config.settings.production", DJANGO_SECRET_KEY=key)
    assert "ImproperlyConfigured" in exc.value.stderr
    assert "DJANGO_SECRET_KEY 必须设为至少 50 个字符的随机值" in exc.value.stderr


def _production_env(**env: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))
    }
    clean.update(
        env, DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY=PRODUCTION_KEY
    )
    return clean


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 — our own interpreter and code
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_production_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


# docs/security.md, 9: HTTPS on by default; behind a TLS-terminating proxy, off by one setting.
@pytest.mark.parametrize(
    "env", [{}, {"DJANGO_TLS_TERMINATED_BY_PROXY": "true"}], ids=["direct", "proxy"]
)
def test_check_deploy_reports_nothing_under_production_settings(env):
    out = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
    assert "WARNINGS" not in out.stdout + out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 — our own server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gunicorn_serves_the_admins_css_under_production_settings(tmp_path):
    env = {"DJANGO_STATIC_ROOT": str(tmp_path / "static"), "DJANGO_TLS_TERMINATED_BY_PROXY": "true"}
    collected = _manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 — our own interpreter and code
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=_production_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/static/admin/css/base.css"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = _get(url, **{"X-Forwarded-Proto": "https"})
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                time.sleep(0.2)
        plain_status, plain_headers, _ = _get(f"http://127.0.0.1:{port}/admin/login/")
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"body" in body
    # Every page still carries the HTTPS promises: HSTS is the proxy's, secure cookies ours.
    assert plain_status == 200
    assert "secure" in plain_headers.get("Set-Cookie", "").lower()


def test_the_wsgi_application_hides_what_it_loaded_from_the_collector():
    """config.wsgi freezes what loading the project made (gc.freeze): a worker's full
    collections then walk only what requests made since, not the ~100,000 objects of Django
    and the apps (docs/performance.md, "The admin under load")."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, config.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))",
        ],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    frozen, tracked = map(int, out.stdout.split())
    assert frozen > 10 * tracked
