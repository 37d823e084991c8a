"""Callers on keep-alive connections, and workers on cores, as gunicorn runs the gateway's
worker (app/server.py).

A thread that answered a request waits on that connection for the next one
(`GUNICORN_KEEPALIVE_LINGER_MS`). The linger tests make the wait far longer than any of them
takes, and one thread the whole worker's: whatever they see answered in time was not held
up by a thread waiting on another caller's idle connection.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT

from app.server import SettledConfig, SteadySocket, least_used_cpu
from tests.conftest import ROOT
from tests.reliability.conftest import Instance

pytestmark = pytest.mark.slow

LONG_LINGER_MS = "10000"
# Far below the linger: an answer this quick came from a thread that let go.
PROMPT_S = int(LONG_LINGER_MS) / 1000 / 2
ONE_THREAD = {"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1"}
WORKERS_UP_S = 15


@pytest.fixture
def serve(gateway, emulator, tmp_path) -> Iterator[Callable[..., Instance]]:
    """Starts a gunicorn with the given variables; stops every one it started."""
    started: list[Instance] = []

    def start(**env: str) -> Instance:
        instance = Instance(emulator.url, tmp_path, f"server-{len(started)}")
        instance.env.update(env)
        started.append(instance)
        instance.start()
        return instance

    yield start
    for instance in started:
        instance.stop()


def healthz(connection: HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


def test_an_idle_connection_does_not_keep_the_only_thread_from_another_caller(serve):
    port = serve(**ONE_THREAD, GUNICORN_KEEPALIVE_LINGER_MS=LONG_LINGER_MS).port
    idle = HTTPConnection("127.0.0.1", port, timeout=30)
    assert healthz(idle) == 200  # its thread now waits on it for a next request

    other = HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    assert healthz(other) == 200
    assert time.monotonic() - started < PROMPT_S

    # The first caller's connection was kept alive all along, and still serves it.
    assert healthz(idle) == 200
    idle.close()
    other.close()


def test_a_caller_that_sends_two_requests_at_once_gets_both_answers(serve):
    port = serve(**ONE_THREAD, GUNICORN_KEEPALIVE_LINGER_MS=LONG_LINGER_MS).port
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(request * 2)
        answers = b""
        while answers.count(b"HTTP/1.1 200") < 2:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {answers!r}"
            answers += chunk
    assert time.monotonic() - started < PROMPT_S


@pytest.mark.parametrize("linger_ms", ["0", "20"])
def test_a_busy_keep_alive_connection_gets_every_answer(serve, linger_ms):
    port = serve(**ONE_THREAD, GUNICORN_KEEPALIVE_LINGER_MS=linger_ms).port
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    assert [healthz(connection) for _ in range(20)] == [200] * 20
    connection.close()


def test_a_body_the_app_did_not_read_is_not_taken_for_the_next_request(serve):
    port = serve(**ONE_THREAD, GUNICORN_KEEPALIVE_LINGER_MS=LONG_LINGER_MS).port
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    # Refused before the body is read: no token.
    body = b'{"pool_key": "FC100000000000001", "phone_a": "13800138000"}'
    connection.request("POST", "/v1/bindings", body, {"Content-Type": "application/json"})
    refused = connection.getresponse()
    refused.read()
    assert refused.status == 401
    assert not refused.will_close

    assert healthz(connection) == 200
    connection.close()


def test_a_caller_that_stops_sending_its_body_loses_the_connection(serve):
    port = serve(**ONE_THREAD, GUNICORN_KEEPALIVE_LINGER_MS=LONG_LINGER_MS).port
    head = f"POST /v1/bindings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 100\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"{head}Content-Type: application/json\r\n\r\n{{".encode())
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401"), answer
        started = time.monotonic()
        # gunicorn waits a while for the rest of the body, then closes: the thread is not
        # held by a caller who never sends it.
        while sock.recv(65536):
            pass
    assert time.monotonic() - started < DEFAULT_WORKER_DATA_TIMEOUT + PROMPT_S / 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GUNICORN_KEEPALIVE_LINGER_MS", "soon", "must be a whole number of milliseconds"),
        ("GUNICORN_KEEPALIVE_LINGER_MS", "-5", "must be a whole number of milliseconds"),
        ("GUNICORN_PIN_WORKERS", "yes", "must be 1 or 0"),
        ("GUNICORN_BATCH_SCHEDULING", "on", "must be 1 or 0"),
    ],
)
def test_a_bad_worker_setting_stops_the_server_before_it_serves(serve, variable, value, message):
    with pytest.raises(RuntimeError, match=f"{variable} {message}"):
        serve(**{variable: value})


def cores_of_workers(instance: Instance, pinned: bool) -> dict[int, set[int]]:
    """Each worker's pid and the CPUs it may run on, once both workers are up (and, when
    `pinned`, once each has taken its core)."""
    master = instance.process.pid
    children = Path(f"/proc/{master}/task/{master}/children")
    deadline = time.monotonic() + WORKERS_UP_S
    while time.monotonic() < deadline:
        try:
            cores = {
                int(pid): os.sched_getaffinity(int(pid)) for pid in children.read_text().split()
            }
        except ProcessLookupError:  # a worker that died and is not reaped yet
            cores = {}
        if len(cores) == 2 and (not pinned or all(len(c) == 1 for c in cores.values())):
            return cores
        time.sleep(0.1)
    raise AssertionError(f"not two workers up in {WORKERS_UP_S} s")


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_each_worker_runs_on_a_core_of_its_own_and_a_replacement_takes_the_freed_one(serve):
    instance = serve(GUNICORN_WORKERS="2")
    cores = cores_of_workers(instance, pinned=True)
    assert len(set().union(*cores.values())) == 2

    crashed = next(iter(cores))
    os.kill(crashed, signal.SIGKILL)
    deadline = time.monotonic() + WORKERS_UP_S
    while crashed in (after := cores_of_workers(instance, pinned=True)):
        assert time.monotonic() < deadline, "the killed worker was not replaced"
        time.sleep(0.1)

    (replacement,) = set(after) - set(cores)
    assert after[replacement] == cores[crashed]


def test_unpinned_workers_may_run_anywhere_the_server_may(serve):
    instance = serve(GUNICORN_WORKERS="2", GUNICORN_PIN_WORKERS="0")
    cores = cores_of_workers(instance, pinned=False)
    assert all(cpus == os.sched_getaffinity(instance.process.pid) for cpus in cores.values())


def policies_of_threads(pid: int) -> set[int]:
    """The scheduling policies of a process's threads (each thread has its own)."""
    policies = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            policies.add(os.sched_getscheduler(int(task.name)))
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return policies


def served_worker(instance: Instance) -> int:
    """The pid of the one worker, once it has answered a request (its threads are up)."""
    connection = HTTPConnection("127.0.0.1", instance.port, timeout=30)
    assert healthz(connection) == 200
    connection.close()
    master = instance.process.pid
    (worker,) = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(worker)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="needs Linux's batch policy")
def test_every_thread_of_a_worker_runs_under_the_batch_policy(serve):
    instance = serve(GUNICORN_WORKERS="1")
    assert policies_of_threads(served_worker(instance)) == {os.SCHED_BATCH}
    # The master forks and watches; it is not one of the threads that serve.
    assert os.sched_getscheduler(instance.process.pid) == os.sched_getscheduler(0)


def test_workers_keep_the_policy_they_started_with_when_batch_scheduling_is_off(serve):
    instance = serve(GUNICORN_WORKERS="1", GUNICORN_BATCH_SCHEDULING="0")
    assert policies_of_threads(served_worker(instance)) == {os.sched_getscheduler(0)}


@pytest.mark.parametrize(
    ("allowed", "taken", "chosen"),
    [
        ({0, 1}, [], 0),
        ({0, 1}, [0], 1),
        ({0, 1}, [0, 1], 0),
        ({0, 1}, [1, 1, 0], 0),
        ({2, 5}, [2, 7], 5),
    ],
)
def test_a_new_worker_takes_the_allowed_core_fewest_workers_use(allowed, taken, chosen):
    assert least_used_cpu(allowed, taken) == chosen


# In a fresh interpreter, as gunicorn's master with preload_app: build the app, then run the
# pre-fork hook of the production configuration.
BUILD_THEN_FORK_HOOK = textwrap.dedent(
    """
    import gc, json, runpy, types
    import wsgi
    tracked = len(gc.get_objects())
    hooks = runpy.run_path("gunicorn.conf.py")
    hooks["pre_fork"](types.SimpleNamespace(WORKERS={}), types.SimpleNamespace())
    print(json.dumps({"tracked": tracked, "frozen": gc.get_freeze_count(),
                      "still_walked": len(gc.get_objects())}))
    """
)


def test_a_workers_full_collection_does_not_walk_the_app_the_master_built(tmp_path):
    """Each full collection used to walk the whole app with the GIL held, stalling every
    request of the worker; after the pre-fork hook it walks what the worker makes itself."""
    env = {**os.environ, "GATEWAY_SANDBOX": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", BUILD_THEN_FORK_HOOK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    counts = json.loads(result.stdout.splitlines()[-1])

    assert counts["tracked"] > 50_000  # the app, its libraries and the SDK
    assert counts["frozen"] >= counts["tracked"] * 0.9
    assert counts["still_walked"] < counts["tracked"] / 100


def test_a_worker_reads_every_setting_and_property_as_gunicorn_would():
    cfg = Config()
    cfg.set("threads", 7)
    cfg.set("bind", ["127.0.0.1:9", "unix:/tmp/gateway.sock"])
    cfg.set("worker_class", "app.server.KeepAliveThreadWorker")
    cfg.set("raw_env", ["A=1"])
    settled = SettledConfig(cfg)

    properties = [name for name, value in vars(Config).items() if isinstance(value, property)]
    assert {"is_ssl", "address", "worker_class", "env"} <= set(properties)
    for name in [*cfg.settings, *properties]:
        assert getattr(settled, name) == getattr(cfg, name), name
    assert settled.threads == 7


@pytest.fixture
def steady() -> Iterator[SteadySocket]:
    """A connected socket, made steady as the worker makes an accepted one."""
    ours, peer = socket.socketpair()
    ours.__class__ = SteadySocket
    yield ours
    ours.close()
    peer.close()


def os_nonblocking(sock: socket.socket) -> bool:
    return not os.get_blocking(sock.fileno())


def test_a_steady_socket_honours_every_mode_it_is_given(steady):
    sock = steady
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        sock.recv(1)
    sock.setblocking(True)
    assert sock.gettimeout() is None
    assert not os_nonblocking(sock)


def test_a_steady_socket_asks_the_system_nothing_when_the_mode_stays(steady):
    sock = steady
    sock.setblocking(True)
    # Made non-blocking behind its back: a call that reached the system would undo it.
    os.set_blocking(sock.fileno(), False)
    sock.setblocking(True)
    sock.settimeout(None)
    assert os_nonblocking(sock)

    sock.settimeout(2.0)
    sock.setblocking(True)
    assert not os_nonblocking(sock)
