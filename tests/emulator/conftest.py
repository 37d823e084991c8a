"""The emulator on a real port, and the official SDK pointed at it.

Tests talk to the emulator only as the gateway will: `AcsClient` plus the request classes of
`aliyun-python-sdk-dyplsapi` (and `CommonRequest` for QueryCallStatus), over HTTP on 127.0.0.1.
"""

from collections.abc import Callable, Iterator

import pytest
import requests

from emulator.app import create_app
from emulator.server import RunningServer, serve_in_background
from tests.emulator.dypls_client import ACCESS_KEYS, Dypls, FakeClock


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def emulator(clock: FakeClock) -> Iterator[RunningServer]:
    with serve_in_background(create_app(access_keys=ACCESS_KEYS, clock=clock)) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: RunningServer, clock: FakeClock) -> None:
    """Every test starts from an empty emulator at the real time."""
    requests.post(f"{emulator.url}/__emulator/reset", timeout=5).raise_for_status()
    clock.offset = 0.0


@pytest.fixture
def dypls(emulator: RunningServer, clock: FakeClock) -> Dypls:
    return Dypls(emulator.port, clock)


@pytest.fixture
def emulator_with_pools(clock: FakeClock) -> Iterator[Callable[..., Dypls]]:
    """A separate emulator holding only the given pools (the pools-file format, as a dict)."""
    servers: list[RunningServer] = []

    def start(*pools: dict, **options: object) -> Dypls:
        app = create_app(
            pools={"pools": list(pools)}, access_keys=ACCESS_KEYS, clock=clock, **options
        )
        servers.append(serve_in_background(app))
        return Dypls(servers[-1].port, clock)

    yield start
    for server in servers:
        server.close()
