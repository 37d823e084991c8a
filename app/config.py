"""Settings read once from the environment and validated before the app serves anything.

Every problem is reported as one line naming the variable, so that a misconfigured
deployment fails at start-up instead of on the first trip of the morning.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from environs import Env, EnvError

DEFAULT_DATABASE_URL = "sqlite:///instance/gateway.db"
PRODUCTION_ENDPOINT = "https://dyplsapi.aliyuncs.com"
SANDBOX_ENDPOINT = "http://127.0.0.1:9000"
LOG_FORMATS = ("json", "text")
# TCP keepalives on every connection the gateway keeps open, to PostgreSQL and to Alibaba:
# seconds idle before the first probe, seconds between probes, unanswered probes that end it.
KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S, KEEPALIVE_PROBES = 30, 10, 3
MIN_HASH_KEY_LENGTH = 32


class ConfigError(Exception):
    """A configuration variable is missing or invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the Dyplsapi upstream lives, split the way the SDK wants it."""

    scheme: str
    host: str
    port: int | None

    @property
    def netloc(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway reads from its environment, already validated."""

    database_url: str = DEFAULT_DATABASE_URL
    audit_database_url: str | None = None
    access_key_id: str = field(default="", repr=False)
    access_key_secret: str = field(default="", repr=False)
    region_id: str = "cn-hangzhou"
    endpoint: Endpoint = field(default_factory=lambda: parse_endpoint(PRODUCTION_ENDPOINT))
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    upstream_pool_size: int = 32
    circuit_threshold: int = 5
    circuit_cooldown_s: float = 10.0
    sandbox: bool = False
    db_statement_timeout_ms: int = 5000
    db_pool_size: int = 20
    db_statement_pool_size: int = 10
    db_pool_timeout_s: float = 5.0
    db_pool_idle_check_s: float = 10.0
    ratelimit_storage_uri: str = "memory://"
    token_cache_s: float = 2.0
    client_rate_limit: str = "1000/second"
    account_rate_limit: str = "4500/second"
    log_level: int = logging.INFO
    log_format: str = "json"
    audit_hash_key: str = field(default="", repr=False)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)


def parse_endpoint(value: str, variable: str = "DYPLS_ENDPOINT") -> Endpoint:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable} must look like https://host or http://host:port, got {value!r}"
        )
    if parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"{variable} must not carry a path or query, got {value!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{variable} has an invalid port: {value!r}") from exc
    return Endpoint(parts.scheme, parts.hostname, port)


def _secret(env: Env, name: str) -> str:
    """A secret from NAME or from the file named by NAME_FILE (Docker/K8s secrets)."""
    path = env.str(f"{name}_FILE", None)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE points at an unreadable file: {exc.strerror}") from exc
    return env.str(name, "").strip()


def _sandbox_credentials() -> tuple[str, str]:
    from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET

    return SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET


def load_settings() -> Settings:
    """Read and validate the environment; raise ConfigError naming the culprit."""
    try:
        return _read(Env(eager=True, expand_vars=False))
    except EnvError as exc:
        raise ConfigError(str(exc)) from exc


def _read(env: Env) -> Settings:
    sandbox = env.bool("GATEWAY_SANDBOX", False)
    key_id = _secret(env, "ALIYUN_ACCESS_KEY_ID")
    key_secret = _secret(env, "ALIYUN_ACCESS_KEY_SECRET")
    if sandbox and not (key_id or key_secret):
        key_id, key_secret = _sandbox_credentials()
    for name, value in (("ALIYUN_ACCESS_KEY_ID", key_id), ("ALIYUN_ACCESS_KEY_SECRET", key_secret)):
        if not value:
            raise ConfigError(
                f"{name} is required (or {name}_FILE; GATEWAY_SANDBOX=1 for the emulator)"
            )

    default_endpoint = SANDBOX_ENDPOINT if sandbox else PRODUCTION_ENDPOINT
    log_format = env.str("LOG_FORMAT", "json").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")

    settings = Settings(
        database_url=env.str("DATABASE_URL", DEFAULT_DATABASE_URL),
        audit_database_url=env.str("AUDIT_DATABASE_URL", None) or None,
        access_key_id=key_id,
        access_key_secret=key_secret,
        region_id=env.str("ALIYUN_REGION_ID", "cn-hangzhou"),
        endpoint=parse_endpoint(env.str("DYPLS_ENDPOINT", default_endpoint)),
        connect_timeout=env.float("DYPLS_CONNECT_TIMEOUT", 3.0),
        read_timeout=env.float("DYPLS_READ_TIMEOUT", 10.0),
        upstream_pool_size=env.int("DYPLS_POOL_SIZE", 32),
        circuit_threshold=env.int("CIRCUIT_FAILURE_THRESHOLD", 5),
        circuit_cooldown_s=env.float("CIRCUIT_RESET_SECONDS", 10.0),
        sandbox=sandbox,
        db_statement_timeout_ms=env.int("DB_STATEMENT_TIMEOUT_MS", 5000),
        db_pool_size=env.int("DB_POOL_SIZE", 20),
        db_statement_pool_size=env.int("DB_STATEMENT_POOL_SIZE", 10),
        db_pool_timeout_s=env.float("DB_POOL_TIMEOUT_SECONDS", 5.0),
        db_pool_idle_check_s=env.float("DB_POOL_IDLE_CHECK_SECONDS", 10.0),
        ratelimit_storage_uri=env.str("RATELIMIT_STORAGE_URI", "memory://"),
        token_cache_s=env.float("TOKEN_CACHE_SECONDS", 2.0),
        client_rate_limit=_rate(env, "CLIENT_RATE_LIMIT", "1000/second"),
        account_rate_limit=_rate(env, "ACCOUNT_RATE_LIMIT", "4500/second"),
        log_level=env.log_level("LOG_LEVEL", "INFO"),
        log_format=log_format,
        audit_hash_key=_hash_key(env),
    )
    _check_ranges(settings)
    return settings


def _hash_key(env: Env) -> str:
    """The key that anonymises phone numbers in old history; optional until anonymising."""
    key = _secret(env, "AUDIT_HASH_KEY")
    if key and len(key) < MIN_HASH_KEY_LENGTH:
        raise ConfigError(
            f"AUDIT_HASH_KEY must be at least {MIN_HASH_KEY_LENGTH} characters "
            "(it keys the HMAC that anonymises phone numbers)"
        )
    return key


def _rate(env: Env, name: str, default: str) -> str:
    """A `limits` expression (as Flask-Limiter takes) such as `100/second` or `5000 per minute`."""
    from limits import parse

    value = env.str(name, default)
    try:
        parse(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must look like 100/second, got {value!r}") from exc
    return value


def _check_ranges(settings: Settings) -> None:
    """Sizes, timeouts and thresholds must be positive; the idle check may be 0 (always)."""
    for name, value in (
        ("DYPLS_CONNECT_TIMEOUT", settings.connect_timeout),
        ("DYPLS_READ_TIMEOUT", settings.read_timeout),
        ("DYPLS_POOL_SIZE", settings.upstream_pool_size),
        ("CIRCUIT_FAILURE_THRESHOLD", settings.circuit_threshold),
        ("CIRCUIT_RESET_SECONDS", settings.circuit_cooldown_s),
        ("DB_STATEMENT_TIMEOUT_MS", settings.db_statement_timeout_ms),
        ("DB_POOL_SIZE", settings.db_pool_size),
        ("DB_STATEMENT_POOL_SIZE", settings.db_statement_pool_size),
        ("DB_POOL_TIMEOUT_SECONDS", settings.db_pool_timeout_s),
    ):
        if value <= 0:
            raise ConfigError(f"{name} must be positive, got {value}")
    if settings.db_pool_idle_check_s < 0:
        raise ConfigError(
            "DB_POOL_IDLE_CHECK_SECONDS must be 0 (ask before every use) or more, "
            f"got {settings.db_pool_idle_check_s}"
        )
