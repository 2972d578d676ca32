"""Settings shared by every environment. Values that differ come from environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP
from kombu import Queue

from config.env import (
    SMTP_BACKEND,
    database_from_url,
    env_int,
    env_list,
    env_log_level,
    env_str,
    env_throttle_rate,
    mailers_from_env,
)
from config.signing_keys import env_public_keys, env_signing_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "accounts",
    "certification",
]

MIDDLEWARE = [
    # First, so load balancers and container health checks reach it without a Host header
    # that ALLOWED_HOSTS knows and without the HTTPS redirect.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sign-in and messages: it may sign an idle person out and tell them why.
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.csp",
                "accounts.context_processors.roles",
                "certification.context_processors.nav_section",
                "certification.context_processors.assessment_nav",
                "certification.context_processors.notification_nav",
            ],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file in the project directory.
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=0, minimum=0),
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
    "accounts.backends.AdminRoleBackend",
]
# Apps whose models the admin role manages in Django's admin site (accounts.backends).
# django_celery_beat is left to superusers: a schedule can run any task with any arguments.
ADMIN_ROLE_APPS = ["accounts", "axes"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "certification:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Proxies in front of the app: how far X-Forwarded-For is trusted for the client's address,
# by the sign-in lockout (accounts.security.client_ip) and API throttling alike.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0, minimum=0)

# Login lockout (django-axes): five failures for one email from one address lock that pair out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.security.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_RESET_ON_SUCCESS = True

# Sessions and cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Signed out after this long without a request, and this long after signing in, except
# while taking a timed test (accounts/middleware.py). The cookie's age slides with activity.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", default=30, minimum=5))
SESSION_ABSOLUTE_TIMEOUT = timedelta(
    hours=env_int("SESSION_ABSOLUTE_HOURS", default=12, minimum=1, maximum=24 * 30)
)
SESSION_HOLD_CALLABLE = "certification.selectors.exams.session_hold_until"
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Internationalisation: store UTC, show each person's own time zone.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"

# Revenue: deals are converted into this currency (ISO 4217) at the rates enablement configures.
BASE_CURRENCY = env_str("BASE_CURRENCY", "USD").upper()
# Tier recompute: reps recomputed per transaction, and per task a change of their facts sends.
# (The worker-kill test's workers use a small one: three batches without thousands of reps.)
TIERS_RECOMPUTE_BATCH = env_int("TIERS_RECOMPUTE_BATCH", default=500, minimum=1)
# Reps per task when every rep is recomputed (nightly): the tasks are shared by the worker
# processes on the bulk queue.
TIERS_RECOMPUTE_ALL_BATCH = env_int("TIERS_RECOMPUTE_ALL_BATCH", default=2000, minimum=1)
# Deal imports (CSV upload, import_deals, POST /api/v1/deals/bulk/): refused above these sizes.
DEALS_IMPORT_MAX_BYTES = env_int("DEALS_IMPORT_MAX_BYTES", default=20 * 1024 * 1024, minimum=1)
DEALS_IMPORT_MAX_ROWS = env_int("DEALS_IMPORT_MAX_ROWS", default=200_000, minimum=1)
# Uploads are kept in memory, never on disk (config/uploads.py): a request body larger than
# the largest import allows (plus room for the form around it) is refused unread.
UPLOAD_MAX_BYTES = max(DEALS_IMPORT_MAX_BYTES, 5 * 1024 * 1024) + 64 * 1024
FILE_UPLOAD_HANDLERS = ["config.uploads.MemoryOnlyUploadHandler"]
# Report exports: a table of up to EXPORT_INLINE_MAX_ROWS rows downloads at once, a larger one
# runs as a background job (for at most EXPORT_TIME_LIMIT seconds, under the broker's visibility
# timeout) whose file is kept EXPORT_RETENTION_HOURS hours.
EXPORT_INLINE_MAX_ROWS = env_int("EXPORT_INLINE_MAX_ROWS", default=2000, minimum=0)
EXPORT_RETENTION_HOURS = env_int("EXPORT_RETENTION_HOURS", default=24, minimum=1)
EXPORT_TIME_LIMIT = env_int("EXPORT_TIME_LIMIT", default=1800, minimum=60, maximum=3000)
USE_I18N = True
USE_TZ = True

# Static files: served by WhiteNoise from the collected, hashed copies.
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded and exported files; every web and worker process must see the same directory (a
# shared volume) or set a shared storage backend in STORAGES["default"].
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# Cache and Celery: Redis when REDIS_URL is set; otherwise in-process and eager.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "repready",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = timedelta(hours=6)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=360, minimum=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False  # only tasks that are safe to run twice opt in
# Two queues, so a big export or the nightly recompute never delays what a person waits for
# (a rep's tier update, a notification, the outbox). A worker started without --queues
# consumes both; docker/compose.yaml runs one worker per queue. Every task is routed on
# purpose: tests/config/test_celery.py fails on a task that is in neither list.
CELERY_INTERACTIVE_TASKS = (
    "repready.ping",
    "certification.outbox_sweep",
    "certification.close_overdue_attempts",
    "certification.recompute_tiers",
    "certification.send_notification_emails",
    "certification.allocate_support",
)
CELERY_BULK_TASKS = (
    "certification.recompute_all_tiers",
    "certification.recompute_tiers_bulk",
    "certification.allocate_support_starting_today",
    "certification.run_export",
    "certification.purge_expired_exports",
    "certification.take_readiness_snapshot",
    "certification.send_weekly_reports",
    "certification.resend_stuck_exports",
    "certification.expire_certifications",
    "certification.notify_expiring_certifications",
    "certification.refresh_readiness_summaries",
)
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_QUEUES = (Queue("interactive"), Queue("bulk"))
CELERY_TASK_ROUTES = {name: {"queue": "bulk"} for name in CELERY_BULK_TASKS}
# A late-ack task whose pool process dies (killed, out of memory) goes back to the queue
# instead of being acknowledged as failed: it is safe to run twice, and must not be lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the hard time limit, so an unacknowledged late-ack task is not redelivered
    # while it is still running.
    "visibility_timeout": 60 * 60,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A web request must not hang on a Redis that has gone away: publishing a task, and
# subscribing to its result when it keeps one, give up after about a second (the result
# backend's own default is 20 retries a second apart).
_FAST_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_PUBLISH_RETRY_POLICY = _FAST_RETRY
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _FAST_RETRY}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Every task goes through the outbox (config/celery.py): published as its transaction commits,
# giving up after this many seconds (a request never waits longer on a dead broker), or else
# by the outbox sweep a minute later. Sent messages are kept this many days, for inquiry.
OUTBOX_PUBLISH_TIMEOUT = 0.5
OUTBOX_RETENTION_DAYS = 7
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every periodic task, declared here; django-celery-beat's scheduler stores and runs them.
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "certification.outbox_sweep",
        "schedule": 60.0,  # sends what a broker outage held back, a minute after it ends
        "options": {"expires": 55},
    },
    "send-notification-emails": {
        "task": "certification.send_notification_emails",
        "schedule": 5 * 60.0,  # each email is due inside its recipient's working hours
        "options": {"expires": 4 * 60},
    },
    "notify-expiring-certifications": {
        "task": "certification.notify_expiring_certifications",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
    "close-overdue-attempts": {
        "task": "certification.close_overdue_attempts",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "recompute-all-tiers": {
        "task": "certification.recompute_all_tiers",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 6 * 60 * 60},
    },
    "allocate-support-starting-today": {
        "task": "certification.allocate_support_starting_today",
        "schedule": crontab(hour=2, minute=45),  # after recompute-all-tiers
        "options": {"expires": 6 * 60 * 60},
    },
    "send-weekly-reports": {
        "task": "certification.send_weekly_reports",
        "schedule": crontab(minute=20),  # hourly: each recipient in their own working hours
        "options": {"expires": 55 * 60},
    },
    "purge-expired-exports": {
        "task": "certification.purge_expired_exports",
        "schedule": crontab(minute=5),  # hourly
        "options": {"expires": 55 * 60},
    },
    "resend-stuck-exports": {
        "task": "certification.resend_stuck_exports",
        "schedule": 10 * 60.0,
        "options": {"expires": 9 * 60},
    },
    "expire-certifications": {
        "task": "certification.expire_certifications",
        "schedule": crontab(minute=10),  # hourly; live reads already treat a lapsed one as expired
        "options": {"expires": 55 * 60},
    },
    "refresh-readiness-summaries": {
        "task": "certification.refresh_readiness_summaries",
        # Stale rows are counted live meanwhile, so this is about speed, not correctness.
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "take-readiness-snapshot": {
        "task": "certification.take_readiness_snapshot",
        "schedule": crontab(hour=3, minute=15),  # after recompute-all-tiers: today's tiers
        "options": {"expires": 6 * 60 * 60},
    },
}
CELERY_TIMEZONE = TIME_ZONE

# Recertification: a rep may re-earn an active certification this many days before it
# expires; the new one replaces it and the old one stays as expired history.
CERTIFICATION_RENEWAL_WINDOW_DAYS = 60

# Email: console in development, SMTP in production; EMAIL_* variables configure it.
MAILERS = mailers_from_env(SMTP_BACKEND)
# Where people reach this deployment: the links in emails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "RepReady <repready@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Verifiable credentials (Open Badges 3.0 as VC-JWT, docs/lifecycle.md): the issuer's name, and
# the private key that signs them, whose public half /.well-known/jwks.json publishes. Without
# a key, local and test settings sign with a development key derived from SECRET_KEY;
# production refuses to start.
CREDENTIAL_ISSUER_NAME = env_str("CREDENTIAL_ISSUER_NAME", "RepReady").strip() or "RepReady"
CREDENTIAL_SIGNING_KEY = env_signing_key("CREDENTIAL_SIGNING_KEY", "CREDENTIAL_SIGNING_KEY_FILE")
# Public keys of rotated-out signing keys, still published so what they signed verifies.
CREDENTIAL_RETIRED_KEYS = env_public_keys("CREDENTIAL_RETIRED_KEYS", "CREDENTIAL_RETIRED_KEYS_FILE")
CREDENTIAL_DEVELOPMENT_KEY = False

# API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in, as out: nested input (lists of ratings, sections) has no form encoding. Upload
    # endpoints name their own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"auth": env_throttle_rate("API_AUTH_THROTTLE", "20/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "accounts.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", default=365, minimum=1)
API_TOKEN_DEFAULT_DAYS = env_int(
    "API_TOKEN_DEFAULT_DAYS",
    default=min(90, API_TOKEN_MAX_DAYS),
    minimum=1,
    maximum=API_TOKEN_MAX_DAYS,
)

SPECTACULAR_SETTINGS = {
    "TITLE": "RepReady API",
    "DESCRIPTION": (
        "Sales-rep certification, tiers and readiness. Authenticate with "
        "`POST /api/v1/auth/token/` and send `Authorization: Token <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TeamKindEnum": "accounts.models.Team.Kind",
        "SubjectKindEnum": "certification.models.catalog.Subject.Kind",
        "QuestionKindEnum": "certification.models.exams.Question.Kind",
        "ScenarioKindEnum": "certification.models.assessments.Scenario.Kind",
        "InteractionKindEnum": "certification.models.signoffs.InteractionKind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Tests: answers and finishes are accepted this long after the deadline (network latency).
EXAM_GRACE_SECONDS = env_int("EXAM_GRACE_SECONDS", default=15, minimum=0)

# Demo data builders run by `manage.py seed_demo`, in order.
DEMO_SEEDERS = [
    "accounts.demo.seed",
    "certification.demo.seed",
    "certification.demo_assessments.seed",
    "certification.demo_tiers.seed",
    "certification.demo_support.seed",
    "certification.demo_reports.seed",
    "certification.demo_lifecycle.seed",
    "certification.demo_notifications.seed",
    "certification.demo_reports.seed_summaries",  # last: summarises what the others made
]
