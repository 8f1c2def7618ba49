"""Settings from the environment, validated once at start.

Every setting of the contract (design.md) is read here and nowhere else. A missing or malformed
required setting raises ConfigError naming it, so a misconfigured server never starts half-working.
"""
import os
import re
import secrets
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MODES = ("production", "demo", "test")
MAX_BODY = 1024 * 1024  # forms and JSON of the sidebar and console; uploads and the import set their own

# The emulator's corp: used by `demo` and the tests, never in production.
EMULATED_CORP = {
    "WECOM_CORP_ID": "wwdemo0000000001",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "demo-secret-do-not-use-in-production",
    # callbacks: the demo's emulator encrypts its callbacks with these
    "WECOM_TOKEN": "sidebarDemoCallbackToken",
    "WECOM_AES_KEY": "f83e2aa4b923f4de709cf56da558bd48d28035c2ef1",
}

ENV_SETTINGS = (
    "SIDEBAR_DATABASE_URL", "SIDEBAR_SECRET_KEY", "SIDEBAR_PUBLIC_URL", "SIDEBAR_UPLOAD_DIR",
    "SIDEBAR_IMPORT_TOKEN", "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET",
    "WECOM_API_BASE", "WECOM_OAUTH_BASE", "WECOM_TOKEN", "WECOM_AES_KEY", "SIDEBAR_TRUSTED_PROXIES",
    "SIDEBAR_QUEUE_URL",
)

# The app's own settings: not in the environment (design.md), set by tests and deployments through the
# app config; declared here with their defaults and read as config[NAME] everywhere else.
APP_SETTINGS = {
    "WECOM_OUTAGE_PAUSE": 10,  # seconds a failing WeCom path is left alone
    "WECOM_RATE_LIMIT_PAUSE": 60,  # seconds a path WeCom rate-limited (45009/45033) is left alone
    "WECOM_TIMEOUT": (3.05, 10),  # seconds to connect, to answer
    "SYNC_PACE_SECONDS": None,  # between the full sync's WeCom calls; None: sync/pacing.py's default
    "JOB_RETRY_SCALE": 1,  # multiplies the task queue's retry delays (tests shorten them)
    "PUSH_TAGS_AFTER_IMPORT": True,  # queue the profile tags' push after an import that accepted rows
    "LOGIN_RATE_LIMIT": (120, 60),  # OAuth starts plus returns per client address, per window (seconds)
    "IMPORT_RATE_LIMIT": (120, 60),  # import requests per client address, per window
    "LOOKUP_RATE_LIMIT": (60, 60),  # WeCom lookups of chats we lack, per advisor, per window
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


def load_settings(environ, overrides, instance_path):
    """Return the validated Flask config built from the environment and explicit overrides."""
    raw = {**APP_SETTINGS, **{name: environ.get(name) or None for name in ENV_SETTINGS}}
    raw["SIDEBAR_MODE"] = environ.get("SIDEBAR_MODE") or "production"
    raw.update(overrides or {})
    mode = raw["SIDEBAR_MODE"]
    if mode not in MODES:
        raise ConfigError(f"SIDEBAR_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "production":
        for name, value in EMULATED_CORP.items():
            raw[name] = raw.get(name) or value
        raw["SIDEBAR_SECRET_KEY"] = raw.get("SIDEBAR_SECRET_KEY") or secrets.token_urlsafe(32)
    settings = {**raw, **_validated(raw, instance_path)}
    settings.update(_flask_settings(settings))
    return settings


def _validated(raw, instance_path):
    """Check each contract setting and fill in its default."""
    return {
        "SIDEBAR_SECRET_KEY": _secret_key(raw.get("SIDEBAR_SECRET_KEY")),
        "SIDEBAR_DATABASE_URL": _database_url(raw.get("SIDEBAR_DATABASE_URL"), instance_path),
        "SIDEBAR_PUBLIC_URL": _public_url(raw.get("SIDEBAR_PUBLIC_URL"), raw["SIDEBAR_MODE"]),
        "SIDEBAR_UPLOAD_DIR": raw.get("SIDEBAR_UPLOAD_DIR") or os.path.join(instance_path, "uploads"),
        "SIDEBAR_IMPORT_TOKEN": _import_token(raw.get("SIDEBAR_IMPORT_TOKEN")),
        "WECOM_CORP_ID": _matching("WECOM_CORP_ID", raw.get("WECOM_CORP_ID"), r"[A-Za-z0-9]{4,64}",
                                   "letters and digits, as shown in the admin console"),
        "WECOM_AGENT_ID": _matching("WECOM_AGENT_ID", raw.get("WECOM_AGENT_ID"), r"[0-9]{1,12}",
                                    "a number"),
        "WECOM_SECRET": _required("WECOM_SECRET", raw.get("WECOM_SECRET")),
        "WECOM_API_BASE": _base_url("WECOM_API_BASE", raw.get("WECOM_API_BASE") or "https://qyapi.weixin.qq.com"),
        "WECOM_OAUTH_BASE": _base_url("WECOM_OAUTH_BASE", raw.get("WECOM_OAUTH_BASE") or "https://open.weixin.qq.com"),
        **_callback_keys(raw.get("WECOM_TOKEN"), raw.get("WECOM_AES_KEY")),
        "SIDEBAR_TRUSTED_PROXIES": int(_matching("SIDEBAR_TRUSTED_PROXIES",
                                                 str(raw.get("SIDEBAR_TRUSTED_PROXIES") or 0), r"[0-9]",
                                                 "how many reverse proxies stand in front, 0 to 9")),
        "SIDEBAR_QUEUE_URL": _queue_url(raw.get("SIDEBAR_QUEUE_URL")),
    }


def _flask_settings(settings):
    """Derive Flask's and the extensions' own keys from the contract settings."""
    public_https = (settings["SIDEBAR_PUBLIC_URL"] or "").startswith("https://")
    return {
        "SECRET_KEY": settings["SIDEBAR_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": settings["SIDEBAR_DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(settings["SIDEBAR_DATABASE_URL"]),
        "TESTING": settings["SIDEBAR_MODE"] == "test",
        "SESSION_COOKIE_NAME": "sidebar_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_https,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # one working day; WeCom re-auths silently
        # Counted from the cookie's last change (the login, or the CSRF secret's first use just after), as the
        # server forgets sessions 8 h after their start (identity.service.start_session): a cookie signed
        # again on every request would outlive its row, and cost every panel an HMAC and a header.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which already expires
        "WTF_CSRF_SSL_STRICT": public_https,
        "COMPRESS_ALGORITHM": ["br", "gzip"],  # Flask-Compress: brotli where the browser takes it
        # every body is refused above this before it is read (CSRF checks read forms); the import
        # API and the console's uploads raise their own request's limit before reading
        "MAX_CONTENT_LENGTH": MAX_BODY,
    }


def _engine_options(url):
    """SQLite waits for a busy writer instead of failing with 'database is locked'.

    On every engine, an error's text (which the error log shows) leaves out the statement's
    parameters: they are client data (names, mobiles, assets).
    """
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    return {"pool_pre_ping": True, "hide_parameters": True}


def _required(name, value):
    """Return value, or stop with a message naming the missing setting."""
    if not value:
        raise ConfigError(f"{name} is required (see the settings table in README.md)")
    return value


def _matching(name, value, pattern, what):
    """Return value when it fully matches pattern, else stop naming the setting."""
    value = _required(name, value)
    if not re.fullmatch(pattern, value):
        raise ConfigError(f"{name} is malformed: expected {what}")
    return value


def _secret_key(value):
    """The session key must be long enough that it cannot be guessed."""
    value = _required("SIDEBAR_SECRET_KEY", value)
    if len(value) < 32:
        raise ConfigError("SIDEBAR_SECRET_KEY is malformed: use at least 32 random characters")
    return value


def _base_url(name, value):
    """An absolute http(s) URL without query or fragment, returned without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} is malformed: expected an http(s) base URL, got {value!r}")
    return value.rstrip("/")


def _public_url(value, mode):
    """Our external base URL; required in production, where the Host header of a request is the
    client's word (it would choose the origin /jssdk/signature signs for and the OAuth return)."""
    if value:
        return _base_url("SIDEBAR_PUBLIC_URL", value)
    if mode == "production":
        raise ConfigError("SIDEBAR_PUBLIC_URL is required outside demo/test: the base URL advisors open "
                          "the sidebar at, e.g. https://sidebar.example.com (see the settings table in README.md)")
    return None


def _database_url(value, instance_path):
    """Default to a SQLite file in the instance folder; reject what SQLAlchemy cannot parse."""
    if not value:
        return "sqlite:///" + os.path.join(instance_path, "sidebar.db")
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError("SIDEBAR_DATABASE_URL is malformed: expected a SQLAlchemy URL") from None
    if url.drivername in ("postgres", "postgresql"):  # psycopg 3 is the driver we ship
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return value


def _queue_url(value):
    """Empty: the queue lives next to the database; otherwise a Redis URL (sidebar/jobs/queue.py)."""
    if value and (urlsplit(value).scheme not in ("redis", "rediss") or not urlsplit(value).hostname):
        raise ConfigError("SIDEBAR_QUEUE_URL is malformed: leave it empty (the queue lives next to the "
                          "database) or give a redis:// URL")
    return value


def _import_token(value):
    """The import API stays disabled without a token; a short token is refused."""
    if value and len(value) < 24:
        raise ConfigError("SIDEBAR_IMPORT_TOKEN is malformed: use at least 24 random characters")
    return value


def _callback_keys(token, aes_key):
    """Callbacks need both the Token and a 43-character EncodingAESKey, or neither."""
    if bool(token) != bool(aes_key):
        missing = "WECOM_AES_KEY" if token else "WECOM_TOKEN"
        raise ConfigError(f"{missing} is required when the other callback setting is set")
    if aes_key and not re.fullmatch(r"[A-Za-z0-9+/]{43}", aes_key):
        raise ConfigError("WECOM_AES_KEY is malformed: an EncodingAESKey is 43 letters and digits")
    if token and not re.fullmatch(r"[A-Za-z0-9]{1,32}", token):
        raise ConfigError("WECOM_TOKEN is malformed: letters and digits, at most 32")
    return {"WECOM_TOKEN": token, "WECOM_AES_KEY": aes_key}
