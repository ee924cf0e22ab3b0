"""Vaidya settings.

Every setting is read from the environment (or a `.env` file beside `manage.py`) through
django-environ, and every one has a default that works on a developer's machine: SQLite in the
data folder, the django-q2 ORM broker and local file storage. `.env.example` documents them all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.settings_backups import backup_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The data folder holds patients' records: the SQLite database (and the -wal and -shm files
# SQLite adds beside it), local uploads, logs, rate-limit state and the keys. Every Vaidya process
# (web, workers, commands) reads these settings first, so the umask here makes every file and
# folder they create private to the account Vaidya runs as, without each writer (SQLite among
# them, which takes its mode from the umask) having to remember a mode.
os.umask(0o077)
DATA_DIR = Path(env.str("VAIDYA_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# A folder made by an older version (0755) is closed too; one we do not own is left as it is.
with contextlib.suppress(PermissionError):
    DATA_DIR.chmod(0o700)


# `manage.py check_deploy` and the key generators read the keys but never make them: manage.py
# sets this for them, so checking or preparing a configuration leaves no key in the data folder.
KEYS_READ_ONLY = env.bool("VAIDYA_KEYS_READ_ONLY", default=False)


def _key_file(name: str, make) -> str:
    """The key kept in the data folder under `name`, made once by `make()` when missing (or ""
    when the keys are read-only)."""
    key_file = DATA_DIR / name
    if not key_file.exists():
        if KEYS_READ_ONLY:
            return ""
        key_file.write_text(make())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, or one generated once into the data folder."""
    return env.str("SECRET_KEY", default="") or _key_file(
        "secret_key", lambda: secrets.token_urlsafe(50)
    )


SECRET_KEY = _secret_key()
# Earlier keys, still accepted after SECRET_KEY changes (sessions, reset links, backup codes).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])


def _encryption_keys() -> list[str]:
    """ENCRYPTION_KEYS from the environment (newest first), or one key generated into the data
    folder. The keys encrypt secrets (WhatsApp tokens) and, on local storage, every file."""
    keys = env.list("ENCRYPTION_KEYS", default=[])
    if keys:
        return keys
    key = _key_file("encryption_key", lambda: Fernet.generate_key().decode("ascii"))
    return [key] if key else []


ENCRYPTION_KEYS = _encryption_keys()


def _audit_keys() -> list[str]:
    """AUDIT_KEYS from the environment (newest first), or one key generated into the data
    folder. The first key seals the audit trail (HMAC-SHA256); the others only verify events
    sealed before a rotation. Kept out of the database, so writing the database is not enough to
    rewrite the trail."""
    keys = env.list("AUDIT_KEYS", default=[])
    if keys:
        return keys
    key = _key_file("audit_key", lambda: secrets.token_urlsafe(32))
    return [key] if key else []


AUDIT_KEYS = _audit_keys()


def _backup_keys() -> list[str]:
    """BACKUP_KEYS from the environment (newest first), or one key generated into the data
    folder. They encrypt backup archives (`manage.py backup`), never the data itself; keep a
    copy away from the machine and its archives, or the archives cannot be opened."""
    keys = env.list("BACKUP_KEYS", default=[])
    if keys:
        return keys
    key = _key_file("backup_key", lambda: Fernet.generate_key().decode("ascii"))
    return [key] if key else []


BACKUP_KEYS = _backup_keys()
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of this installation, used in links sent by email or WhatsApp and in the
# verification QR printed on documents. Unset, it is the address `make run` / `run_local` serve
# on (they pass it as LOCAL_SITE_URL), so a demo on another port prints links that open.
SITE_URL = env.str(
    "SITE_URL", default=env.str("LOCAL_SITE_URL", default="http://127.0.0.1:8000")
).rstrip("/")

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
    "django_q",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "phonenumber_field",
    "clinics",
    "patients",
    "compliance",
    "messaging",
    "billing",
]
# Development tools (the local WhatsApp simulator and its `whatsapp_simulator` command): on a
# developer's machine and in tests, never in production. On by default exactly when DEBUG is.
DEVTOOLS = env.bool("DEVTOOLS", default=DEBUG)
if DEVTOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinics.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The staff's language: the cookie `set_language` writes (the switch in the page footer),
    # else the browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "clinics.middleware.RequestContextMiddleware",
    # Last, so that the view runs inside the clinic's scope after the membership check.
    "clinics.middleware.ClinicScopeMiddleware",
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
                "clinics.context_processors.clinic",
                "messaging.context_processors.whatsapp_alert",
            ],
            "builtins": ["clinics.templatetags.vaidya"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'vaidya.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer writes; IMMEDIATE takes the write lock at the start
    # of a transaction so two writers queue on the busy timeout instead of failing with
    # "database is locked" halfway through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # Opening a SQLite file and running the PRAGMAs costs several milliseconds a request
    # (measured on the webhook: 7-9 ms of 11-16); keep each worker thread's connection.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
else:
    # A new PostgreSQL connection per request (or per django-q2 enqueue) costs more than the
    # work itself; keep connections and check them before reuse.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, passwords, login ----------------------------------------------------------------
AUTH_USER_MODEL = "clinics.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "clinic-switch"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

OTP_TOTP_ISSUER = "Vaidya"

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = True
# Under /api/ and /webhooks/ a CSRF refusal is JSON in the API's error shape.
CSRF_FAILURE_VIEW = "clinics.views.csrf_failure"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# HSTS covers Vaidya's own host name. Its sub-domains and the browsers' preload list are the
# operator's choice: Vaidya cannot know what else runs under the name, and a preloaded name
# stays HTTPS-only in browsers for months after it is taken off the list.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Django's deployment checks would ask for both: they are left to the operator on purpose.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# TLS is expected to end at a proxy in front of Vaidya (nginx, Caddy, a load balancer) that
# sets X-Forwarded-Proto: only with BEHIND_TLS_PROXY=true does Vaidya believe that header.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-in"
# Catalogues in locale/<code>/LC_MESSAGES/django.po, compiled to .mo by `make install`. Staff pages
# come in these languages; what a patient reads comes in the patient's preferred language when a
# catalogue exists for it (clinics.languages), else in English.
LANGUAGES = [("en", "English"), ("hi", "हिन्दी")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "vaidya_language"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "IN"
PHONENUMBER_DB_FORMAT = "E164"

# --- Static files and storage ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG

S3_BUCKET = env.str("S3_BUCKET", default="")
# Documents: downloads of S3 objects are presigned URLs valid this long; uploads have a size cap.
DOCUMENT_LINK_SECONDS = env.int("S3_PRESIGN_SECONDS", default=300)
UPLOAD_MAX_MB = env.int("UPLOAD_MAX_MB", default=15)
# Largest image staff may upload, in pixels (read from its header before it is decoded).
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
# How long the document link sent to a patient on WhatsApp keeps working (/d/<token>/).
DOCUMENT_SHARE_LINK_HOURS = env.int("DOCUMENT_SHARE_LINK_HOURS", default=72)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    # Local files are encrypted at rest with ENCRYPTION_KEYS (clinics/storage.py).
    "default": {"BACKEND": "clinics.storage.EncryptedFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
# Ask the store to encrypt each object at rest (x-amz-server-side-encryption: AES256). Cloudflare
# R2 encrypts every object at rest itself and its S3 API does not list that header as
# implemented, so for an R2 endpoint it is not sent unless asked for.
S3_SERVER_SIDE_ENCRYPTION = env.bool(
    "S3_SERVER_SIDE_ENCRYPTION",
    default=not (urlsplit(S3_ENDPOINT_URL).hostname or "").endswith(".r2.cloudflarestorage.com"),
)
if S3_BUCKET:
    # Any S3-compatible store; for Cloudflare R2 set S3_ENDPOINT_URL and S3_REGION=auto.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": env.str("S3_REGION", default="auto"),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=""),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=""),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": DOCUMENT_LINK_SECONDS,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="path"),
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if S3_SERVER_SIDE_ENCRYPTION
            else {},
        },
    }

# --- WhatsApp (Meta Cloud API) ----------------------------------------------------------------
# The Graph API version lives here, never in code. Point WHATSAPP_API_BASE_URL at the local
# simulator (`manage.py whatsapp_simulator`) in development; the client cannot tell.
WHATSAPP_GRAPH_VERSION = env.str("WHATSAPP_GRAPH_VERSION", default="v25.0")
WHATSAPP_API_BASE_URL = env.str("WHATSAPP_API_BASE_URL", default="https://graph.facebook.com")
WHATSAPP_TIMEOUT_SECONDS = env.float("WHATSAPP_TIMEOUT_SECONDS", default=20)
WHATSAPP_CONNECT_TIMEOUT_SECONDS = env.float("WHATSAPP_CONNECT_TIMEOUT_SECONDS", default=5)
WHATSAPP_HTTP_POOL_SIZE = env.int("WHATSAPP_HTTP_POOL_SIZE", default=10)
WHATSAPP_MAX_MEDIA_BYTES = env.int("WHATSAPP_MAX_MEDIA_BYTES", default=100 * 1024 * 1024)
# Messages per second per sending number, held across all workers (Redis, or a file lock).
WHATSAPP_SEND_RATE_PER_SECOND = env.int("WHATSAPP_SEND_RATE_PER_SECOND", default=80)
WHATSAPP_RATE_LIMIT_KEY_PREFIX = env.str("WHATSAPP_RATE_LIMIT_KEY_PREFIX", default="vaidya:")

# --- Razorpay and subscriptions: config/settings_billing.py -------------------------------
from config.settings_billing import *  # noqa: E402, F403

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Vaidya <no-reply@localhost>")

# --- Background tasks (django-q2) -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "vaidya",
    "workers": env.int("Q_WORKERS", default=2),
    "recycle": 500,
    # A task running longer than `timeout` is killed; with the ORM broker one not acknowledged
    # within `retry` is handed out again (Redis has no such redelivery: see TASK_LOST_AFTER).
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "label": "Tasks",
    "sync": env.bool("Q_SYNC", default=False),
}
# Work that waits on a task (a document being prepared, a queued message, a stored webhook)
# longer than this had its task lost (a worker killed while holding it, a broker restart):
# the `vaidya.waiting_work_requeue` schedule enqueues it again (`clinics/recovery.py`). Longer
# than a task may run, so a task still running is never started a second time.
TASK_LOST_AFTER_SECONDS = env.int("TASK_LOST_AFTER_SECONDS", default=Q_CLUSTER["timeout"] + 60)
if Q_CLUSTER["timeout"] >= TASK_LOST_AFTER_SECONDS:
    raise ImproperlyConfigured("TASK_LOST_AFTER_SECONDS must be longer than Q_TIMEOUT.")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://vaidya")
    if not REDIS_URL
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinics.api.authentication.ApiKeyAuthentication",
        "clinics.api.authentication.ClinicSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clinics.api.permissions.ClinicPermission"],
    "DEFAULT_PARSER_CLASSES": ["clinics.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "clinics.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vaidya API",
    "DESCRIPTION": "Clinic operations API for integrators. Authenticate with a clinic API key: "
    "`Authorization: Bearer vdy_...`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set used by several fields (guardian and emergency contact relation).
    "ENUM_NAME_OVERRIDES": {
        "RelationEnum": "patients.models.Relation",
        # "status" names several choice sets: appointments', and visits' (= prescriptions').
        "AppointmentStatusEnum": "patients.models.AppointmentStatus",
        "VisitStatusEnum": "patients.models.VisitStatus",
        # "purpose": what a WhatsApp message is for, and what a patient consents to.
        "MessagePurposeEnum": "messaging.models.MessagePurpose",
        "ConsentPurposeEnum": "compliance.models.ConsentPurpose",
        # "kind" and "status" of a data-rights request.
        "RightsKindEnum": "compliance.models.RightsKind",
        "RightsStatusEnum": "compliance.models.RightsStatus",
        # "kind" and "mode" in billing: catalogue items, bills, payments; how money moves.
        "ItemKindEnum": "billing.models.ItemKind",
        "BillKindEnum": "billing.models.BillKind",
        "PaymentKindEnum": "billing.models.PaymentKind",
        "PaymentModeEnum": "billing.models.PaymentMode",
        "VisitModeEnum": "patients.models.VisitMode",
        "CounterModeEnum": "billing.services.payments.COUNTER_MODE_CHOICES",
    },
}

# --- Error tracking -------------------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Vaidya ---------------------------------------------------------------------------------
# How often (seconds) new audit events are sealed into each clinic's hash chain.
AUDIT_SEAL_INTERVAL_SECONDS = env.int("AUDIT_SEAL_INTERVAL_SECONDS", default=60)
# How often (minutes) each clinic's chain head is published outside the database (a new object
# under audit-heads/ in the document store, and a log line), when it changed.
AUDIT_PUBLISH_INTERVAL_MINUTES = env.int("AUDIT_PUBLISH_INTERVAL_MINUTES", default=15)
# Adds X-Query-Count and X-Server-Time-Ms headers to every response; for the benchmarks only.
QUERY_COUNT_HEADER = env.bool("QUERY_COUNT_HEADER", default=False)
# Backups (`manage.py backup`): config/settings_backups.py.
vars().update(backup_settings(env, data_dir=DATA_DIR, s3_endpoint_url=S3_ENDPOINT_URL))
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# How long an Idempotency-Key is remembered.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every process (web, workers, commands) stamps its lines in UTC with the offset, whatever
    # TIME_ZONE is: 2026-12-06T20:15:03+00:00.
    "formatters": {
        "plain": {
            "()": "config.logs.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
