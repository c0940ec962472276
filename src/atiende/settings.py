"""One settings module, driven by environment variables.

Settings are infrastructure (where the database is, how mail leaves); policy (auto-close hours,
attachment limits) lives in the database, editable by administrators.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

# Lets the admin's and the ORM's generic classes be subscripted at run time, as mypy wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    """A string from the environment; `NAME_FILE` names a file holding it (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("ATIENDE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated into the data dir on first start and kept."""
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
# Demo mode loads demo data and shows outgoing mail at /demo/correo/; never in production.
DEMO = env_bool("ATIENDE_DEMO")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "axes",
    "ninja",
    "atiende.accounts",
    "atiende.tickets",
    "atiende.mail",
    "atiende.portal",
    "atiende.console",
    "atiende.search",
    "atiende.jobs",
    "atiende.api",
    "atiende.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "atiende.core.middleware.RequestSizeLimitMiddleware",
    "atiende.api.http.MethodNotAllowedAsProblem",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "atiende.accounts.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "atiende.accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "atiende.urls"
WSGI_APPLICATION = "atiende.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atiende.portal.context_processors.atiende",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'atiende.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue behind busy_timeout instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: it pays off for analytic queries over millions of rows, not for ours, which read
    # a few hundred; its compile time is counted from the planner's estimate, and the staff
    # search (whose subqueries the planner cannot size) spent 570 of 640 ms compiling at a
    # million tickets (bench/pages.py). Per connection, so the server's setting stays as is.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}
        if env_str("REDIS_URL")
        else {
            # A database cache is shared by every app server of one database: throttles and
            # presence must never live in process memory.
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "atiende_cache",
        }
    )
}

# The background worker's queue: SQLite in the data dir by default (no extra server on one
# machine), Redis when REDIS_URL is set (several machines). ATIENDE_TASKS_IMMEDIATE runs tasks
# inline instead (tests).
HUEY: dict[str, object] = {
    "name": "atiende",
    "immediate": env_bool("ATIENDE_TASKS_IMMEDIATE"),
    "results": False,
    "utc": True,
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if env_str("REDIS_URL"):
    HUEY.update({"huey_class": "huey.RedisHuey", "url": env_str("REDIS_URL")})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "queue.sqlite3")})

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:ticket_list"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 2)

# Repeated login failures are slowed down per account and per IP: after AXES_FAILURE_LIMIT
# failures from one of them, that account or IP waits AXES_COOLOFF_TIME before trying again.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 10) / 60
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "atiende.accounts.views.login_locked_out"
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_VERBOSE = False

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "atiende_language"
TIME_ZONE = env_str("TIME_ZONE", "America/Mexico_City")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]


def attachment_storage_settings() -> dict[str, object]:
    """Attachments (and API uploads): a private S3-compatible bucket when ATIENDE_S3_BUCKET is
    set — what several app servers need, as nothing may live on one machine's disk — else
    the `attachments` folder in the data dir. See atiende.core.storage."""
    bucket = env_str("ATIENDE_S3_BUCKET")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(DATA_DIR / "attachments"), "base_url": None},
        }
    endpoint_url = env_str("ATIENDE_S3_ENDPOINT_URL")
    return {
        "BACKEND": "atiende.core.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Unset: AWS itself. Set: MinIO, Ceph RGW or any S3-compatible server.
            "endpoint_url": endpoint_url or None,
            "region_name": env_str("ATIENDE_S3_REGION", "us-east-1"),
            # Unset: botocore's own chain (AWS_* variables, instance or pod role).
            "access_key": env_str("ATIENDE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("ATIENDE_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("ATIENDE_S3_PREFIX").strip("/"),
            # Other servers than AWS are mostly reached by path (MinIO's default).
            "addressing_style": env_str("ATIENDE_S3_ADDRESSING_STYLE")
            or ("path" if endpoint_url else "auto"),
        },
    }


STORAGES = {
    "default": attachment_storage_settings(),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploads above this size are streamed to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The hard cap on a whole request body with uploads; per-file and per-ticket limits are per
# department in the database and are checked before anything is stored.
ATIENDE_MAX_REQUEST_BYTES = env_int("ATIENDE_MAX_REQUEST_MB", 60) * 1024 * 1024

# Public ticket references: PREFIX-XXXX-XXXX.
ATIENDE_TICKET_PREFIX = env_str("ATIENDE_TICKET_PREFIX", "ATN").upper()

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEMO or DEBUG or not env_str("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atiende <soporte@atiende.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of our own Message-IDs, so replies can be threaded back to tickets.
ATIENDE_MAIL_DOMAIN = env_str("ATIENDE_MAIL_DOMAIN", "atiende.localhost")
# Webhook deliveries leave through the same outbox; each POST waits at most this long for the
# receiver (to connect, and between bytes of its answer).
ATIENDE_WEBHOOK_TIMEOUT_SECONDS = env_int("ATIENDE_WEBHOOK_TIMEOUT_SECONDS", 10)

# Mail in. The authserv-id our own receiving server writes in Authentication-Results: only
# those headers are believed (RFC 8601); any other is ignored and stripped.
ATIENDE_MAIL_AUTHSERV_ID = env_str("ATIENDE_MAIL_AUTHSERV_ID")
ATIENDE_MAIL_MAX_MB = env_int("ATIENDE_MAIL_MAX_MB", 30)
ATIENDE_MAIL_MAX_PARTS = env_int("ATIENDE_MAIL_MAX_PARTS", 200)
ATIENDE_MAIL_MAX_DEPTH = env_int("ATIENDE_MAIL_MAX_DEPTH", 10)
ATIENDE_MAIL_MAX_HEADER_KB = env_int("ATIENDE_MAIL_MAX_HEADER_KB", 256)
# More messages than this in an hour from one sender go to quarantine (a loop or a flood).
ATIENDE_MAIL_SENDER_HOURLY_LIMIT = env_int("ATIENDE_MAIL_SENDER_HOURLY_LIMIT", 30)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO with its full URL, which may carry a receiver's token.
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
