"""Settings shared by every environment.

Values that differ between machines come from the environment (12-factor) through
django-environ; see README.md, "Configuration", for the list.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ------------------------------------------------------------------------------
# Core — https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
# ------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # third party
    "import_export",
    "guardian",
    "simple_history",
    "axes",
    "django_celery_beat",
    # ours
    "workdays",
    "notices",  # in-app notices and their emails, near the bottom: any app may tell someone
    "jobs",  # long work in the background with progress (我的任务), above notices
    "members",
    "groups",
    "violations",
    "appraisal",
    "screening",  # exported group chats screened into proposed cases (docs/screening.md)
    "directives",
    "announcements",
    "selfservice",  # the employee's own pages (/me/), above violations and appraisal
    "company",  # company-wide wiring (roles, seed_policy, demo), above every other app
    "dashboard",  # 工作台, the admin's front page: reads every app (docs/dashboard.md)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",  # Chinese, whatever the browser asks
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Every 403 (PermissionDenied, CSRF) is logged with who and where (docs/security.md, 6).
    "config.middleware.RefusalLogMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "selfservice.context_processors.notices",  # the bell on /me/ (lazy)
            ],
        },
    },
]

# ------------------------------------------------------------------------------
# Database — https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The stock backend with SQLite's real parameter limit (config/sqlite3/base.py).
    DATABASES["default"]["ENGINE"] = "config.sqlite3"
    # A worker and the web process write at the same time: WAL lets readers go on
    # while one writes, and IMMEDIATE takes the write lock at BEGIN so that two
    # writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# ------------------------------------------------------------------------------
# Authentication — https://docs.djangoproject.com/en/5.2/topics/auth/customizing/
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out user or address is refused before a password is checked
    # (docs/security.md, 6). django-axes' AxesStandaloneBackend, see members/backends.py.
    "members.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Object permissions: a group's creator and admins on that group (§5.1, §5.2).
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The plain login page (the admin login refuses employees without staff status).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "me:case_list"

# django-axes — https://django-axes.readthedocs.io/en/latest/4_configuration.html
# docs/security.md, 6: 40 wrong passwords then the right one used to log in. After
# AXES_FAILURE_LIMIT failures the username is locked out, and so is the address they
# came from, for AXES_COOLOFF_MINUTES; HR lists and releases lockouts in the admin
# (members.admin.LoginLockoutAdmin). Behind an office NAT every employee shares one
# address: AXES_LOCK_BY_ADDRESS=false then locks by username only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = (
    ["username", "ip_address"] if env.bool("AXES_LOCK_BY_ADDRESS", default=True) else ["username"]
)
# A successful login forgets that user's earlier typos.
AXES_RESET_ON_SUCCESS = True
# The lockout page in Chinese, not axes' English one-liner.
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# What the login form says while locked out (axes' own text is English).
AXES_COOLOFF_MESSAGE = "登录失败次数过多，账号已被暂时锁定，请稍后再试，或联系人力资源部解除锁定。"
AXES_PERMALOCK_MESSAGE = "登录失败次数过多，账号已被锁定，请联系人力资源部解除锁定。"
# Who failed, when, from where: kept as rows HR can read (登录失败记录).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Successful logins are already in the session table; one row per login is noise.
AXES_DISABLE_ACCESS_LOG = True
# Our own admin pages (members.admin) show lockouts in Chinese under 组织架构.
AXES_ENABLE_ADMIN = False
# Its INFO lines on every login and reset drown the logs; failures go to the "security"
# logger (members.signals) and to 登录失败记录.
AXES_VERBOSE = False
# The address is REMOTE_ADDR (django-ipware is not installed, so a forged X-Forwarded-For
# cannot dodge the lockout). Behind a reverse proxy every request comes from the proxy:
# set AXES_LOCK_BY_ADDRESS=false there (docs/security.md, 6).

# django-guardian — https://django-guardian.readthedocs.io/en/stable/configuration.html
ANONYMOUS_USER_NAME = None  # nobody anonymous holds object permissions here
GUARDIAN_RAISE_403 = True

# ------------------------------------------------------------------------------
# Internationalisation — https://docs.djangoproject.com/en/5.2/topics/i18n/
# ------------------------------------------------------------------------------
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="zh-hans")
# One language, done properly (issue 14): no language switch, so no half-translated English.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# 2026年11月24日 where people read a date; input still takes 2026-11-24 (config/formats).
# https://docs.djangoproject.com/en/5.2/ref/settings/#format-module-path
FORMAT_MODULE_PATH = ["config.formats"]

# ------------------------------------------------------------------------------
# Static and uploaded files — https://docs.djangoproject.com/en/5.2/howto/static-files/
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded files (roster sheets, evidence) are private: stored outside any web
# root and served only through views that check permissions.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "private"))
MEDIA_URL = "/private/"
# Largest spreadsheet a user may upload. Django's own upload settings do not
# limit file data, so forms and commands check this (docs/security.md, 2).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Largest number of data rows read from one uploaded sheet.
MAX_IMPORT_ROWS = env.int("MAX_IMPORT_ROWS", default=50_000)
# Largest chat log read for screening (issue 15, screening/readers.py): a year of a busy
# group is a million lines, 150–250 MB of CSV, streamed (never held whole); an xlsx is read
# whole, under screening.readers.MAX_XLSX_BYTES as well.
SCREENING_MAX_UPLOAD_BYTES = env.int("SCREENING_MAX_UPLOAD_BYTES", default=512 * 1024 * 1024)
# Most rows (messages) read from one chat log.
SCREENING_MAX_ROWS = env.int("SCREENING_MAX_ROWS", default=2_000_000)

# ------------------------------------------------------------------------------
# Roster reconciliation (§5.1) — README.md, "Configuration"
# ------------------------------------------------------------------------------
# Days whoever a roster to-do is for has to carry it out (RosterAction.owner: the group's
# creator adds and removes, §5.1; the member renames, §5.3.b; HR answers identity questions).
ROSTER_ACTION_DUE_DAYS = env.int("ROSTER_ACTION_DUE_DAYS", default=2)
# Days past the due date before an overdue to-do is proposed as a case against the one who
# could act: §5.1 against an active creator, §5.3.b against the member; HR's never a case.
ROSTER_ACTION_GRACE_DAYS = env.int("ROSTER_ACTION_GRACE_DAYS", default=3)
# Most rows one roster file may have (WeChat caps a group at 500; leave room for
# an over-capacity group, refuse anything absurd).
MAX_ROSTER_ROWS = env.int("MAX_ROSTER_ROWS", default=2_000)
# Who takes over a leaver's groups (离职继承, groups.services.succession): "department_head" —
# the head of their department, else of the one above, up to the top, then the HR head — or
# "hr_head", the HR head always. Any other value fails the system check groups.E001.
GROUP_SUCCESSOR_RULE = env("GROUP_SUCCESSOR_RULE", default="department_head")
# Who a group without admins gets as admins (§5.2, groups.services.staffing): a number — that
# many of HR's active staff, by 工号, the HR head (the creator) left out — or 工号 separated by
# commas (JM00012,JM00040). WeChat lets a group owner name at most 3 admins: more, a 工号 twice
# or a malformed value fails the system check groups.E002.
GROUP_DEFAULT_ADMINS = env("GROUP_DEFAULT_ADMINS", default="2")

# ------------------------------------------------------------------------------
# Violation cases (§7.1) — README.md, "Configuration"
# ------------------------------------------------------------------------------
# Days, from when the employee was told of the confirmed case (Case.told_at: first notice sent,
# first view of the case or HR telling them in person), in which they (or HR for them) may appeal.
CASE_APPEAL_WINDOW_DAYS = env.int("CASE_APPEAL_WINDOW_DAYS", default=7)
# Working days a proposed case waits for the employee's explanation before HR may confirm
# it (they were told and have not explained yet); 0 lets HR decide at once. Dismissing never
# waits: it is in the employee's favour.
CASE_EXPLANATION_WORKING_DAYS = env.int("CASE_EXPLANATION_WORKING_DAYS", default=1)

# ------------------------------------------------------------------------------
# Notices (notices app) — README.md, "Configuration"
# ------------------------------------------------------------------------------
# Where email goes: the console by default (the embedded default has no mail server; a notice's
# email then shows in the server log), SMTP by EMAIL_URL, e.g. "smtp+tls://user:pass@mail.example:587"
# (django-environ's email_url). DEFAULT_FROM_EMAIL is the sender.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="weixinqun@junma.local")
# The address people open the app at (https://hr.junma.local): a notice's email links to its
# page there. Unset: the email says to log in (a relative link works in no mail reader).
NOTICE_SITE_URL = env("NOTICE_SITE_URL", default="")
# Times a failed email is tried before it is marked failed (kept, with its error, for the admin).
NOTICE_EMAIL_MAX_ATTEMPTS = env.int("NOTICE_EMAIL_MAX_ATTEMPTS", default=5)
# Largest evidence file (screenshot or PDF).
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)

# ------------------------------------------------------------------------------
# django-import-export — https://django-import-export.readthedocs.io/en/latest/installation.html
# ------------------------------------------------------------------------------
# Off by default, so every staff user could import and export (docs/security.md, 10).
# Custom permissions "import_<model>" / "export_<model>" declared in Meta.permissions.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# The library's TempFolderStorage opens whatever name the confirm form
# posts, anywhere in /tmp. Ours keeps previews in their own owner-only folder under random
# names, and the confirm form carries a signed token bound to the session
# (common.import_files, docs/security.md, 4); abandoned previews are swept nightly.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "common.import_files.PrivateTempStorage"
IMPORT_TMP_DIR = env.path("IMPORT_TMP_DIR", default=str(VAR_DIR / "import-previews"))

# ------------------------------------------------------------------------------
# Celery — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
_BROKER_FROM_ENV = env("CELERY_BROKER_URL", default="")
# Unset broker: run tasks in-process (the embedded default, no Redis needed).
# "memory://" so that nothing ever reaches for Celery's default amqp://localhost.
CELERY_TASK_ALWAYS_EAGER = not _BROKER_FROM_ENV
CELERY_BROKER_URL = _BROKER_FROM_ENV or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None) or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Acknowledge after the task ran, so a worker that dies mid-task does not lose
# it; tasks are idempotent because of this (docs/security.md, 5).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# docs/security.md, 5: a worker killed outright leaves its task unacknowledged until the
# visibility timeout (Redis's default: 1 h, during which the run showed "running 5%").
# Our longest task takes seconds (docs/performance.md: period_compute of 20,000
# employees 4 s, reconcile_all of 96 groups 5.9 s in all), so 5 minutes is 50x the
# longest and a killed task runs again within about 5 minutes. The restore sweep runs
# every `unacked_restore_interval` seconds (kombu's default throttle would make it 100 s).
# Short connect/socket timeouts: with the broker down, a roster upload learns it in
# about a second instead of hanging (the run then says so; the sweeper retries it).
QUEUE_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": QUEUE_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A run pending or running longer than this is stuck (its worker died and the
# redelivery did not finish it, or it was never queued): the sweeper marks it failed and
# retries it once. Longer than the visibility timeout plus the longest task, so that the
# broker's own redelivery gets its chance first.
RECONCILE_STALE_AFTER_SECONDS = env.int(
    "RECONCILE_STALE_AFTER_SECONDS", default=3 * QUEUE_VISIBILITY_TIMEOUT
)
# Exports (and imports) of more rows than this run as a background job with a progress page
# (docs/background-jobs.md); smaller ones answer in the request, as before.
JOBS_BACKGROUND_ROWS = env.int("JOBS_BACKGROUND_ROWS", default=2000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Loaded into django-celery-beat's tables on start; HR can change times in the admin.
CELERY_BEAT_SCHEDULE = {
    # §4: remind approvers of late announcement steps (once a day), escalate past a second
    # period; hourly, since 应急 steps count hours.
    "announcements-escalate-hourly": {
        "task": "announcements.escalate_approvals",
        "schedule": crontab(minute=5),
    },
    # §4/§5: reconcile every group's latest roster at night.
    "reconcile-all-nightly": {
        "task": "groups.reconcile_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # §5.1: remind creators of overdue roster actions each morning; escalate past grace.
    "roster-actions-overdue-daily": {
        "task": "groups.handle_overdue_roster_actions",
        "schedule": crontab(hour=8, minute=30),
    },
    # Delete import previews nobody confirmed within a day (docs/security.md, 4).
    "import-files-sweep-nightly": {
        "task": "members.sweep_import_files",
        "schedule": crontab(hour=3, minute=15),
    },
    # No run stays pending/running forever: fail + one retry (docs/security.md, 5).
    "sweep-stale-runs": {
        "task": "groups.sweep_stale_runs",
        "schedule": crontab(minute="*/5"),
    },
    # Emails of notices: send what is due, retry what failed (never dropped silently).
    "notices-send-emails": {
        "task": "notices.send_emails",
        "schedule": crontab(minute="*/5"),
    },
    # §7.2/§9.9: remind before directives' and questions' deadlines, propose cases after.
    "directives-follow-up": {
        "task": "directives.follow_up",
        "schedule": crontab(minute="*/15"),
    },
    # The daily email digest: one mail per person listing the day's unread notices
    # (docs/notices.md); failures are retried by notices-send-emails.
    "notices-daily-digest": {
        "task": "notices.send_digests",
        "schedule": crontab(hour=17, minute=30),
    },
}

# ------------------------------------------------------------------------------
# Logging — https://docs.djangoproject.com/en/5.2/topics/logging/
# ------------------------------------------------------------------------------
# The "security" logger (docs/security.md, 6) records failed logins (members.signals) and
# refused requests (config.middleware.RefusalLogMiddleware): who, what, when, from where.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "security": {"format": "%(asctime)s %(levelname)s security %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "security": {"class": "logging.StreamHandler", "formatter": "security"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}
# docs/background-jobs.md, 清理 (jobs.sweep): a job waiting or running longer than this is
# sent again once, then failed; result files are deleted after JOBS_RESULT_DAYS days.
JOBS_STALE_AFTER_SECONDS = env.int("JOBS_STALE_AFTER_SECONDS", default=3 * QUEUE_VISIBILITY_TIMEOUT)
JOBS_RESULT_DAYS = env.int("JOBS_RESULT_DAYS", default=7)
CELERY_BEAT_SCHEDULE["jobs-sweep"] = {"task": "jobs.sweep", "schedule": crontab(minute="*/5")}

# Chat-log screening (docs/screening.md): messages sent between these hours, Beijing time
# (22:00 to 06:00), weigh their hits up in HR's review queue by each rule's odd-hours weight.
SCREENING_ODD_HOURS = (22, 6)
