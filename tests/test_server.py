"""Callers on keep-alive connections, as gunicorn serves them with the gateway's worker.

A thread that answered a request waits on that connection for the next one
(`GUNICORN_KEEPALIVE_LINGER_MS`). These tests make the wait far longer than any of them
takes, and one thread the whole worker's: whatever they see answered in time was not held
up by a thread waiting on another caller's idle connection.
"""

import socket
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection

import pytest

from tests.reliability.conftest import Instance

pytestmark = pytest.mark.slow

LONG_LINGER_MS = "10000"
# Far below the linger: an answer this quick came from a thread that let go.
PROMPT_S = int(LONG_LINGER_MS) / 1000 / 2


@pytest.fixture
def one_thread(gateway, emulator, tmp_path) -> Iterator[Callable[[str], Instance]]:
    """Starts a gunicorn of one worker with one thread and the given linger."""
    started: list[Instance] = []

    def start(linger_ms: str) -> Instance:
        instance = Instance(emulator.url, tmp_path, f"one-thread-{len(started)}")
        instance.env.update(
            GUNICORN_WORKERS="1", GUNICORN_THREADS="1", GUNICORN_KEEPALIVE_LINGER_MS=linger_ms
        )
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


def test_an_idle_connection_does_not_keep_the_only_thread_from_another_caller(one_thread):
    port = one_thread(LONG_LINGER_MS).port
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


def test_a_caller_that_sends_two_requests_at_once_gets_both_answers(one_thread):
    port = one_thread(LONG_LINGER_MS).port
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
def test_a_busy_keep_alive_connection_gets_every_answer(one_thread, linger_ms):
    connection = HTTPConnection("127.0.0.1", one_thread(linger_ms).port, timeout=30)
    assert [healthz(connection) for _ in range(20)] == [200] * 20
    connection.close()


@pytest.mark.parametrize("linger_ms", ["soon", "-5"])
def test_a_linger_that_is_no_duration_stops_the_server_before_it_serves(one_thread, linger_ms):
    with pytest.raises(RuntimeError, match="GUNICORN_KEEPALIVE_LINGER_MS must be a whole number"):
        one_thread(linger_ms)
