"""Shared fixtures: a real PostgreSQL migrated to head, the emulator over real HTTP,
the gateway app wired to both, and callers holding real tokens.

Nothing here mocks the SDK, the database or HTTP: faults are injected through the
emulator's control endpoints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings, parse_endpoint
from app.extensions import db
from app.services.clients import AUDIT, READ, WRITE, create_client
from emulator import DEFAULT_POOL_KEY, SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET

ROOT = Path(__file__).resolve().parents[1]  # the repository
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = ("binding_events", "bindings", "api_clients", "idempotency_keys")
# Connection options under which the server closes a session idle for IDLE_TIMEOUT_S, as
# an idle_session_timeout, a firewall or a NAT table may close a pooled connection.
IDLE_TIMEOUT_S = 0.2
CLOSES_IDLE_SESSIONS = f"-c idle_session_timeout={IDLE_TIMEOUT_S * 1000:.0f}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Database tests never skip silently: no server, no test run, one clear line."""
    engine = sa.create_engine(TEST_DATABASE_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        where = engine.url.render_as_string(hide_password=True)
        pytest.exit(
            f"PostgreSQL is not reachable at {where}: start it "
            "(pg_ctlcluster 15 main start) or point TEST_DATABASE_URL at one.",
            returncode=3,
        )
    finally:
        engine.dispose()


class Emulator:
    """The emulator's control endpoints, as the tests use them."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        requests.post(f"{self.url}/__emulator/reset", timeout=5).raise_for_status()

    def fault(self, **spec: Any) -> None:
        requests.post(f"{self.url}/__emulator/faults", json=spec, timeout=5).raise_for_status()

    def calls(self, action: str | None = None) -> list[dict[str, Any]]:
        params = {"action": action} if action else None
        answer = requests.get(f"{self.url}/__emulator/calls", params=params, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def wait_for_calls(self, action: str, count: int, wait_s: float = 4.0) -> list[dict[str, Any]]:
        """Calls of `action` once `count` have been logged (stalled calls log when answered)."""
        deadline = time.monotonic() + wait_s
        calls = self.calls(action)
        while len(calls) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            calls = self.calls(action)
        return calls


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    from emulator.app import create_app as create_emulator
    from emulator.server import serve_in_background

    server = serve_in_background(create_emulator())
    yield Emulator(server.url)
    server.close()


def test_settings(emulator_url: str, **overrides: Any) -> Settings:
    settings = Settings(
        database_url=TEST_DATABASE_URL,
        access_key_id=SANDBOX_ACCESS_KEY_ID,
        access_key_secret=SANDBOX_ACCESS_KEY_SECRET,
        endpoint=parse_endpoint(emulator_url),
        connect_timeout=1.0,
        read_timeout=1.5,
        upstream_pool_size=8,
        sandbox=True,
    )
    return settings.with_overrides(**overrides)


test_settings.__test__ = False  # a settings factory, not a test


@pytest.fixture(scope="session")
def app(emulator: Emulator) -> Flask:
    """One gateway for the session, on a schema built by the migrations themselves."""
    import flask_migrate

    gateway = create_app(test_settings(emulator.url))
    with gateway.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
    return gateway


@pytest.fixture
def gateway(app: Flask, emulator: Emulator) -> Iterator[Flask]:
    """The app with empty tables and a fresh emulator."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        emulator.reset()
        app.extensions["dypls"].breaker.record(healthy=True)
        yield app


def close_connections(gateway: Flask) -> None:
    """Close a gateway's pooled connections: SQLAlchemy's, on every database it reads
    (the replica's too), and the statement pool's."""
    with gateway.app_context():
        for engine in db.engines.values():
            engine.dispose()
    gateway.extensions["statements"].close()


@contextmanager
def migrated_database(app: Flask, suffix: str, *server_settings: str) -> Iterator[str]:
    """A second database on the test server, named after the test one with `suffix`,
    migrated to head by a gateway of its own and dropped afterwards; its URL. Each of
    `server_settings` (as "timezone TO 'Asia/Shanghai'") is the database's default for
    every session, set before the migrations run."""
    import flask_migrate

    url = sa.make_url(TEST_DATABASE_URL)
    other = url.set(database=f"{url.database}_{suffix}")
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{other.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{other.database}"'))
        for setting in server_settings:
            conn.execute(sa.text(f'ALTER DATABASE "{other.database}" SET {setting}'))
    other_url = other.render_as_string(hide_password=False)
    try:
        builder = create_app(app.config["GATEWAY_SETTINGS"].with_overrides(database_url=other_url))
        with builder.app_context():
            flask_migrate.upgrade()
        close_connections(builder)
        yield other_url
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{other.database}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def another_worker(gateway: Flask, emulator: Emulator) -> Iterator[Callable[..., Flask]]:
    """Makes a second gateway on the same database with settings of its own (a lean pool,
    say), as another worker would run; its connections close when the test ends."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(create_app(test_settings(emulator.url, **overrides)))
        return made[-1]

    yield make
    for worker in made:
        close_connections(worker)


@pytest.fixture
def http(gateway: Flask) -> FlaskClient:
    return gateway.test_client()


class Caller:
    """An internal app calling the gateway with its bearer token."""

    def __init__(self, http: FlaskClient, token: str) -> None:
        self.http = http
        self.token = token

    def _call(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.http.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any):
        return self._call("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self._call("POST", path, **kw)

    def patch(self, path: str, **kw: Any):
        return self._call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self._call("DELETE", path, **kw)

    def bind(self, **overrides: Any) -> dict[str, Any]:
        """Create a binding that must succeed; returns its JSON."""
        answer = self.post("/v1/bindings", json=axb(**overrides))
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()


@pytest.fixture
def make_caller(gateway: Flask, http: FlaskClient):
    def make(name: str = "rides", scopes: tuple[str, ...] = (WRITE, READ), pools=None) -> Caller:
        with gateway.app_context():
            return Caller(http, create_client(name, list(scopes), pools))

    return make


@pytest.fixture
def rides(make_caller) -> Caller:
    """The ride-hailing backend: reads and writes its own bindings."""
    return make_caller("rides")


@pytest.fixture
def auditor(make_caller) -> Caller:
    return make_caller("audit-desk", scopes=(AUDIT,))


def axb(**overrides: Any) -> dict[str, Any]:
    """A trip's AXB binding: passenger A, driver B, one hour."""
    body = {
        "type": "AXB",
        "pool_key": DEFAULT_POOL_KEY,
        "phone_a": "13800000001",
        "phone_b": "13900000002",
        "ttl_seconds": 3600,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def connect(url: str = TEST_DATABASE_URL) -> psycopg.Connection:
    """An autocommitted psycopg connection to a test database, outside any gateway."""
    conninfo = sa.make_url(url).set(drivername="postgresql")
    return psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)


def last_statement(pid: int) -> str:
    """The last statement a PostgreSQL backend ran, as the server reports it."""
    with connect() as admin:
        row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row[0]


def terminate(pids: Iterable[int]) -> None:
    """End these PostgreSQL backends, as a server restart or an idle timeout would."""
    with connect() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),)
        )


def rows(gateway: Flask, sql: str, **params: Any) -> list[sa.Row]:
    """What the gateway left in its database (or a change made to it, committed)."""
    with gateway.app_context(), db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return result.all() if result.returns_rows else []
