"""Configuration.

The embedded default (``APP_ENV`` unset or ``development``) needs nothing running: SQLite and the
tantivy index under ``instance/``, jobs in-process, the payment stub in-process.
``APP_ENV=production`` reads everything from the environment and refuses weak secrets.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

# A key that is known to anyone reading this file; production must never run with it.
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 -- the known key production refuses


def database_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` forms and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret() -> str:
    """A random key kept under instance/, so a development install never shares a known key."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    APP_ENV = "development"
    SECRET_KEY = DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'emall.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # A pooled connection idle longer than this is pinged before use (app.core.pool); 0: always.
    DB_PING_IDLE_SECONDS = float(os.environ.get("DB_PING_IDLE_SECONDS", "10"))
    REDIS_URL: str | None = None
    JOBS_BACKEND = "inprocess"  # or "rq"
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "default")
    SEARCH_BACKEND = "tantivy"  # or "elasticsearch"
    SEARCH_INDEX_DIR = str(INSTANCE_DIR / "search")
    ELASTICSEARCH_URL: str | None = None
    PAYMENTS_PROVIDER = "stub"
    # The client talks to PAYMENTS_API_URL; with the stub provider that URL is served in-process.
    PAYMENTS_API_URL = "http://payments-stub.internal"
    PAYMENTS_SECRET_KEY = "sk_test_emall_embedded_stub"  # noqa: S105 -- the in-process stub's test key
    PAYMENTS_EVENTS_SECRET = ""  # signing secret(s) of provider events, comma-separated while rolling
    PAYMENTS_EVENT_TOLERANCE = 300  # seconds between an event's signature time and now
    PAYMENTS_TIMEOUT = (3.05, 10.0)  # connect, read
    PAYMENTS_MAX_RETRIES = 3
    PAYMENTS_PAYMENT_METHOD = "pm_card_visa"  # sent on confirm (the stub's magic methods decline)
    PAYMENTS_STUB_BACKGROUND = True  # the in-process stub settles and delivers on a thread of its own
    PAYMENTS_STUB_SETTLE_DELAY = 1.0  # seconds from confirm to the result
    # The finance budget API asked before each order's budget is reserved (unset: the local ledger only).
    BUDGET_CHECK_URL: str | None = os.environ.get("BUDGET_CHECK_URL") or None
    SCHEDULER_THREAD = False
    # Outbound webhooks (Standard Webhooks). Host names or addresses the SSRF guard lets through
    # although they are private/loopback (comma-separated; e.g. a finance system on the intranet).
    WEBHOOK_ALLOWED_HOSTS = os.environ.get("WEBHOOK_ALLOWED_HOSTS", "")
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    WEBHOOK_LEASE_SECONDS = float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))  # a worker's claim
    WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", "50"))  # deliveries claimed at once
    WEBHOOK_SEND_CONCURRENCY = int(os.environ.get("WEBHOOK_SEND_CONCURRENCY", "4"))  # requests in flight
    WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE") or None  # RQ queue of delivery jobs (else JOBS_QUEUE)
    WEBHOOK_DRAIN_SECONDS = 60  # an RQ drain job hands over to a fresh one after this long
    WEBHOOK_DRAIN_IDLE_SECONDS = 2.0  # … or ends when nothing has been due for this long
    WEBHOOK_ROTATION_OVERLAP_HOURS = 24  # the old secret keeps signing beside the new one
    WEBHOOK_DELIVER_IN_THREAD = False  # in-process jobs: deliver beside the request, not inside it
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    # Public pages that cost a search: generous for people, a wall for scrapers.
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "120 per minute")
    # Public notices (成交公告) and open data (OCDS): one budget per client address for all of them,
    # and a smaller one for the CSV/XLSX downloads.
    PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT", "120 per minute")
    PUBLIC_EXPORT_RATE_LIMIT = os.environ.get("PUBLIC_EXPORT_RATE_LIMIT", "10 per minute")
    # OCDS: ocid = <prefix>-<order number>. "ocds-emall" is a placeholder; a real publisher
    # registers its own prefix with the Open Contracting Partnership.
    OCDS_OCID_PREFIX = os.environ.get("OCDS_OCID_PREFIX", "ocds-emall")
    OCDS_PUBLISHER_NAME = os.environ.get("OCDS_PUBLISHER_NAME", "政府采购电子卖场")
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # forms; catalog uploads get their own limit
    # Catalog uploads: stored under UPLOAD_DIR/<batch id>/; the file limit is the upload route's
    # own request limit (the form around it gets a little more).
    UPLOAD_DIR = str(INSTANCE_DIR / "uploads")
    CATALOG_UPLOAD_MAX_BYTES = 50 * 1024 * 1024
    CATALOG_IMPORT_IN_THREAD = False  # in-process jobs: run the import in a thread of its own
    CATALOG_IMPORT_JOB_TIMEOUT = 3600  # seconds, for RQ (its default of 180 s is too short)
    # The supplier API's batch upsert: up to 1,000 records in a body of at most this many bytes.
    API_BATCH_MAX_BYTES = 8 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which rotates
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"zh": "简体中文", "en": "English"}
    API_TITLE = "政府采购电子卖场 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    @classmethod
    def prepare(cls) -> None:
        """Hook run once by the app factory before the config is read."""


class DevelopmentConfig(Config):
    @classmethod
    def prepare(cls) -> None:
        cls.SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret()
        if os.environ.get("DATABASE_URL"):
            cls.SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"])
        # Optional services, for running the embedded app against real ones (or an RQ worker).
        cls.SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", cls.SEARCH_INDEX_DIR)
        if os.environ.get("REDIS_URL"):
            cls.REDIS_URL = os.environ["REDIS_URL"]
            cls.JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "rq")
        cls.SCHEDULER_THREAD = os.environ.get("EMALL_SCHEDULER") == "thread"
        cls.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", cls.UPLOAD_DIR)
        # The development server answers an upload at once; its job runs beside it.
        cls.CATALOG_IMPORT_IN_THREAD = cls.JOBS_BACKEND == "inprocess"
        cls.WEBHOOK_DELIVER_IN_THREAD = cls.JOBS_BACKEND == "inprocess"
        _payments_from_environment(cls)
        # In-process stub: a signing secret of this install's own, never a known one.
        cls.PAYMENTS_EVENTS_SECRET = (
            cls.PAYMENTS_EVENTS_SECRET
            or "whsec_" + hashlib.sha256(f"{cls.SECRET_KEY}:payments-events".encode()).hexdigest()[:32]
        )


def _payments_from_environment(cls: type[Config]) -> None:
    """The payment provider's address and keys (``flask payments-stub`` or the real provider)."""
    cls.PAYMENTS_PROVIDER = os.environ.get("PAYMENTS_PROVIDER", cls.PAYMENTS_PROVIDER)
    names = ("PAYMENTS_API_URL", "PAYMENTS_SECRET_KEY", "PAYMENTS_EVENTS_SECRET", "PAYMENTS_PAYMENT_METHOD")
    for name in names:
        if os.environ.get(name):
            setattr(cls, name, os.environ[name])


class ProductionConfig(Config):
    APP_ENV = "production"
    JOBS_BACKEND = "rq"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def prepare(cls) -> None:
        key = os.environ.get("SECRET_KEY", "")
        if not key or key == DEFAULT_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "生产环境必须通过环境变量 SECRET_KEY 提供至少 32 个字符的随机密钥 "
                "(production refuses to start without a strong SECRET_KEY)"
            )
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"生产环境缺少环境变量: {', '.join(missing)}")
        cls.SECRET_KEY = key
        cls.SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"])
        cls.REDIS_URL = os.environ["REDIS_URL"]
        cls.RATELIMIT_STORAGE_URI = cls.REDIS_URL
        cls.ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL")
        if cls.ELASTICSEARCH_URL:
            cls.SEARCH_BACKEND = "elasticsearch"
        cls.PAYMENTS_PROVIDER = os.environ.get("PAYMENTS_PROVIDER", "http")
        # Nothing embedded: the provider's address and keys come from the environment or are unset.
        cls.PAYMENTS_API_URL = cls.PAYMENTS_SECRET_KEY = ""
        _payments_from_environment(cls)
        # Web processes and RQ workers must see the same directory (a shared volume).
        cls.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", cls.UPLOAD_DIR)


class TestConfig(Config):
    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-use"  # noqa: S105 -- tests only
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Tests log in often; the rate-limit tests set a small limit themselves.
    LOGIN_RATE_LIMIT = "1000 per minute"
    PAYMENTS_EVENTS_SECRET = "whsec_test_events_secret"  # noqa: S105 -- tests only
    PAYMENTS_STUB_BACKGROUND = False  # tests settle and deliver with stub.run_pending()
    BUDGET_CHECK_URL = None  # never the environment's: the budget-check tests start their own server
    # Never the repository's instance/ folder (created on first use; tests may point it elsewhere).
    UPLOAD_DIR = str(Path(tempfile.gettempdir()) / "emall-test-uploads")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("APP_ENV", "development")
    try:
        config = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"未知的 APP_ENV: {name!r}; expected one of {sorted(CONFIGS)}") from None
    config.prepare()
    return config
