"""A PostgreSQL whose defaults are not the gateway's: what callers see stays the same.

A DBA may set the server's time zone to China time, its DateStyle to another order, a
database's client encoding to one without Chinese, or every transaction to SERIALIZABLE;
the gateway's sessions set each to what it reads, writes and reasons under, so none of
them reaches a caller.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from app.services.clients import READ, WRITE, create_client
from tests.conftest import Caller, axb, migrated_database

CHINA_TIME = "timezone TO 'Asia/Shanghai'"
DAY_FIRST_DATES = "DateStyle TO 'SQL, DMY'"
LATIN_TEXT = "client_encoding TO 'LATIN1'"
SERIALIZABLE = "default_transaction_isolation TO 'serializable'"


@contextmanager
def caller_on_a_database_set_to(app, another_worker, *settings: str) -> Iterator[Caller]:
    """The ride-hailing backend, calling a gateway whose database has these defaults."""
    with migrated_database(app, "own_defaults", *settings) as url:
        gateway = another_worker(database_url=url)
        with gateway.app_context():
            token = create_client("rides", [WRITE, READ], None)
        yield Caller(gateway.test_client(), token)


def test_a_database_with_its_own_zone_dates_and_encoding_binds_reads_and_unbinds_as_usual(
    app, another_worker
):
    with caller_on_a_database_set_to(
        app, another_worker, CHINA_TIME, DAY_FIRST_DATES, LATIN_TEXT
    ) as rides:
        made = rides.bind(expect_city="杭州")
        read = rides.get(f"/v1/bindings/{made['id']}")
        ended = rides.delete(f"/v1/bindings/{made['id']}")

    assert read.status_code == 200, read.get_json()
    assert read.get_json()["created_at"] == made["created_at"]
    assert read.get_json()["expect_city"] == "杭州"
    assert made["created_at"].endswith("Z")
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "unbound"


def test_concurrent_duplicates_bind_once_on_a_database_that_defaults_to_serializable(
    app, another_worker, emulator
):
    """Ten bursts of eight retries, each burst released at once: every key binds once, and
    every duplicate is told the first is running or gets its answer, never a 503."""
    bursts, retries = 10, 8

    def retry(rides: Caller, key: str, start: threading.Barrier, _: int):
        start.wait()
        return rides.post("/v1/bindings", json=axb(), headers={"Idempotency-Key": key})

    with (
        caller_on_a_database_set_to(app, another_worker, SERIALIZABLE) as rides,
        ThreadPoolExecutor(retries) as pool,
    ):
        answers = []
        for burst in range(bursts):
            burst_of = partial(retry, rides, f"burst-{burst}", threading.Barrier(retries))
            answers += pool.map(burst_of, range(retries))

    statuses = {a.status_code for a in answers}
    assert statuses <= {201, 409}, [a.get_json() for a in answers if a.status_code >= 500]
    assert len(emulator.wait_for_calls("BindAxb", bursts)) == bursts
