"""Settings from PORTAL_* environment variables, with defaults for the embedded profile."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigurationError(RuntimeError):
    """The settings cannot run the portal safely; the message says what to set."""


@dataclass
class Settings:
    """Every setting the portal reads; each maps to PORTAL_<NAME> in the environment."""

    env: str = "development"
    secret_key: str = ""
    instance_path: str = str(DEFAULT_INSTANCE)
    database_url: str = ""
    redis_url: str = ""
    redis_connect_timeout: float = 2.0  # seconds to open a Redis connection
    redis_socket_timeout: float = 5.0  # seconds to wait for any Redis answer
    database_connect_timeout: int = 5  # seconds to open a PostgreSQL connection (at least 2)
    database_statement_timeout: int = 20  # seconds one PostgreSQL statement may run (0: none)
    readyz_timeout: float = 2.0  # seconds /readyz waits for its checks in all
    readyz_outbox_stall_seconds: int = 600  # an email due this long and unsent: queue stalled
    base_url: str = "http://127.0.0.1:5000"
    smtp_url: str = ""
    mail_from: str = "Castlebrook Council <noreply@castlebrook.example>"
    outbox_dir: str = ""
    upload_dir: str = ""
    embedded_worker: bool = True
    jobs_immediate: bool = False
    council_name: str = "Castlebrook Council"
    council_short_name: str = "Castlebrook"
    council_brand_colour: str = "#1d5c4d"
    council_phone: str = "01632 960 000"
    council_out_of_hours_phone: str = "01632 960 999"
    council_gas_emergency_phone: str = "0800 111 999"
    council_email: str = "contact@castlebrook.example"
    council_address: str = "Town Hall, Market Square, Castlebrook CK1 1AA"
    council_opening_hours: str = "Monday to Friday, 9am to 5pm"
    council_postcode_areas: str = "CK"
    repairs_emergency_hours: int = 24
    repairs_urgent_working_days: int = 5
    repairs_routine_working_days: int = 20
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "&copy; OpenStreetMap contributors"
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    trusted_proxies: int = 0
    trusted_hosts: str = (
        ""  # production: host names accepted besides the base URL's, comma-separated
    )
    ratelimit_enabled: bool = True
    ratelimit_key_prefix: str = "portal"
    services_page_cache_seconds: int = 5  # anonymous A–Z pages kept this long per worker (0: off)
    planning_page_cache_seconds: int = 5  # anonymous planning register pages, likewise
    log_level: str = "INFO"
    session_idle_seconds: int = 1800  # a sign-in ends after this long without a request
    session_absolute_seconds: int = 43200  # and this long after signing in, however active
    session_warning_seconds: int = 120  # the "you will be signed out" warning comes this early
    kiosk_idle_seconds: int = 180
    kiosk_warning_seconds: int = 60
    kiosk_touch_seconds: int = 15
    statistics_little_used_percent: int = 50
    statistics_max_range_days: int = 731
    statistics_unit_costs: str = (
        "face_to_face=8.62,phone=2.83,post=12.10,email=3.20,kiosk=0.90,kiosk_assisted=4.30,web=0.15"
    )
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read PORTAL_* variables; unknown ones are ignored."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get(f"PORTAL_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        return cls(**values)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def allowed_hosts(self) -> list[str]:
        """The Host names a production request may use: the base URL's and PORTAL_TRUSTED_HOSTS."""
        from urllib.parse import urlsplit

        hosts = [urlsplit(self.base_url).hostname or ""]
        hosts += [h.strip() for h in self.trusted_hosts.split(",") if h.strip()]
        return [h for h in hosts if h]

    def check_production(self) -> None:
        """Refuse to run in production without what production needs (ConfigurationError)."""
        if not self.is_production or not self.ratelimit_enabled:
            return
        if not self.redis_url.startswith(("redis://", "rediss://", "redis+", "unix://")):
            raise ConfigurationError(
                "PORTAL_ENV=production needs shared rate-limit storage: set PORTAL_REDIS_URL "
                "to the Redis server every worker and node uses (for example "
                "redis://redis.internal:6379/0). Without it each worker keeps its own counts, "
                "so the sign-in limit of 10 attempts becomes 10 per worker."
            )

    def redis_options(self) -> dict[str, Any]:
        """Timeouts for every Redis client the portal makes (jobs, rate limits, /readyz)."""
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return {
            "socket_connect_timeout": self.redis_connect_timeout,
            "socket_timeout": self.redis_socket_timeout,
            # one quick retry, not redis-py's default of three with growing waits
            "retry": Retry(NoBackoff(), 1),
        }

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{Path(self.instance_path) / 'portal.db'}"

    def flask_config(self) -> dict[str, Any]:
        """The Flask config mapping built from these settings."""
        instance = Path(self.instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        https = self.base_url.startswith("https://")
        config: dict[str, Any] = {
            "PORTAL": self,
            "SECRET_KEY": self.secret_key or load_or_create_secret_key(instance),
            "SQLALCHEMY_DATABASE_URI": self.resolved_database_url(),
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.resolved_database_url(), self),
            "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
            "WTF_CSRF_TIME_LIMIT": None,
            "WTF_CSRF_SSL_STRICT": https,
            "SESSION_COOKIE_NAME": "__Host-session" if https else "session",
            "SESSION_COOKIE_SECURE": https,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PREFERRED_URL_SCHEME": "https" if https else "http",
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": self.ratelimit_key_prefix,
            # Redis down or slow: count in this worker's memory instead (docs/security.md).
            "RATELIMIT_STORAGE_OPTIONS": self.redis_options() if self.redis_url else {},
            "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "OUTBOX_DIR": self.outbox_dir or str(instance / "outbox"),
            "UPLOAD_DIR": self.upload_dir or str(instance / "uploads"),
            "TESTING": self.env == "test",
        }
        config.update(self.extra)
        return config


def require_secret_key_in_production(settings: Settings) -> None:
    """Production nodes must share one PORTAL_SECRET_KEY: a key generated per node would sign
    sessions and CSRF tokens that the other nodes reject."""
    if settings.is_production and not settings.secret_key.strip():
        raise ConfigurationError(
            "PORTAL_SECRET_KEY is not set. With PORTAL_ENV=production every node must be given "
            "the same long random key (a key generated on each node would sign people out "
            "whenever the load balancer sends them to another node). Set PORTAL_SECRET_KEY in "
            "the service's environment file and start again."
        )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str, settings: Settings | None = None) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 10, "check_same_thread": False}}
    settings = settings or Settings()
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 10,
        "connect_args": postgres_connect_args(url, settings),
    }


def postgres_connect_args(url: str, settings: Settings) -> dict[str, Any]:
    """libpq timeouts: a PostgreSQL that hangs fails a request instead of holding a worker."""
    args: dict[str, Any] = {
        "connect_timeout": max(2, settings.database_connect_timeout),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if settings.database_statement_timeout > 0:
        # connect_args replace the URL's own `options`, so keep those (e.g. a search_path).
        existing = make_url(url).query.get("options") or ""
        if isinstance(existing, tuple):
            existing = " ".join(existing)
        timeout = f"-c statement_timeout={settings.database_statement_timeout * 1000}"
        args["options"] = f"{existing} {timeout}".strip()
    return args


def load_or_create_secret_key(instance: Path) -> str:
    """Generate the signing key once into instance/secret_key, readable by its owner only."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
