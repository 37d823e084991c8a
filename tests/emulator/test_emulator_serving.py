"""Serving: `python -m emulator` as operators start it, keep-alive, and overlapping slow calls."""

import http.client
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from emulator import DEFAULT_POOL_KEY, SANDBOX_ACCESS_KEY_ID
from emulator.app import create_app
from emulator.server import serve_in_background
from tests.emulator.cli_process import PROJECT_ROOT, start_cli, stop
from tests.emulator.dypls_client import ACCESS_KEYS, Dypls

EXAMPLE_POOLS = PROJECT_ROOT / "emulator" / "pools.json"


def test_python_m_emulator_answers_the_sdk_and_stops_on_sigterm(clock):
    process, port, _ = start_cli()
    try:
        answer = Dypls(port, clock).bind_axb(PhoneNoA="13800000001", PhoneNoB="13900000002")
    finally:
        stop(process)

    assert answer["Code"] == "OK"


def test_the_banner_names_the_pool_keys_and_the_access_key_id(monkeypatch):
    monkeypatch.delenv("EMULATOR_ACCESS_KEYS", raising=False)
    process, _, banner = start_cli("--pools", str(EXAMPLE_POOLS))
    stop(process)

    assert "FC100000000000001, FC100000000000002" in banner
    assert SANDBOX_ACCESS_KEY_ID in banner


def test_an_unreadable_pools_file_stops_the_cli_with_a_message(tmp_path):
    broken = tmp_path / "pools.json"
    broken.write_text('{"pools": []}')

    finished = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--pools", str(broken)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert finished.returncode == 2
    assert "pools" in finished.stderr


def test_latency_delays_api_calls_but_not_control_endpoints(clock):
    with serve_in_background(
        create_app(access_keys=ACCESS_KEYS, latency_ms=200, clock=clock)
    ) as server:
        started = time.monotonic()
        requests.get(f"{server.url}/__emulator/health", timeout=5).raise_for_status()
        control_s = time.monotonic() - started

        started = time.monotonic()
        assert Dypls(server.port, clock).remain(SpecId=1, City="杭州")["Code"] == "OK"
        api_s = time.monotonic() - started

    assert control_s < 0.1 <= 0.2 <= api_s


def test_64_slow_calls_overlap_instead_of_queueing(clock):
    with serve_in_background(
        create_app(access_keys=ACCESS_KEYS, latency_ms=500, clock=clock)
    ) as server:
        clients = [Dypls(server.port, clock) for _ in range(64)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=64) as pool:
            codes = list(pool.map(lambda c: c.remain(SpecId=1, City="杭州")["Code"], clients))
        elapsed = time.monotonic() - started

    assert codes == ["OK"] * 64
    assert elapsed < 3


def test_one_connection_carries_many_calls(emulator):
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    statuses = []
    for _ in range(3):
        connection.request("GET", "/__emulator/health")
        statuses.append(connection.getresponse().read() and connection.sock is not None)
    connection.close()

    assert statuses == [True, True, True]


@pytest.mark.parametrize(("method", "status"), [("GET", 405), ("PUT", 405)])
def test_a_control_endpoint_refuses_methods_it_does_not_serve(emulator, method, status):
    assert (
        requests.request(method, f"{emulator.url}/__emulator/reset", timeout=5).status_code
        == status
    )


def test_the_sandbox_constants_match_the_default_app(monkeypatch):
    monkeypatch.delenv("EMULATOR_ACCESS_KEYS", raising=False)
    app = create_app(access_keys=None)

    assert app.access_key_ids == [SANDBOX_ACCESS_KEY_ID]
    assert list(app.catalog.pools) == [DEFAULT_POOL_KEY]
    assert len(app.catalog.pools[DEFAULT_POOL_KEY].numbers) >= 200


def test_access_key_pairs_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EMULATOR_ACCESS_KEYS", "ci-id:ci-secret, staging-id:sec:ret")

    assert create_app().access_key_ids == ["ci-id", "staging-id"]


def test_a_malformed_access_key_list_is_refused(monkeypatch):
    monkeypatch.setenv("EMULATOR_ACCESS_KEYS", "ci-id-without-secret")

    with pytest.raises(ValueError, match="EMULATOR_ACCESS_KEYS"):
        create_app()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"411"),
        (b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", b"400"),
    ],
    ids=["no request line", "chunked body", "bad length"],
)
def test_a_request_the_server_cannot_read_is_refused_and_closed(emulator, raw, status):
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as conn:
        conn.sendall(raw)
        answer = conn.recv(4096)

    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in answer
