"""Production: every secret from the environment, HTTPS only, static files by WhiteNoise.

`DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy` reports
nothing with the defaults (tests/test_settings.py runs it). README.md, "Production", shows
how to start the web server, the worker and beat; docs/security.md, 9, says what is promised.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, MIDDLEWARE, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# ------------------------------------------------------------------------------
# Secret key — https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# ------------------------------------------------------------------------------
# docs/security.md, 8: production accepted the development key that local.py promised it
# refused. Refuse it, an empty key, and any key too short to be a real one (Django's own
# check --deploy asks for 50 characters, 5 of them different).
LOCAL_DEVELOPMENT_KEY = "local-development-key-not-for-production"  # refused below
SECRET_KEY_MIN_LENGTH = 50
ERROR_WEAK_KEY = (
    "DJANGO_SECRET_KEY 必须设为至少 {length} 个字符的随机值，不能为空，也不能用开发用的密钥"
    " / must be a random value of at least {length} characters, not the development key."
    ' 例如 / e.g. `python -c "import secrets; print(secrets.token_urlsafe(50))"`'
)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if (
    SECRET_KEY == LOCAL_DEVELOPMENT_KEY
    or len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(ERROR_WEAK_KEY.format(length=SECRET_KEY_MIN_LENGTH))

# ------------------------------------------------------------------------------
# Database connections — https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
# ------------------------------------------------------------------------------
# docs/performance.md, "The admin under load": Django's default opens a new database connection
# for every request, and a new PostgreSQL backend starts with cold catalog caches — tens of ms
# of every admin page under gunicorn. Each worker (one thread each) keeps its connection for
# DJANGO_CONN_MAX_AGE seconds, checked before it is reused, so a restarted database server
# costs a reconnect, not an error. 0: a connection per request again.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# ------------------------------------------------------------------------------
# HTTPS — https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
# ------------------------------------------------------------------------------
# docs/security.md, 9. On by default: Django redirects plain HTTP to HTTPS and sends HSTS.
# Behind a reverse proxy that terminates TLS and does both itself, set
# DJANGO_TLS_TERMINATED_BY_PROXY=true: Django then trusts the proxy's X-Forwarded-Proto
# (the proxy must set it and strip any the client sent), and neither redirects nor sends
# HSTS unless DJANGO_SECURE_SSL_REDIRECT / DJANGO_SECURE_HSTS_SECONDS say otherwise.
TLS_TERMINATED_BY_PROXY = env.bool("DJANGO_TLS_TERMINATED_BY_PROXY", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not TLS_TERMINATED_BY_PROXY)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if TLS_TERMINATED_BY_PROXY else 60 * 60 * 24 * 365
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Off: the browsers' preload list binds the whole company domain for months and is slow to
# leave; an internal tool should not decide that for every other site of the company.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=TLS_TERMINATED_BY_PROXY):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy every request carries the proxy's address: a lockout by address would lock
# the whole company out after one person's five typos (HR, who release lockouts, included).
# There the username alone is locked, unless AXES_LOCK_BY_ADDRESS says otherwise.
if not env.bool("AXES_LOCK_BY_ADDRESS", default=not TLS_TERMINATED_BY_PROXY):
    AXES_LOCKOUT_PARAMETERS = ["username"]
# check --deploy's reminders that do not apply, each for the reason above: no preload by
# choice; behind a TLS-terminating proxy, the proxy redirects and sends HSTS, and the address
# axes would lock is the proxy's.
SILENCED_SYSTEM_CHECKS = [
    check
    for check, applies in (
        ("security.W021", not SECURE_HSTS_PRELOAD),
        ("security.W004", TLS_TERMINATED_BY_PROXY and not SECURE_HSTS_SECONDS),
        ("security.W008", TLS_TERMINATED_BY_PROXY and not SECURE_SSL_REDIRECT),
        # axes asks for the address too; it is the proxy's here (see above).
        ("axes.W006", "ip_address" not in AXES_LOCKOUT_PARAMETERS),
    )
    if applies
]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# ------------------------------------------------------------------------------
# Static files — https://whitenoise.readthedocs.io/en/stable/django.html
# ------------------------------------------------------------------------------
# docs/security.md, 9: under gunicorn nothing served /static/ (the admin came without its
# CSS/JS). WhiteNoise serves what `manage.py collectstatic` gathered in STATIC_ROOT,
# compressed and with hashed names that may be cached for ever.
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT))  # noqa: F405
MIDDLEWARE = [
    MIDDLEWARE[0],  # SecurityMiddleware first: the HTTPS redirect applies to static files too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
