"""Settings read from the environment (CONTRACT section 1)."""
import os
import warnings
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"


class ConfigError(RuntimeError):
    """The environment does not allow the portal to start safely."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _percent(value: str | None) -> Decimal:
    """A percentage from 0 to 100 with at most two decimals ("2.5"); anything else stops the start."""
    try:
        number = Decimal((value or "0").strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or not 0 <= number <= 100 or number != number.quantize(Decimal("0.01")):
        raise ConfigError(f"PLATFORM_FEE_PERCENT must be a percentage from 0 to 100, not {value!r}")
    return number


def normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling of the URL was given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_production(env=os.environ) -> bool:
    return "production" in (env.get("APP_ENV", "").lower(), env.get("FLASK_ENV", "").lower())


def from_environment(instance_path: str, env=os.environ) -> dict:
    """Build the configuration mapping; refuse to run in production without a secret key."""
    production = is_production(env)
    secret = env.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set when APP_ENV/FLASK_ENV is production")
        warnings.warn("SECRET_KEY is not set: using a development key; never do this in production",
                      RuntimeWarning, stacklevel=2)
        secret = DEV_SECRET_KEY
    redis_url = env.get("REDIS_URL") or None
    portal_url = (env.get("PORTAL_URL") or "").rstrip("/")
    if not portal_url:
        if production:
            raise ConfigError("PORTAL_URL (the portal's public address, e.g. https://pes.example.pl) must be set "
                              "in production: links in mail are built from it")
        portal_url = "http://127.0.0.1:5000"
    return {
        "SECRET_KEY": secret,
        "PRODUCTION": production,
        "SQLALCHEMY_DATABASE_URI": normalise_db_url(
            env.get("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "portal.db")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SEARCH_ENABLED": _bool(env.get("SEARCH_ENABLED"), True),
        "SEARCH_INDEX_DIR": env.get("SEARCH_INDEX_DIR") or os.path.join(instance_path, "search-index"),
        "SEARCH_BUILD_MEMORY_MB": int(env.get("SEARCH_BUILD_MEMORY_MB") or 2048),
        "SEARCH_SYNC_BACKGROUND": _bool(env.get("SEARCH_SYNC_BACKGROUND"), True),
        # Bytes of public pages and API answers each worker keeps for visitors without a session (0: none);
        # see marketplace.core.page_cache.
        "PAGE_CACHE_BYTES": int(env.get("PAGE_CACHE_BYTES") or 8 * 1024 * 1024),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or os.path.join(instance_path, "uploads"),
        "MAIL_DIR": os.path.join(instance_path, "mail"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or "portal@localhost",
        "MAIL_TIMEOUT": int(env.get("MAIL_TIMEOUT") or 10),
        # Mail queued by a web request is delivered by a thread of the worker after the commit (off: the
        # request delivers it before answering); whatever fails waits for `flask mail send-pending`.
        "MAIL_SEND_BACKGROUND": _bool(env.get("MAIL_SEND_BACKGROUND"), True),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE") or None,
        # The portal's fee on each online payment, in percent of the order's gross total (0: none).
        "PLATFORM_FEE_PERCENT": _percent(env.get("PLATFORM_FEE_PERCENT")),
        # Minutes that items in stock stay reserved for an order awaiting online payment.
        "ORDER_RESERVATION_MINUTES": int(env.get("ORDER_RESERVATION_MINUTES") or 30),
        # Sending invoices to KSeF: "off" (default), or "files" (the XML is written under the instance
        # folder's ksef/ directory instead of being sent; for trying the flow without KSeF).
        "KSEF_SENDER": env.get("KSEF_SENDER") or "off",
        "ORDER_LIMIT": env.get("ORDER_LIMIT") or "20 per hour",
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Number of reverse proxies in front of the portal whose X-Forwarded-* headers are trusted (0: none).
        "PROXY_COUNT": int(env.get("PROXY_COUNT") or 0),
        "REGION_FILE": env.get("REGION_FILE") or None,
        "PORTAL_URL": portal_url,
        # In production only requests for the portal's own host name are answered.
        "TRUSTED_HOSTS": [urlsplit(portal_url).hostname] if production else None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SERVER_NAME": env.get("SERVER_NAME") or None,
        "MAX_CONTENT_LENGTH": 24 * 1024 * 1024,
        "LOGO_MAX_BYTES": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "pl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Warsaw",
        "LANGUAGES": ("pl", "en"),
        # Token lifetimes in seconds.
        "CONFIRM_TOKEN_MAX_AGE": 3 * 24 * 3600,
        "RESET_TOKEN_MAX_AGE": 3600,
        "INVITE_TOKEN_MAX_AGE": 14 * 24 * 3600,
        # Limits: per address and per account for logins; per address for anything that sends mail.
        "LOGIN_LIMIT_PER_ADDRESS": "20 per 10 minutes",
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per 10 minutes",
        "MAIL_LIMIT": "5 per hour",
        "MAIL_LIMIT_PER_RECIPIENT": "3 per hour",
        # Inquiries: limits on those sent (per client address, account and guest e-mail) and on messages.
        "INQUIRY_LIMIT_PER_ADDRESS": env.get("INQUIRY_LIMIT_PER_ADDRESS") or "20 per hour",
        "INQUIRY_LIMIT_PER_ACCOUNT": env.get("INQUIRY_LIMIT_PER_ACCOUNT") or "30 per day",
        "INQUIRY_LIMIT_PER_EMAIL": env.get("INQUIRY_LIMIT_PER_EMAIL") or "5 per day",
        "INQUIRY_MESSAGE_LIMIT": env.get("INQUIRY_MESSAGE_LIMIT") or "60 per hour",
        # Downloads of the clause builder's documents and reports per client address (each is made anew).
        "PROCUREMENT_FILE_LIMIT": env.get("PROCUREMENT_FILE_LIMIT") or "30 per minute",
        # The most PES one inquiry may go to, and the largest attachment.
        "INQUIRY_MAX_RECIPIENTS": int(env.get("INQUIRY_MAX_RECIPIENTS") or 50),
        "INQUIRY_ATTACHMENT_MAX_BYTES": int(env.get("INQUIRY_ATTACHMENT_MAX_BYTES") or 5 * 1024 * 1024),
        # Days an inquiry waits for an answer before its PES is reminded; days before a quote lapses that
        # its buyer is reminded.
        "INQUIRY_REMIND_AFTER_DAYS": int(env.get("INQUIRY_REMIND_AFTER_DAYS") or 3),
        "QUOTE_REMIND_BEFORE_DAYS": int(env.get("QUOTE_REMIND_BEFORE_DAYS") or 2),
        # The quality mark: certificate numbers and how long a mark is valid.
        "MARK_NUMBER_FORMAT": env.get("MARK_NUMBER_FORMAT") or "ZJ/{year}/{seq:04d}",
        "MARK_VALIDITY_MONTHS": int(env.get("MARK_VALIDITY_MONTHS") or 12),
        # Committee members who must have scored every criterion before the chair decides.
        "MARK_MIN_SCORERS": int(env.get("MARK_MIN_SCORERS") or 2),
        # How long inquiries are kept after their last message (the privacy policy states it).
        "INQUIRY_RETENTION_MONTHS": int(env.get("INQUIRY_RETENTION_MONTHS") or 24),
        "ARGON2_FAST": False,
        "PES_DATA_STALE_DAYS": 365,
    }
