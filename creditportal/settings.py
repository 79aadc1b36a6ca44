"""CreditPortal settings: one module, driven by environment variables.

Every variable is listed, with its default, in `.env.example`. The defaults are those of a
production deployment, so that a naive one is a safe one: DEBUG off, a secret key required,
HTTPS only (redirect, HSTS, secure cookies), a Content-Security-Policy. Development is asked
for with `DJANGO_DEBUG=true`, which the Makefile sets for `make run` and `make test`. The
other defaults need nothing installed (SQLite, an embedded broker, files under `var/`);
production switches each of them by environment, never by editing this file.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file; CREDITPORTAL_ENV_FILE names another file
# (tests of the production defaults point it at /dev/null).
environ.Env.read_env(os.environ.get("CREDITPORTAL_ENV_FILE", BASE_DIR / ".env"), overwrite=False)


def env_path(name: str, default: Path) -> Path:
    """A directory from the environment; a relative one is taken from the repository root."""
    path = Path(env.str(name, default=str(default))).expanduser()
    return path if path.is_absolute() else BASE_DIR / path


INSECURE_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY (a long random string) to run in production, or "
        "DJANGO_DEBUG=true on a developer's machine (`make run` and `make test` set it)."
    )
# Keys that encrypt national ids at rest (applicants/encryption.py): the first encrypts, all
# decrypt, so a new key goes first and an old one leaves after `rotate_field_encryption`.
# Development uses a fixed public key (base64 of "dev-only-insecure-field-key-32b!") that
# production refuses.
INSECURE_DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZmllbGQta2V5LTMyYiE="  # noqa: S105
CREDITPORTAL_FIELD_ENCRYPTION_KEYS = env.list(
    "CREDITPORTAL_FIELD_ENCRYPTION_KEYS",
    default=[INSECURE_DEV_FIELD_ENCRYPTION_KEY] if DEBUG else [],
)
if not DEBUG and (
    not CREDITPORTAL_FIELD_ENCRYPTION_KEYS
    or INSECURE_DEV_FIELD_ENCRYPTION_KEY in CREDITPORTAL_FIELD_ENCRYPTION_KEYS
):
    raise ImproperlyConfigured(
        "Set CREDITPORTAL_FIELD_ENCRYPTION_KEYS to run in production (make one with: python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Where the app writes: the SQLite file, the embedded broker's folders, uploaded files and
# model artifacts. Media goes through Django's storage API, so it can move to shared storage.
VAR_DIR = env_path("CREDITPORTAL_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)  # also holds the beat schedule of `make run`
MEDIA_ROOT = env_path("DJANGO_MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"

# Training extracts (the public datasets); absent on a fresh machine, and that is fine.
CREDITPORTAL_DATA_DIR = env_path("CREDITPORTAL_DATA_DIR", BASE_DIR.parent / "shared" / "data")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    # Unused: its migrations stay because applicants/0003 depends on them, and
    # creditportal/0002 emptied its table of clear-text tokens. API tokens are knox's.
    "rest_framework.authtoken",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "creditportal",
    "applicants",
    "scoring",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in user on the change history of applicants and applications.
    "simple_history.middleware.HistoryRequestMiddleware",
    "creditportal.middleware.IdleSessionTimeout",
    # Two-factor: which device verified this session, then everyone who needs one gives it.
    "django_otp.middleware.OTPMiddleware",
    "creditportal.middleware.SecondFactorRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "creditportal.middleware.PrivatePagesNotStored",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "creditportal.urls"
WSGI_APPLICATION = "creditportal.wsgi.application"

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
                "creditportal.context_processors.roles",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL (or anything Django supports) through DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)  # custom path
    # WAL lets the web process read while a Celery worker writes; IMMEDIATE transactions take
    # the write lock up front, so two writers wait (up to `timeout` s) instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Persistent connections, for SQLite too: closing the last connection to a WAL database
# checkpoints it (an fsync), which per request cost more than the request itself.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out username/IP pair is refused before the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "applicants:list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 failures for one username from one IP lock that pair
# out for 15 minutes; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Proxies in front of the web processes that append the client's address to X-Forwarded-For
# (a load balancer, nginx): 0 when clients connect directly. The client's address, for the
# login lockout and the API's throttling alike, is read by creditportal.network.client_ip.
CREDITPORTAL_TRUSTED_PROXIES = env.int("CREDITPORTAL_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "creditportal.network.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The API answers a lockout (on POST /api/v1/auth/token/) in its own JSON error format.
AXES_LOCKOUT_CALLABLE = "creditportal.api.exceptions.axes_lockout_response"

# Two-factor authentication (django-otp, TOTP; creditportal/two_factor.py). When on, credit
# managers and administrators give a code from an authenticator app after their password
# (portal and API token alike); on in production, off in development (the demo) unless set.
# Anyone may turn it on for themselves on their account page.
CREDITPORTAL_REQUIRE_2FA = env.bool("CREDITPORTAL_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "CreditPortal"  # the name authenticator apps show
# The admin lists devices without their secret keys or QR codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HTTPS only, unless in development. Behind a proxy that terminates TLS, set
# DJANGO_SECURE_PROXY_SSL_HEADER=true so that the proxy's X-Forwarded-Proto is believed (and
# make sure the proxy sets it: docs/deployment.md).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers probe over plain HTTP
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# A portal session ends after SESSION_IDLE_SECONDS without a request of its user (a page's
# own polling does not count: creditportal.middleware.IdleSessionTimeout), and in any case
# SESSION_COOKIE_AGE after signing in.
SESSION_IDLE_SECONDS = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_SECONDS", default=8 * 3600)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from this site's static files, nothing
# framed, no plugins. Styles allow inline ones: the dashboard's charts are inline SVG whose
# drawing carries style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): no page needs a device or sensor.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# Celery. With REDIS_URL set, Redis is the broker and result store (production). Without it,
# kombu's filesystem transport keeps messages as files under var/broker/: a real worker process
# consumes them, and nothing has to be installed or started by hand.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = env_path("CELERY_BROKER_DIR", VAR_DIR / "broker")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle worker looks for new message files (kombu's default is 1 s).
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.2),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_BROKER_DIR / 'results'}"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A publish to an unreachable broker fails within seconds (the user gets a 503), not minutes.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# Periodic work (run exactly one `celery -A creditportal beat`): re-queue jobs whose worker
# died, and start the periodic retraining that managers switched on.
CELERY_BEAT_SCHEDULE = {
    "recover-orphaned-jobs": {
        "task": "scoring.recover_orphaned_jobs",
        "schedule": env.float("CREDITPORTAL_JOB_RECOVERY_SECONDS", default=60.0),
    },
    "periodic-retraining": {
        "task": "scoring.start_due_retraining",
        "schedule": env.float("CREDITPORTAL_RETRAINING_CHECK_SECONDS", default=900.0),
    },
    # Dashboard: a monitoring snapshot (PSI, realised performance, alerts) per production model,
    # and the daily roll-up of predictions that the portfolio page reads.
    "monitoring-snapshots": {
        "task": "dashboard.take_monitoring_snapshots",
        "schedule": env.float("CREDITPORTAL_MONITORING_SECONDS", default=3600.0),
    },
    "portfolio-roll-up": {
        "task": "dashboard.roll_up_predictions",
        "schedule": env.float("CREDITPORTAL_ROLLUP_SECONDS", default=900.0),
    },
    # Bulk jobs' uploaded files and results past BATCH_FILE_RETENTION_DAYS.
    "purge-expired-job-files": {
        "task": "scoring.purge_expired_job_files",
        "schedule": env.float("CREDITPORTAL_FILE_PURGE_SECONDS", default=3600.0),
    },
}
# Days of predictions each monitoring snapshot compares with the training data.
MONITORING_WINDOW_DAYS = env.int("CREDITPORTAL_MONITORING_WINDOW_DAYS", default=30)

# Background jobs (docs/jobs.md). Uploads are refused above these sizes.
MAX_TRAINING_UPLOAD_MB = env.int("CREDITPORTAL_MAX_TRAINING_UPLOAD_MB", default=200)
# A training upload up to this size is cleaned in the request (under a second); a larger one
# by a worker (cleaning holds the whole file: ~14 MB/s and ~7 bytes of memory per byte).
TRAINING_INLINE_VALIDATION_MB = env.int("CREDITPORTAL_TRAINING_INLINE_VALIDATION_MB", default=10)
MAX_BATCH_UPLOAD_MB = env.int("CREDITPORTAL_MAX_BATCH_UPLOAD_MB", default=400)
# Files are capped while they stream in (creditportal/uploads.py): past its view's limit a
# file is neither kept in memory nor written to disk.
FILE_UPLOAD_HANDLERS = [
    "creditportal.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Columns an uploaded CSV (training or bulk) may have: the widest scorecard has 23 fields,
# so this leaves room for ids and other carried-through columns. Checked at the header, in
# the request.
UPLOAD_MAX_COLUMNS = env.int("CREDITPORTAL_UPLOAD_MAX_COLUMNS", default=300)
# Rows read, scored and committed together: a crash loses at most one chunk of work.
BATCH_CHUNK_ROWS = env.int("CREDITPORTAL_BATCH_CHUNK_ROWS", default=10_000)
# ... or fewer: a chunk also ends after about this many MB of input, so a file of very wide
# rows or very long values is read in chunks no larger than usual.
BATCH_CHUNK_MB = env.int("CREDITPORTAL_BATCH_CHUNK_MB", default=4)
# Processes that score a bulk job's chunks while its worker reads the file and commits
# (scoring/jobs/pipeline.py); 1 scores in the worker process itself.
BATCH_SCORING_PROCESSES = env.int(
    "CREDITPORTAL_BATCH_SCORING_PROCESSES", default=min(os.cpu_count() or 1, 2)
)
# Days a finished bulk job keeps its uploaded file and result CSV (applicants' personal
# data); then both are deleted and the job keeps its counts, predictions and row errors.
# 0 keeps them for ever.
BATCH_FILE_RETENTION_DAYS = env.int("CREDITPORTAL_BATCH_FILE_RETENTION_DAYS", default=30)
# Every worker writes a heartbeat this often; the pages say "no worker is running" when
# none has written one for three times as long (creditportal/workers.py).
WORKER_HEARTBEAT_SECONDS = env.int("CREDITPORTAL_WORKER_HEARTBEAT_SECONDS", default=30)
# A running job whose heartbeat is older than this is taken to have lost its worker.
JOB_STALE_SECONDS = env.int("CREDITPORTAL_JOB_STALE_SECONDS", default=600)
# A job re-queued after its worker died this many times is failed instead.
JOB_MAX_ATTEMPTS = env.int("CREDITPORTAL_JOB_MAX_ATTEMPTS", default=3)

# Cache: throttling counters of the REST API. The default is per process; with several web
# processes set a shared one (e.g. DJANGO_CACHE_URL=redis://host:6379/1) so limits are global.
CACHES = {"default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://")}
# Dashboard charts (SVG): drawn once and shared by the web processes and workers of a machine
# (workers draw them as soon as a snapshot or profile is computed). With several machines,
# point it at a shared cache, e.g. DJANGO_CHART_CACHE_URL=redis://host:6379/2.
CACHES["charts"] = env.cache_url(
    "DJANGO_CHART_CACHE_URL", default=f"filecache://{VAR_DIR / 'chart-cache'}"
)
CACHES["charts"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 5000)

# REST API under /api/v1/ (creditportal/api_router.py). Clients authenticate with a token
# (POST /api/v1/auth/token/), the browsable API with the portal's session. Every list is
# paginated and filtered with django-filter; every error has one JSON shape
# (creditportal/api/exceptions.py); requests are throttled per user and per anonymous address.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header is what makes an anonymous request a 401.
        "creditportal.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "creditportal.api.base.ActionPermissions",
    ],
    "DEFAULT_PARSER_CLASSES": ["creditportal.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "creditportal.api.base.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=25),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "creditportal.api.throttling.AnonRateThrottle",
        "creditportal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON_RATE", default="60/minute"),
        "user": env.str("API_THROTTLE_USER_RATE", default="1200/minute"),
    },
    "EXCEPTION_HANDLER": "creditportal.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=100)

# API tokens (django-rest-knox, creditportal/api/auth.py): stored as SHA-512 digests, one per
# named client, valid for CREDITPORTAL_API_TOKEN_TTL_HOURS from issue (no sliding renewal: no
# write per request), at most CREDITPORTAL_API_TOKENS_PER_USER unexpired ones per user.
API_TOKEN_TTL_HOURS = env.float("CREDITPORTAL_API_TOKEN_TTL_HOURS", default=10)
if not API_TOKEN_TTL_HOURS > 0:
    raise ImproperlyConfigured("CREDITPORTAL_API_TOKEN_TTL_HOURS must be a positive number.")
KNOX_TOKEN_MODEL = "creditportal.ApiToken"
# knox's own migrations create its table even though ApiToken replaces it (swapped), and
# that unused table's foreign key to users stops PostgreSQL from emptying the user table
# (flush, TRUNCATE). Without its migrations nothing of knox's is created: its only model is
# the swapped one.
MIGRATION_MODULES = {"knox": None}
API_TOKENS_PER_USER = env.int("CREDITPORTAL_API_TOKENS_PER_USER", default=10)
if API_TOKENS_PER_USER < 1:
    raise ImproperlyConfigured("CREDITPORTAL_API_TOKENS_PER_USER must be at least 1.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "TOKEN_LIMIT_PER_USER": API_TOKENS_PER_USER,
    "AUTO_REFRESH": False,
}
# A user's resolved permissions are reused by a web process for this long while who may do
# what is unchanged; any change made through Django applies to the next request in every
# process (creditportal/api/auth.py). 0: resolved on every request.
API_AUTH_CACHE_SECONDS = env.int("API_AUTH_CACHE_SECONDS", default=30)

# OpenAPI 3 schema at /api/schema/, Swagger UI at /api/docs/ with its assets served from
# drf-spectacular-sidecar's static files (no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "CreditPortal API",
    "DESCRIPTION": (
        "Score credit applicants, keep every prediction as an audit record and record "
        "decisions, as the user that owns the token and with that user's permissions. "
        'Every error has the body `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs are for API clients: signed in (token or session) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "applicants.models.Application.Status",
        "ModelVersionStatusEnum": "scoring.models.ModelVersion.Status",
        "RecommendationEnum": "scoring.models.Recommendation",
        # Every background job (bulk scoring, retraining) has the same states.
        "JobStatusEnum": "scoring.jobs.models.JobStatus",
    },
    # One operation per scorecard known when the schema is generated (`POST
    # /scorecards/{key}/score/` for each key), each with its own request body.
    "PREPROCESSING_HOOKS": ["scoring.api.views.scorecard_score_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "creditportal.api.base.document_error_responses",
        "creditportal.api.base.document_strict_bodies",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
