"""The statement pool, as the request path's writes see it through a bad day: a server that
drops every connection, one that cannot be reached, a forked worker, an aged connection."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app.statement_pool import StatementPool
from tests.conftest import (
    CLOSES_IDLE_SESSIONS,
    IDLE_TIMEOUT_S,
    TEST_DATABASE_URL,
    last_statement,
    terminate,
)

CONNECT = {"connect_timeout": 3}
# A server that closes a session idle for IDLE_TIMEOUT_S.
CLOSED_AFTER_IDLE = {**CONNECT, "options": CLOSES_IDLE_SESSIONS}


def make_pool(
    url: str = TEST_DATABASE_URL,
    size: int = 2,
    timeout_s: float = 5.0,
    recycle_s: float = 1800,
    idle_check_s: float = 10.0,
    connect: dict[str, Any] = CONNECT,
) -> StatementPool:
    return StatementPool(make_url(url), size, timeout_s, recycle_s, connect, idle_check_s)


@pytest.fixture
def pools() -> Iterator[Callable[..., StatementPool]]:
    """Makes pools as `make_pool` does, and closes every one it made, even after a test
    failed halfway: none leaves its connections open on the server."""
    made: list[StatementPool] = []

    def make(**settings: Any) -> StatementPool:
        made.append(make_pool(**settings))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def pool(pools) -> StatementPool:
    return pools()


@pytest.fixture
def pool_of_four(pools) -> StatementPool:
    """Enough slots that an order of hand-outs, or a close that skipped some, would show."""
    return pools(size=4)


def backend(pool: StatementPool) -> int:
    with pool.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        return pid


def open_every_connection(pool: StatementPool) -> list[int]:
    """Hold every slot at once, so each opens its connection; their backend pids."""
    with ExitStack() as holding:
        cursors = [holding.enter_context(pool.cursor()) for _ in range(pool.size)]
        pids = []
        for cursor in cursors:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
        return pids


def test_connections_are_kept_between_statements_even_after_a_failed_one(pool):
    first = backend(pool)
    with pytest.raises(psycopg.errors.UndefinedTable), pool.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")

    assert backend(pool) == first
    assert pool.checked_out == 0


def test_the_connection_returned_last_is_taken_first(pool_of_four):
    """A quiet spell keeps to one connection, not every slot's backend in turn."""
    pool = pool_of_four
    opened = open_every_connection(pool)  # given back last to first: the first comes back last

    assert {backend(pool) for _ in range(8)} == {opened[0]}
    assert pool.checked_out == 0


def test_a_statement_runs_again_on_the_cursor_it_ran_on_before(pools):
    """psycopg keeps a cursor's adapters only while the same query runs on it again."""
    one = pools(size=1)
    ran_on = {}
    for sql in ("SELECT 1", "SELECT 'two'", "SELECT 1", "SELECT 'two'"):
        with one.cursor(sql) as cursor:
            cursor.execute(sql)
            assert cursor.fetchone()[0] in (1, "two")
            assert ran_on.setdefault(sql, cursor) is cursor
    assert ran_on["SELECT 1"] is not ran_on["SELECT 'two'"]


def test_after_the_server_dropped_its_connections_only_one_statement_fails(pool_of_four):
    pool = pool_of_four
    dropped = open_every_connection(pool)
    terminate(dropped)

    with pytest.raises(psycopg.OperationalError), pool.cursor() as cursor:
        cursor.execute("SELECT 1")
    # The other idle connections died too; they were let go with the broken one.
    assert backend(pool) not in dropped
    assert set(open_every_connection(pool)).isdisjoint(dropped)


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(pools):
    """A quiet spell longer than the server's idle_session_timeout costs no statement."""
    quiet = pools(idle_check_s=0.1, connect=CLOSED_AFTER_IDLE)
    before = backend(quiet)
    time.sleep(IDLE_TIMEOUT_S * 3)

    assert backend(quiet) != before


def test_only_a_connection_idle_past_the_check_is_asked_first(pools):
    """The busy path pays no round trip; a connection back from a quiet spell is asked an
    empty query before the statement it was taken for."""
    checked = pools(idle_check_s=0.3)
    pid = backend(checked)
    with checked.cursor():
        assert last_statement(pid) == "SELECT pg_backend_pid()"
    time.sleep(0.4)
    with checked.cursor():
        assert last_statement(pid) == ""


def test_with_the_check_at_zero_every_use_is_asked_first(pools):
    """An operator who wants pre-ping's behaviour sets the check to 0."""
    always = pools(idle_check_s=0)
    pid = backend(always)
    for _ in range(2):
        with always.cursor() as cursor:
            assert last_statement(pid) == ""
            cursor.execute("SELECT 2")


def test_an_unreachable_server_fails_at_once_and_frees_the_slot(pools):
    unreachable = pools(url="postgresql+psycopg://postgres@127.0.0.1:1/test", size=1)

    for _ in range(2):  # a slot kept by the first failure would time out the second
        with pytest.raises(psycopg.OperationalError), unreachable.cursor():
            pass
    assert unreachable.checked_out == 0


def test_a_request_waits_for_a_free_connection_no_longer_than_the_timeout(pools):
    busy = pools(size=1, timeout_s=0.2)
    with busy.cursor(), pytest.raises(sa_exc.TimeoutError), busy.cursor():
        pass


def test_an_aged_connection_is_replaced(pools):
    aging = pools(recycle_s=0)
    assert backend(aging) != backend(aging)


def test_a_forked_worker_opens_its_own_connections_and_leaves_the_parents_alone(pool):
    parents = open_every_connection(pool)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.write(write, str(backend(pool)).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as answer:
        in_child = int(answer.read())

    assert in_child not in parents
    assert sorted(open_every_connection(pool)) == sorted(parents)
