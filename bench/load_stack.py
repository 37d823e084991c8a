"""Starting and stopping what a load run measures: emulator, database, gateway under gunicorn.

Everything binds 127.0.0.1 on free ports, runs in its own process group and is stopped (group
and all) when the `Stack` closes, on success, error or Ctrl-C alike. The gateway runs with the
repository's production defaults: variables that tune it are removed from the inherited
environment, so a shell's LOG_LEVEL or GUNICORN_WORKERS cannot flatter or spoil the numbers;
`--gateway-env` sets one on purpose, and the result says so.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench.load_proc import children
from bench.load_stats import BenchFailed

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ADMIN_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 35
ENV_EXAMPLE = ROOT / ".env.example"
TUNING_PREFIXES = (
    "ACCOUNT_",
    "ALIYUN_",
    "AUDIT_",
    "CIRCUIT_",
    "CLIENT_",
    "DATABASE_",
    "DB_",
    "DYPLS_",
    "EMULATOR_",
    "FLASK_",
    "GATEWAY_",
    "GUNICORN_",
    "LOG_",
    "PROMETHEUS_",
    "RATELIMIT_",
)
"""Besides every variable `.env.example` lists (the contract keeps it complete)."""
EXAMPLE_VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(**settings: str) -> dict[str, str]:
    """The inherited environment without anything that tunes the gateway, plus `settings`."""
    listed = (
        set(EXAMPLE_VARIABLE.findall(ENV_EXAMPLE.read_text())) if ENV_EXAMPLE.exists() else set()
    )
    env = {
        k: v for k, v in os.environ.items() if k not in listed and not k.startswith(TUNING_PREFIXES)
    }
    env.update(settings)
    return env


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


class Service:
    """A subprocess in its own process group, its output in a log file under bench/out/."""

    def __init__(
        self, name: str, command: list[str], env: Mapping[str, str], cwd: Path = ROOT
    ) -> None:
        self.name = name
        self.log = OUT / f"load-{name}.log"
        OUT.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def require_running(self) -> None:
        if self.process.poll() is not None:
            raise BenchFailed(
                f"{self.name} exited with {self.process.returncode}; its log ({self.log}) ends:\n"
                + log_tail(self.log)
            )

    def stop(self) -> None:
        """SIGTERM to the whole group (gunicorn then stops its workers), SIGKILL if it lingers."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT_S)
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()


def http_status(port: int, method: str, path: str) -> int | None:
    """The status of one request to 127.0.0.1 (no proxy, whatever the environment says)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def wait_until_answering(
    service: Service, port: int, path: str, timeout_s: float = START_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while http_status(port, "GET", path) != 200:
        service.require_running()
        if time.monotonic() > deadline:
            raise BenchFailed(f"{service.name} did not answer GET {path} in {timeout_s} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Emulator:
    service: Service
    port: int

    def reset(self) -> None:
        """Forget bindings, nonces and the call log between phases."""
        if http_status(self.port, "POST", "/__emulator/reset") != 200:
            raise BenchFailed("the emulator did not accept POST /__emulator/reset")


@dataclass(frozen=True)
class Gateway:
    service: Service
    port: int
    token: str
    database: str

    @property
    def master(self) -> int:
        return self.service.pid

    def workers(self) -> list[int]:
        return children(self.master)


def start_emulator(stack: ExitStack, latency_ms: int) -> Emulator:
    port = free_port()
    command = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port)]
    service = Service("emulator", [*command, "--latency-ms", str(latency_ms)], clean_environment())
    stack.callback(service.stop)
    wait_until_answering(service, port, "/__emulator/health")
    return Emulator(service, port)


@contextmanager
def fresh_database(label: str = "") -> Iterator[str]:
    """BENCH_DATABASE_URL as given, or a new `bench_load_<pid>[_<label>]` database, dropped
    afterwards."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        yield given
        return
    name = f"bench_load_{os.getpid()}" + (f"_{label}" if label else "")
    try:
        with psycopg.connect(ADMIN_DATABASE, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise BenchFailed(f"PostgreSQL at {ADMIN_DATABASE} is not usable: {error}") from None
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_DATABASE, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _flask(env: Mapping[str, str], *args: str, root: Path = ROOT) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=root,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchFailed(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def migrate_with_client(env: Mapping[str, str], name: str, root: Path = ROOT) -> str:
    """Bring the database `env` names to the migrations' head (those of the tree at `root`)
    and create client `name` with the scopes a bind + unbind needs; its token."""
    _flask(env, "db", "upgrade", root=root)
    scopes = ("--scope", "bindings:write", "--scope", "bindings:read")
    created = _flask(env, "clients", "create", name, *scopes, root=root)
    return created.strip().splitlines()[-1]


def start_gateway(
    stack: ExitStack,
    database_url: str,
    emulator: Emulator,
    overrides: Mapping[str, str],
    root: Path = ROOT,
    name: str = "gateway",
    python: str = sys.executable,
) -> Gateway:
    """Migrate, create the bench client, start gunicorn with gunicorn.conf.py, wait for all
    its workers. `root` is the source tree it runs from and `python` the interpreter that
    serves it (`bench.compare` starts two, and may give each its own)."""
    port = free_port()
    env = clean_environment(
        DATABASE_URL=database_url,
        GATEWAY_SANDBOX="1",
        DYPLS_ENDPOINT=f"http://127.0.0.1:{emulator.port}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        **overrides,
    )
    token = migrate_with_client(env, f"bench-{os.getpid()}-{int(time.time())}", root)
    command = [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    service = Service(name, command, env, root)
    stack.callback(service.stop)
    wait_until_answering(service, port, "/readyz")
    gateway = Gateway(service, port, token, urlsplit(database_url).path.lstrip("/"))
    _wait_for_steady_workers(gateway)
    return gateway


def _wait_for_steady_workers(gateway: Gateway, steady_s: float = 1.0) -> None:
    """gunicorn forks its workers one by one: wait until their set stops changing."""
    deadline = time.monotonic() + START_TIMEOUT_S
    seen, since = gateway.workers(), time.monotonic()
    while time.monotonic() - since < steady_s:
        gateway.service.require_running()
        if time.monotonic() > deadline:
            raise BenchFailed("gunicorn's workers did not settle")
        time.sleep(0.2)
        now = gateway.workers()
        if now != seen or not now:
            seen, since = now, time.monotonic()


@dataclass(frozen=True)
class Stack:
    emulator: Emulator
    gateway: Gateway


@contextmanager
def running_stack(latency_ms: int, overrides: Mapping[str, str]) -> Iterator[Stack]:
    """The emulator, a fresh database and the gateway; all stopped and dropped on exit."""
    with ExitStack() as stack:
        emulator = start_emulator(stack, latency_ms)
        database_url = stack.enter_context(fresh_database())
        yield Stack(emulator, start_gateway(stack, database_url, emulator, overrides))
