"""Django settings of the consent portal: the environment first, then the Ennakko config.

The Ennakko configuration (``ENNAKKO_CONFIG``, else the demo's ``configs/demo.yaml``)
gives the workspace (the demo's SQLite database lies in ``<workspace>/portal/``), the
time zone, the controller and the partners. Everything secret or deployment-specific
comes from the environment:

==================================  =====================================================
``PORTAL_PRODUCTION=1``             production: every key below marked * is required,
                                    test identity codes and a local OIDC provider refused
``PORTAL_SECRET_KEY`` *             Django's signing key
``PORTAL_ENCRYPTION_KEYS`` *        comma list of 64-hex AES keys; the first encrypts,
                                    each decrypts (rotation)
``PORTAL_IDENTITY_CODE_HASH_KEY`` * key of the identity code's search hash (64+ hex)
``PORTAL_DATABASE_URL`` *           ``postgresql://user:password@host:5432/name``
``PORTAL_ALLOWED_HOSTS``            comma list (default ``127.0.0.1,localhost``)
``OIDC_OP_BASE_URL`` *              the city's identity provider (Keycloak paths below)
``OIDC_RP_CLIENT_ID``, ``OIDC_RP_CLIENT_SECRET`` *
``PORTAL_ACCEPT_TEST_CODES``        ``1``: accept identity codes 900-999 (default on
                                    outside production, refused in production)
``PORTAL_AGE_MIN``/``PORTAL_AGE_MAX``  ages served (default 15-29)
``PORTAL_CONSENT_DAYS``             days a consent lasts (default 365)
``PORTAL_CHANNELS``                 channel names of ``/?c=`` (default jodel, school,
                                    outreach, ohjaamo, poster)
``PORTAL_RATE_LOGIN``/``_FORM``/    requests per minute: login steps and form posts per
``_ANONYMOUS``                      session (10, 30), and before a session (60)
``PORTAL_CACHE_DIR``                production's shared rate-limit cache (default
                                    ``<workspace>/portal/cache``)
``PORTAL_DB_CONN_MAX_AGE``          seconds a server process keeps its database
                                    connection (300; 0 opens one per request)
``PORTAL_GDPR_ISSUER``,             the city profile's GDPR API tokens: issuer (default:
``PORTAL_GDPR_AUDIENCE``,           the login provider's realm), audience, scope prefix,
``PORTAL_GDPR_SCOPE_PREFIX``,       query and delete scopes (``ennakko.gdprquery``,
``PORTAL_GDPR_QUERY_SCOPE``,        ``ennakko.gdprdelete``)
``PORTAL_GDPR_DELETE_SCOPE``
``PORTAL_ERASURE_LOCK_WAIT``        seconds an erasure waits for the nightly job (10)
``PORTAL_ACCESSIBILITY_FEEDBACK_URL`` where the accessibility statement sends feedback
                                    (default the city's https://palautteet.hel.fi/)
==================================  =====================================================

Outside production the keys have fixed demo values that protect nothing: they keep the
demo and tests free of setup, and production refuses to start without its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from flows.settings import load_settings

BASE_DIR = Path(__file__).resolve().parent
ROOT = BASE_DIR.parent
ENV = os.environ
PRODUCTION = ENV.get("PORTAL_PRODUCTION", "").strip() == "1"

# Demo-only values (public, in this file): production refuses to start with any of them.
DEMO_SECRET_KEY = "demo-only-not-secret-ennakko-portal"
DEMO_ENCRYPTION_KEY = "f164ec6bd6fbc4aef5647abc15199da0f9badcc1d2127bde2087ae0d794a9a0b"
DEMO_HASH_KEY = "ee235e39ebc238035a6264c063dd829d4b6d2270604b57ee1f463e676ec44669"
DEMO_CLIENT_SECRET = "test-secret"


def setting(name: str, demo: str) -> str:
    """``name`` from the environment; outside production ``demo`` when unset. Production
    refuses to start without it (or with the demo's value)."""
    value = ENV.get(name, "").strip()
    if PRODUCTION and (not value or value == demo):
        raise ImproperlyConfigured(f"{name} must be set in production (PORTAL_PRODUCTION=1).")
    return value or demo


def database(url: str | None, workspace: Path) -> dict:
    """PostgreSQL from ``PORTAL_DATABASE_URL``; else SQLite in the workspace (demo)."""
    if not url:
        if PRODUCTION:
            raise ImproperlyConfigured("PORTAL_DATABASE_URL must be set in production.")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": workspace / "portal" / "db.sqlite3",
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured("PORTAL_DATABASE_URL must be a postgresql:// URL.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


ENNAKKO = load_settings(ENV.get("ENNAKKO_CONFIG") or ROOT / "configs" / "demo.yaml")

SECRET_KEY = setting("PORTAL_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = [
    h.strip() for h in ENV.get("PORTAL_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "helusers.apps.HelusersConfig",
    "mozilla_django_oidc",
    "csp",
    "portal.apps.PortalConfig",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.language_from_query",
    "portal.middleware.rate_limit",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.private_pages",
]
ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
            ]
        },
    }
]
DATABASES = {"default": database(ENV.get("PORTAL_DATABASE_URL"), ENNAKKO.workspace)}
# Keep each worker's connection between requests, checked before reuse (a restarted
# database is survived): a new connection per page costs more than the page. PostgreSQL
# forks a backend per connection; Django sets up each SQLite connection with its
# functions and pragmas (measured: 150 consent pages a second with a connection each,
# 500 with one kept, `ennakko bench --portal`).
DATABASES["default"]["CONN_MAX_AGE"] = int(ENV.get("PORTAL_DB_CONN_MAX_AGE", "300"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
# The stylesheet's folder (no inline style under the CSP): the portal serves it itself
# (portal/urls.py), and so do Django's live test server and any proxy pointed here.
STATIC_ROOT = BASE_DIR / "static"
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = ["portal.auth.PortalOIDCBackend"]

# Finnish first; Swedish and English (as the city's services).
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = ENNAKKO.timezone

# --- Security (issue 14 item 8; docs/portal-plan.md section 8) ---
# Sessions only after login: the arrival page sets no cookie. A session lasts 15 minutes
# (a shared phone left on a table) and ends with the browser. The cookies are HTTPS-only
# in production (the demo serves plain HTTP on 127.0.0.1); the login returns from the
# provider by a top-level GET, which SameSite=Lax lets through (Strict would not).
SESSION_COOKIE_AGE = 15 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True  # no JavaScript reads either
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
CSRF_FAILURE_VIEW = "portal.error_views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Rate limits per minute (portal.middleware.rate_limit): login steps and form posts per
# session; before a session exists, per path and coarse bucket (no address is stored).
PORTAL_RATE_LIMITS = {
    "login": int(ENV.get("PORTAL_RATE_LOGIN", "10")),
    "form": int(ENV.get("PORTAL_RATE_FORM", "30")),
    "anonymous": int(ENV.get("PORTAL_RATE_ANONYMOUS", "60")),
}
# The counters' cache: one process's memory in the demo; in production (or wherever
# ``PORTAL_CACHE_DIR`` is set) a folder the server's workers share (default
# ``<workspace>/portal/cache``, owner-only like the rest of the workspace).
SHARED_CACHE = PRODUCTION or bool(ENV.get("PORTAL_CACHE_DIR"))
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": ENV.get("PORTAL_CACHE_DIR") or str(ENNAKKO.workspace / "portal" / "cache"),
        }
        if SHARED_CACHE
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # The page frame (language bar, page links, footer) rendered once per language,
    # channel and page in each process (base.html): links only, nothing about anyone.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}
# Sessions are read on every page: through the shared cache, written through to the
# database. Only where every worker sees the same cache (else a logout in one worker
# would leave the session alive in another's memory).
if SHARED_CACHE:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
if PRODUCTION:
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = ENV.get("PORTAL_HSTS_PRELOAD", "1") == "1"
    SECURE_SSL_REDIRECT = ENV.get("PORTAL_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# OpenID Connect code flow (as yjdh: one base URL, Keycloak's short paths).
OIDC_OP_BASE_URL = setting("OIDC_OP_BASE_URL", "http://127.0.0.1:9000").rstrip("/")
if PRODUCTION and urlsplit(OIDC_OP_BASE_URL).hostname in ("127.0.0.1", "localhost", "::1"):
    raise ImproperlyConfigured("OIDC_OP_BASE_URL points at a local test provider.")
OIDC_RP_CLIENT_ID = ENV.get("OIDC_RP_CLIENT_ID", "ennakko-portal")
OIDC_RP_CLIENT_SECRET = setting("OIDC_RP_CLIENT_SECRET", DEMO_CLIENT_SECRET)
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{OIDC_OP_BASE_URL}/auth"
OIDC_OP_TOKEN_ENDPOINT = f"{OIDC_OP_BASE_URL}/token"
OIDC_OP_USER_ENDPOINT = f"{OIDC_OP_BASE_URL}/userinfo"
OIDC_OP_JWKS_ENDPOINT = f"{OIDC_OP_BASE_URL}/certs"
OIDC_OP_LOGOUT_ENDPOINT = f"{OIDC_OP_BASE_URL}/logout"
OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"kc_idp_hint": "suomi_fi"}
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = False
OIDC_CREATE_USER = True
LOGIN_URL = "oidc_authentication_init"
LOGIN_REDIRECT_URL = "/omat-tiedot/"
LOGIN_REDIRECT_URL_FAILURE = "/kirjautuminen-epaonnistui/"
LOGOUT_REDIRECT_URL = "/"

# Content-Security-Policy (django-csp 4): no script at all, styles and images from the
# portal only (portal/static, no inline style), forms post to the portal or the provider,
# no framing, no <base>. Redirects to the provider are GETs, which form-action allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'none'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "form-action": ["'self'", OIDC_OP_BASE_URL],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}

# Who may log in.
PORTAL_ACCEPTED_LOA = ("substantial", "high")
PORTAL_ACCEPT_TEST_CODES = ENV.get("PORTAL_ACCEPT_TEST_CODES", "0" if PRODUCTION else "1") == "1"
if PRODUCTION and PORTAL_ACCEPT_TEST_CODES:
    raise ImproperlyConfigured(
        "PORTAL_ACCEPT_TEST_CODES is refused in production: codes 900-999 are test codes."
    )
PORTAL_AGE_RANGE = (int(ENV.get("PORTAL_AGE_MIN", "15")), int(ENV.get("PORTAL_AGE_MAX", "29")))
PORTAL_CHANNELS = tuple(
    c.strip()
    for c in ENV.get("PORTAL_CHANNELS", "jodel,school,outreach,ohjaamo,poster").split(",")
    if c.strip()
)

# The identity code at rest (django-searchable-encrypted-fields, as yjdh): AES-GCM keys
# and the search hash's key from the environment, never in migrations.
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in setting("PORTAL_ENCRYPTION_KEYS", DEMO_ENCRYPTION_KEY).split(",")
]
PORTAL_IDENTITY_CODE_HASH_KEY = setting("PORTAL_IDENTITY_CODE_HASH_KEY", DEMO_HASH_KEY)
if PRODUCTION and (
    DEMO_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS or len(PORTAL_IDENTITY_CODE_HASH_KEY) < 64
):
    raise ImproperlyConfigured(
        "PORTAL_ENCRYPTION_KEYS must not hold the demo key, and "
        "PORTAL_IDENTITY_CODE_HASH_KEY must be at least 64 random hex characters."
    )
for _key in FIELD_ENCRYPTION_KEYS:
    if len(_key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in _key):
        raise ImproperlyConfigured("PORTAL_ENCRYPTION_KEYS: each key is 64 hex characters.")

# Every portal and Django handler redacts (portal.logfilter): no query string (the
# provider's ``code``), identity code, e-mail, phone or pseudonym in a log line. The
# loggers propagate, so a root handler (a test's capture) sees the redacted record.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logfilter.Redact"}},
    "formatters": {
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact"]},
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO"},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "portal": {"handlers": ["console"], "level": "INFO"},
        "mozilla_django_oidc": {"handlers": ["console"], "level": "WARNING"},
        "helusers": {"handlers": ["console"], "level": "WARNING"},
        "csp": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Consent: how long one lasts (days), and where Ennakko's audit log lies (the workspace).
PORTAL_CONSENT_DAYS = int(ENV.get("PORTAL_CONSENT_DAYS", "365"))
if PORTAL_CONSENT_DAYS < 1:
    raise ImproperlyConfigured("PORTAL_CONSENT_DAYS must be at least 1.")
PORTAL_WORKSPACE = ENNAKKO.workspace

# --- Erasure and the city profile's GDPR API (helsinki-profile-gdpr-api; issue 14 item 6) ---
# Where the portal's export part lies (the nightly job's data folder), and how long an
# erasure waits for the workspace lock before saying "try again in a moment".
PORTAL_DATA_DIR = ENNAKKO.data_dir
PORTAL_ERASURE_LOCK_WAIT = float(ENV.get("PORTAL_ERASURE_LOCK_WAIT", "10"))
PORTAL_ACCESSIBILITY_FEEDBACK_URL = ENV.get(
    "PORTAL_ACCESSIBILITY_FEEDBACK_URL", "https://palautteet.hel.fi/"
).strip()
# The demo's SQLite database lies in the workspace: an erased person's rows must not linger
# in its free pages (on by default in Debian's SQLite, not in every build).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["init_command"] = "PRAGMA secure_delete = ON;" + _options.get("init_command", "")
# ``PORTAL_GDPR_ISSUER``: the profile's token issuer; by default the login provider's realm
# (Keycloak's base URL without ``/protocol/openid-connect``; the local test provider's own
# URL). ``PORTAL_GDPR_AUDIENCE``: this service's client id there.
PORTAL_GDPR_ISSUER = ENV.get("PORTAL_GDPR_ISSUER", "").strip().rstrip("/") or (
    OIDC_OP_BASE_URL.removesuffix("/protocol/openid-connect")
)
OIDC_API_TOKEN_AUTH = {
    "AUDIENCE": ENV.get("PORTAL_GDPR_AUDIENCE", "ennakko-portal"),
    "ISSUER": PORTAL_GDPR_ISSUER,
    "API_SCOPE_PREFIX": ENV.get("PORTAL_GDPR_SCOPE_PREFIX", "ennakko"),
    "REQUIRE_API_SCOPE_FOR_AUTHENTICATION": True,
    "API_AUTHORIZATION_FIELD": "authorization.permissions.scopes",
}
GDPR_API_QUERY_SCOPE = ENV.get("PORTAL_GDPR_QUERY_SCOPE", "ennakko.gdprquery")
GDPR_API_DELETE_SCOPE = ENV.get("PORTAL_GDPR_DELETE_SCOPE", "ennakko.gdprdelete")
GDPR_API_MODEL = "portal.Person"
GDPR_API_MODEL_LOOKUP = "portal.gdpr.lookup"  # by the login's uuid (the token's sub)
GDPR_API_DELETER = "portal.gdpr.delete_data"
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
