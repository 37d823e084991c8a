"""The application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from app import api as blueprints
from app import cli, ratelimit, requests
from app.config import (
    KEEPALIVE_IDLE_S,
    KEEPALIVE_INTERVAL_S,
    KEEPALIVE_PROBES,
    Settings,
    load_settings,
)
from app.errors import register_error_handlers
from app.extensions import api, db, migrate
from app.flask_app import GatewayFlask
from app.idle_connections import check_after_idle
from app.logs import configure_logging
from app.providers.aliyun import AliyunProvider
from app.statement_pool import StatementPool

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
# Connections older than this are replaced, in both pools (a server or firewall may drop them).
RECYCLE_S = 1800
# An idle connection sends a TCP keepalive every 30 s: a firewall or NAT table between keeps
# its state instead of dropping it silently, and a server that is gone is noticed within a
# minute. Data the server leaves unacknowledged for 10 s breaks the connection, rather than
# holding the request through TCP's retries (about 15 minutes). libpq's own settings.
KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE_S,
    "keepalives_interval": KEEPALIVE_INTERVAL_S,
    "keepalives_count": KEEPALIVE_PROBES,
    "tcp_user_timeout": 10_000,
}
# Every session runs in UTC, writes dates as ISO, speaks UTF-8 and reads committed data,
# whatever the server's or the database's defaults. The history's monthly partitions are
# bounded by date literals, which a session reads in its own time zone (Asia/Shanghai, say),
# while retention and the partitions' names count months in UTC. psycopg reads times written
# in ISO style only: under another DateStyle every row with a time failed to load, after the
# upstream call had been made. A client encoding such as LATIN1 refused a city's Chinese
# name. The idempotency claim is an INSERT … ON CONFLICT DO NOTHING that waits for a
# concurrent claim of the same key and then sees it: under a SERIALIZABLE default, some
# duplicates got a serialization failure (503) instead of their 409. And psycopg hands back
# times in datetime's own UTC, where a zone like Etc/UTC costs a zoneinfo conversion for
# every time read and again for every time written out.
SESSION_DEFAULTS = (
    "-c TimeZone=UTC",
    "-c DateStyle=ISO",
    "-c client_encoding=UTF8",
    r"-c default_transaction_isolation=read\ committed",
)

API_SPEC = {
    "API_TITLE": "Privacy-number gateway",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Masks phone numbers through Alibaba Cloud Phone Number Protection "
            "(Dyplsapi AXB/AXN). Errors are RFC 9457 problem+json."
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    },
}


def _sqlite_path(url: str) -> str:
    """Relative SQLite paths mean the working directory, as the contract's default says."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url.endswith(":memory:"):
        return url
    path = Path(url[len(prefix) :]).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return prefix + str(path)


def _database_options(settings: Settings, url: str | None = None) -> dict:
    if (url or settings.database_url).startswith("sqlite"):
        return {}
    # No pre-ping: it costs a round trip on every checkout of the hot path. A connection
    # idle past DB_POOL_IDLE_CHECK_SECONDS is pinged instead (app/idle_connections.py); one
    # that died with the server in use fails, the pool is then invalidated and the next
    # request connects afresh (tests/reliability/test_database_outage.py).
    return {
        "pool_pre_ping": False,
        "pool_recycle": RECYCLE_S,
        "pool_size": settings.db_pool_size,
        # No overflow: under load, connections opened beyond the pool were closed again as
        # soon as they came back, each a PostgreSQL backend started and ended; a request
        # that finds every connection in use waits for one (docs/performance.md, eighth round).
        "max_overflow": 0,
        "pool_timeout": settings.db_pool_timeout_s,
        "connect_args": {
            "connect_timeout": 3,
            "options": " ".join(
                (f"-c statement_timeout={settings.db_statement_timeout_ms}", *SESSION_DEFAULTS)
            ),
            **KEEPALIVE,
        },
    }


def _audit_binds(settings: Settings) -> dict:
    """Audit lists and exports read from the replica when one is set, else share the main pool."""
    url = settings.audit_database_url
    if not url:
        return {}
    return {"audit": {"url": _sqlite_path(url), **_database_options(settings, url)}}


def create_app(settings: Settings | None = None) -> Flask:
    """Build the gateway; `settings` overrides the environment (tests pass their own)."""
    settings = settings or load_settings()
    database_options = _database_options(settings)
    app = GatewayFlask(__name__)
    app.config.update(
        API_SPEC,
        SQLALCHEMY_DATABASE_URI=_sqlite_path(settings.database_url),
        SQLALCHEMY_ENGINE_OPTIONS=database_options,
        SQLALCHEMY_BINDS=_audit_binds(settings),
        GATEWAY_SETTINGS=settings,
    )
    configure_logging(
        settings.log_level,
        settings.log_format,
        (settings.access_key_id, settings.access_key_secret),
    )
    db.init_app(app)
    if database_options:
        with app.app_context():
            for engine in db.engines.values():
                check_after_idle(engine, settings.db_pool_idle_check_s)
    migrate.init_app(app, db, directory=MIGRATIONS)
    api.init_app(app)
    ratelimit.install(app, settings)
    register_error_handlers(app)
    requests.install(app)
    blueprints.register()
    cli.register(app)
    app.extensions["dypls"] = AliyunProvider(settings)
    if not settings.database_url.startswith("sqlite"):
        app.extensions["statements"] = StatementPool(
            make_url(settings.database_url),
            settings.db_statement_pool_size,
            settings.db_pool_timeout_s,
            RECYCLE_S,
            database_options["connect_args"],
            settings.db_pool_idle_check_s,
        )
    return app
