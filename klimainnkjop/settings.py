"""Django settings. Embedded default: SQLite in the data directory; DATABASE_URL switches to PostgreSQL."""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from klimainnkjop.paths import data_dir

BASE_DIR = Path(__file__).resolve().parent

PRODUCTION = os.environ.get("KLIMAINNKJOP_PRODUCTION", "") == "1"
DEBUG = os.environ.get("KLIMAINNKJOP_DEBUG", "") == "1" and not PRODUCTION
DEFAULT_SECRET_KEY = "embedded-default-not-for-production"  # noqa: S105 - refused in production below
SECRET_KEY = os.environ.get("KLIMAINNKJOP_SECRET_KEY") or DEFAULT_SECRET_KEY
if PRODUCTION and (SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("KLIMAINNKJOP_PRODUCTION=1 needs KLIMAINNKJOP_SECRET_KEY in the environment: at least "
                               "50 random characters, e.g. "
                               "python -c 'import secrets; print(secrets.token_urlsafe(64))'")
# TOTP secrets (and any other EncryptedCharField) are encrypted at rest with KLIMAINNKJOP_FIELD_KEY: Fernet keys,
# comma-separated, the first encrypting (klimainnkjop/storage/encryption.py). Unset, the key is derived from
# SECRET_KEY. A malformed key refuses to start rather than failing at the first sign-in with a second factor.
KLIMAINNKJOP_FIELD_KEY = os.environ.get("KLIMAINNKJOP_FIELD_KEY", "")
if KLIMAINNKJOP_FIELD_KEY:
    from klimainnkjop.storage.encryption import parse_keys

    try:
        parse_keys(KLIMAINNKJOP_FIELD_KEY)
    except ValueError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{exc}; make one with python -c 'from cryptography.fernet import Fernet; "
                                   "print(Fernet.generate_key().decode())'") from None
ALLOWED_HOSTS = [h for h in os.environ.get("KLIMAINNKJOP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
                 if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "klimainnkjop.storage",
    "klimainnkjop.web",
    "csp",
    "django_tasks",
    "django_tasks_db",
]

# Background jobs (django-tasks): reports are made by a worker (`klimainnkjop worker`, started by `serve` unless
# --no-worker) from a queue in the database. KLIMAINNKJOP_TASKS=immediate runs each job inline in the request
# instead (no worker needed; the page waits for the report). The tests run jobs inline (tests/conftest.py).
KLIMAINNKJOP_TASKS = os.environ.get("KLIMAINNKJOP_TASKS", "database")
if KLIMAINNKJOP_TASKS not in ("database", "immediate"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"KLIMAINNKJOP_TASKS={KLIMAINNKJOP_TASKS!r}: give 'database' or 'immediate'")
# Computing follows the data (services/autocompute.py): a change of the data queues a compute run, this many seconds
# later.
KLIMAINNKJOP_AUTO_COMPUTE = os.environ.get("KLIMAINNKJOP_AUTO_COMPUTE", "1") != "0"
KLIMAINNKJOP_COMPUTE_DEBOUNCE = float(os.environ.get("KLIMAINNKJOP_COMPUTE_DEBOUNCE", "30"))
# Compute runs whose result files are kept: the newest this many, and every run a report or a publication names
# (services/compute.do_prune_runs, after each compute and by `maintenance clean`).
KLIMAINNKJOP_KEEP_RUNS = max(1, int(os.environ.get("KLIMAINNKJOP_KEEP_RUNS", "5")))
# An audit action outside core/audit_actions.Action: refused when on (the tests), else recorded with a warning.
KLIMAINNKJOP_STRICT_AUDIT_ACTIONS = os.environ.get("KLIMAINNKJOP_STRICT_AUDIT_ACTIONS", "0") == "1"
TASKS = {
    "default": {
        "BACKEND": ("django_tasks.backends.immediate.ImmediateBackend" if KLIMAINNKJOP_TASKS == "immediate"
                    else "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "klimainnkjop.web.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "klimainnkjop.api.language.EnglishApiMiddleware",  # the JSON API speaks English, as the CLI
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "klimainnkjop.web.middleware.ScopeMiddleware",  # scoped by default: access.activate per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "klimainnkjop.urls"
WSGI_APPLICATION = "klimainnkjop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_sqlite_path = data_dir() / "klimainnkjop.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_sqlite_path}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif os.environ.get("KLIMAINNKJOP_TEST_DATABASE"):  # a test database of one's own, for runs side by side
    DATABASES["default"]["TEST"] = {"NAME": os.environ["KLIMAINNKJOP_TEST_DATABASE"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id first; the others only verify (and upgrade on sign-in) hashes made before.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Password sign-in refuses a username from an address for KLIMAINNKJOP_LOCKOUT_MINUTES after
# KLIMAINNKJOP_LOCKOUT_FAILURES failures within KLIMAINNKJOP_LOCKOUT_WINDOW_MINUTES (klimainnkjop.services.auth).
AUTHENTICATION_BACKENDS = ["klimainnkjop.auth.backends.LockoutModelBackend"]
KLIMAINNKJOP_LOCKOUT_FAILURES = int(os.environ.get("KLIMAINNKJOP_LOCKOUT_FAILURES", "5"))
KLIMAINNKJOP_LOCKOUT_WINDOW_MINUTES = int(os.environ.get("KLIMAINNKJOP_LOCKOUT_WINDOW_MINUTES", "15"))
KLIMAINNKJOP_LOCKOUT_MINUTES = int(os.environ.get("KLIMAINNKJOP_LOCKOUT_MINUTES", "15"))

# OpenID Connect (Entra ID, ID-porten): on when KLIMAINNKJOP_OIDC_CLIENT_ID is set. Endpoints are given
# explicitly (no discovery request at start-up). See README "Sign-in".
KLIMAINNKJOP_OIDC_ENABLED = bool(os.environ.get("KLIMAINNKJOP_OIDC_CLIENT_ID"))
KLIMAINNKJOP_OIDC_ISSUER = os.environ.get("KLIMAINNKJOP_OIDC_ISSUER", "")
KLIMAINNKJOP_OIDC_TRUST_EMAIL = os.environ.get("KLIMAINNKJOP_OIDC_TRUST_EMAIL", "") == "1"
if KLIMAINNKJOP_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("klimainnkjop.auth.backends.OIDCBackend")
    OIDC_RP_CLIENT_ID = os.environ["KLIMAINNKJOP_OIDC_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = os.environ.get("KLIMAINNKJOP_OIDC_CLIENT_SECRET", "")
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ["KLIMAINNKJOP_OIDC_AUTHORIZATION_ENDPOINT"]
    OIDC_OP_TOKEN_ENDPOINT = os.environ["KLIMAINNKJOP_OIDC_TOKEN_ENDPOINT"]
    OIDC_OP_JWKS_ENDPOINT = os.environ["KLIMAINNKJOP_OIDC_JWKS_ENDPOINT"]
    OIDC_OP_USER_ENDPOINT = os.environ.get("KLIMAINNKJOP_OIDC_USERINFO_ENDPOINT", "")
    OIDC_RP_SIGN_ALGO = os.environ.get("KLIMAINNKJOP_OIDC_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = os.environ.get("KLIMAINNKJOP_OIDC_SCOPES", "openid email profile")
    OIDC_USE_PKCE = True
    OIDC_USE_NONCE = True
    OIDC_CREATE_USER = False
    OIDC_TIMEOUT = 10
    if not KLIMAINNKJOP_OIDC_ISSUER:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("KLIMAINNKJOP_OIDC_ISSUER is needed with KLIMAINNKJOP_OIDC_CLIENT_ID")

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = data_dir() / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "region"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    SESSION_COOKIE_AGE = int(os.environ.get("KLIMAINNKJOP_SESSION_SECONDS", str(60 * 60 * 8)))
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    # Preloading only takes effect for a registrable domain submitted to the browsers' list; the service
    # usually runs on a subdomain of the municipality's, where the flag is harmless.
    # KLIMAINNKJOP_HSTS_PRELOAD=0 drops it.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = os.environ.get("KLIMAINNKJOP_HSTS_PRELOAD", "1") == "1"
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Serving (`klimainnkjop serve`, klimainnkjop/web/server.py): gunicorn with KLIMAINNKJOP_WEB_WORKERS processes
# (default 2 × cores + 1) of KLIMAINNKJOP_WEB_THREADS threads each (default 1: gunicorn's sync worker). Behind a
# TLS-terminating proxy (KLIMAINNKJOP_BEHIND_PROXY=1) the server believes X-Forwarded-Proto and X-Forwarded-For only
# from the addresses in KLIMAINNKJOP_TRUSTED_PROXY (comma-separated addresses or networks; default 127.0.0.1): it
# sets the request's scheme (wsgi.url_scheme, which Django's request.is_secure() reads, so no SECURE_PROXY_SSL_HEADER
# here: a client that reaches the server directly cannot claim https) and REMOTE_ADDR (which the sign-in lockout
# counts by).
KLIMAINNKJOP_BEHIND_PROXY = os.environ.get("KLIMAINNKJOP_BEHIND_PROXY", "") == "1"
KLIMAINNKJOP_TRUSTED_PROXY = [a.strip() for a in os.environ.get(
    "KLIMAINNKJOP_TRUSTED_PROXY", "127.0.0.1" if KLIMAINNKJOP_BEHIND_PROXY else "").split(",") if a.strip()]
KLIMAINNKJOP_WEB_WORKERS = int(os.environ.get("KLIMAINNKJOP_WEB_WORKERS", "0")) or 2 * (os.cpu_count() or 1) + 1
KLIMAINNKJOP_WEB_THREADS = int(os.environ.get("KLIMAINNKJOP_WEB_THREADS", "1"))


def _code_version(base: Path = BASE_DIR) -> str:
    """Changes when the installed code, templates or translations change: part of every cache key, so that a
    cache that outlives the server (a file or Redis) never serves pages or figures made by the code before."""
    import hashlib

    digest = hashlib.sha256()
    for pattern in ("**/*.py", "**/templates/**/*.html", "locale/*/LC_MESSAGES/*.mo"):
        for path in sorted(base.glob(pattern)):
            stat = path.stat()
            digest.update(f"{path.relative_to(base)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


# One cache shared by every server process (and by the CLI and the report worker): cached figures and page sections
# (selectors/results.py, web/views.py) are keyed by compute run and content, so they are right in any process.
# Default: files in the data directory (no server needed); KLIMAINNKJOP_REDIS_URL=redis://host:6379/0 uses Redis.
KLIMAINNKJOP_REDIS_URL = os.environ.get("KLIMAINNKJOP_REDIS_URL", "")
if KLIMAINNKJOP_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": KLIMAINNKJOP_REDIS_URL, "KEY_PREFIX": f"klimainnkjop:{_code_version()}"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(data_dir() / "cache"), "KEY_PREFIX": _code_version(),
                          "OPTIONS": {"MAX_ENTRIES": 5000}}}

# Content security policy (django-csp): only this site's own files, no inline scripts or styles, no framing.
# Enforced in production; report-only elsewhere, so a page in development shows a violation in the browser's
# console without breaking.
from csp.constants import NONE, SELF  # noqa: E402

_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF] + ([os.environ["KLIMAINNKJOP_OIDC_AUTHORIZATION_ENDPOINT"]]
                                 if KLIMAINNKJOP_OIDC_ENABLED else []),
    },
}
if PRODUCTION:
    CONTENT_SECURITY_POLICY = _CSP
else:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# issue 16 item 4: the dashboards say so when a total moved more than this share since the previous computation
KLIMAINNKJOP_CHANGE_NOTICE_SHARE = float(os.environ.get("KLIMAINNKJOP_CHANGE_NOTICE_SHARE", "0.05"))
