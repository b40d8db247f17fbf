"""Handoff settings: one module, every deploy-specific value from the environment.

Defaults give a laptop setup that needs nothing running (SQLite, Celery's
file-system broker). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
DEBUG=false and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; a typo raises instead of silently meaning False."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=True)

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
# Keys that were ever published (defaults in this repository's history): never valid in production.
PUBLIC_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-in-production-please-0123456789abcdefghijklmnop", "collectstatic-only"}


def insecure_secret_key_reason(key: str) -> str | None:
    """Why a key must not sign production sessions (Django's own check --deploy rule, plus known keys)."""
    if not key:
        return "SECRET_KEY must be set when DEBUG is false"
    if key in PUBLIC_SECRET_KEYS or key.startswith("django-insecure"):
        return "SECRET_KEY is a published example key"
    if len(key) < 50 or len(set(key)) < 5:
        return "SECRET_KEY is too short or too simple (50+ random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    return None


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEBUG and (reason := insecure_secret_key_reason(SECRET_KEY)):
    raise ImproperlyConfigured(reason)
if not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "tickets",
    "tickets.notifications",
    "escalation",
    "escalation.sla",
    "escalation.whatif",
    "knowledgebase",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "tickets.middleware.ApiNotFoundAsJsonMiddleware",
    "tickets.middleware.ConfigOperationMiddleware",
    "tickets.middleware.UserTimezoneMiddleware",
    "tickets.middleware.RejectNullCharactersMiddleware",
    # Last, so that it turns a locked-out sign-in (page or API) into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "tickets.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the writer, a write
    # transaction takes its lock up front (IMMEDIATE) and waits up to the busy timeout for
    # another writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
        }
    )
    # The dashboard's covering indexes (Index.include) are PostgreSQL's; SQLite builds them
    # without the included columns, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tickets.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out client before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permissions only: a user's and their groups' permissions in one query (ModelBackend: two).
    # ModelBackend still checks passwords and names every session, old and new (helpdesk/backends.py).
    "helpdesk.backends.PermissionsInOneQuery",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock out a username from one address after AXES_FAILURE_LIMIT wrong passwords, on /login/, the
# admin and POST /api/v1/auth/token/ alike. Per username+address, so a typo-prone office behind one
# NAT address does not lock everyone, and an attacker cannot lock a user out from elsewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "helpdesk.auth.lockout_response"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# Lockouts are still logged; this only drops the start-up banner every manage.py command printed.
AXES_VERBOSE = False

# The sign-in page lists the demo accounts only where they exist (make run, or DEMO_DATA=1).
SHOW_DEMO_ACCOUNTS = env_bool("DEMO_DATA", default=DEBUG)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Attachments: what a ticket accepts.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = env_list(
    "ATTACHMENT_ALLOWED_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/json",
        "application/zip",
        "message/rfc822",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024

# API tokens (django-rest-knox): stored hashed, expire after API_TOKEN_TTL_HOURS, revoked at logout.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10)),
    "AUTH_HEADER_PREFIX": "Token",
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "helpdesk.token_auth.TokenAuthentication",  # knox's, without a read of all the user's tokens per request
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "helpdesk.schema.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
    # Password guessing on POST /api/v1/auth/token/ from one client, before axes even counts it.
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("AUTH_THROTTLE_RATE", "30/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": "Tier 1 → Tier 2 help desk: intake, escalation, SLA and knowledge base.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ImpactEnum": "tickets.models.Impact",
        "UrgencyEnum": "tickets.models.Urgency",
        "PriorityEnum": "tickets.models.Priority",
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "ArticleStatusEnum": "knowledgebase.models.ArticleStatus",
        "EscalationOutcomeEnum": "escalation.models.Outcome",
        "StepOutcomeEnum": "knowledgebase.models.StepOutcome",
    },
}

# Celery: Redis when REDIS_URL/CELERY_BROKER_URL is set, else the file-system
# transport under var/, so `make run` needs no service running.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "filesystem://"
CELERY_BROKER_FOLDER = Path(os.environ.get("CELERY_BROKER_FOLDER", BASE_DIR / "var" / "broker"))
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "out"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "out"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Publishing must never hang a web request when the broker is down: the
# outbox row is already committed and a periodic task picks it up later.
CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("max_retries", 1)
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# The beat schedule: one dict, each entry named (apps add theirs here).
CELERY_BEAT_SCHEDULE = {
    # Expires: a copy beat queued while the worker was busy is dropped, never run late in a pile.
    "sla-sweep": {"task": "escalation.sla.tasks.sla_sweep_task", "schedule": 60.0, "options": {"expires": 55}},
    "notifications-redeliver": {
        "task": "tickets.notifications.tasks.notifications_redeliver_task",
        "schedule": 60.0,
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Handoff <helpdesk@localhost>")
# SMTP must not hold a delivery worker forever (delivery happens outside any transaction).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Absolute links in emails and webhooks.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Notification delivery (tickets/notifications/delivery.py).
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)
# A row left in "sending" this long (worker killed mid-delivery) is claimed again.
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env_int("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", 600)
# After a failed publish, this process stops trying the broker for a while (the sweep delivers).
NOTIFICATIONS_BROKER_BACKOFF_SECONDS = env_int("NOTIFICATIONS_BROKER_BACKOFF_SECONDS", 30)

# Webhooks to loopback, link-local and private addresses are refused (at save and at send) unless
# this is on: for a chat tool inside your own network, or the local receiver in the test suite.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Signs webhooks that have a bare URL rather than an admin-configured endpoint (SLA ladder levels).
NOTIFICATIONS_WEBHOOK_SECRET = os.environ.get("NOTIFICATIONS_WEBHOOK_SECRET", "")
# Route per-row delivery tasks to a dedicated queue (empty: Celery's default queue).
NOTIFICATIONS_TASK_QUEUE = os.environ.get("NOTIFICATIONS_TASK_QUEUE", "")

# Inbound email (tickets/notifications/inbound.py): IMAP mailbox, or `fetch_mail --maildir PATH`.
INBOUND_IMAP_HOST = os.environ.get("INBOUND_IMAP_HOST", "")
INBOUND_IMAP_PORT = env_int("INBOUND_IMAP_PORT", 993)
INBOUND_IMAP_USER = os.environ.get("INBOUND_IMAP_USER", "")
INBOUND_IMAP_PASSWORD = os.environ.get("INBOUND_IMAP_PASSWORD", "")
INBOUND_IMAP_FOLDER = os.environ.get("INBOUND_IMAP_FOLDER", "INBOX")
INBOUND_IMAP_SSL = env_bool("INBOUND_IMAP_SSL", default=True)
INBOUND_IMAP_TIMEOUT = env_int("INBOUND_IMAP_TIMEOUT", 30)
# Mail from an address no account has: "create" a requester account, or "reject" it.
INBOUND_UNKNOWN_SENDERS = os.environ.get("INBOUND_UNKNOWN_SENDERS", "create")
if INBOUND_UNKNOWN_SENDERS not in {"create", "reject"}:
    raise ImproperlyConfigured(f"INBOUND_UNKNOWN_SENDERS={INBOUND_UNKNOWN_SENDERS!r}: use create or reject")
INBOUND_DEFAULT_CATEGORY = os.environ.get("INBOUND_DEFAULT_CATEGORY", "email")
# The mailbox replies come back to; outgoing mail gives each ticket its own signed variant of it
# (support+HD-000123.<token>@domain) as Reply-To. Empty: the address of DEFAULT_FROM_EMAIL.
INBOUND_REPLY_ADDRESS = os.environ.get("INBOUND_REPLY_ADDRESS", "")
INBOUND_FETCH_INTERVAL_SECONDS = env_int("INBOUND_FETCH_INTERVAL_SECONDS", 60)
if INBOUND_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["inbound-fetch-mail"] = {
        "task": "tickets.notifications.tasks.inbound_fetch_mail_task",
        "schedule": float(INBOUND_FETCH_INTERVAL_SECONDS),
    }

# Production hardening (all on when DEBUG is false; `check --deploy` passes).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): scripts and stylesheets only from our own origin, no inline
# script anywhere (all JS lives in static/). Inline style *attributes* stay allowed: templates size
# bars with them, and they cannot run code; <style> elements are not allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# SLA what-if: a draft over more tickets than this runs as a Celery task the page polls.
WHATIF_INLINE_TICKETS = env_int("WHATIF_INLINE_TICKETS", 1500)
