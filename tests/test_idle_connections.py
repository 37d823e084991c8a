"""SQLAlchemy's pooled connections after a quiet spell: the reads, token checks and
`Idempotency-Key` claims that do not go through the statement pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from app.idle_connections import check_after_idle
from tests.conftest import CLOSES_IDLE_SESSIONS, IDLE_TIMEOUT_S, TEST_DATABASE_URL, last_statement


@pytest.fixture
def engines() -> Iterator[Callable[..., sa.Engine]]:
    """Makes one-connection engines, disposed of when the test ends."""
    made: list[sa.Engine] = []

    def make(options: str = "") -> sa.Engine:
        connect_args = {"options": options} if options else {}
        made.append(sa.create_engine(TEST_DATABASE_URL, pool_size=1, connect_args=connect_args))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def backend(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(engines):
    checked = engines(CLOSES_IDLE_SESSIONS)
    check_after_idle(checked, 0.1)
    before = backend(checked)
    time.sleep(IDLE_TIMEOUT_S * 3)

    assert backend(checked) != before


def test_without_the_check_the_first_statement_after_the_quiet_spell_fails(engines):
    """What the check spares a request: the server really does close the idle session."""
    unchecked = engines(CLOSES_IDLE_SESSIONS)
    backend(unchecked)
    time.sleep(IDLE_TIMEOUT_S * 3)

    with pytest.raises(sa.exc.OperationalError):
        backend(unchecked)


def test_only_a_connection_idle_past_the_check_is_pinged(engines):
    checked = engines()
    check_after_idle(checked, 0.3)
    pid = backend(checked)
    returned = last_statement(pid)  # the pool's reset as the connection came back
    with checked.connect():
        assert last_statement(pid) == returned
    time.sleep(0.4)
    with checked.connect():
        assert last_statement(pid) == ";"  # SQLAlchemy's ping for PostgreSQL


def test_with_the_check_at_zero_every_check_out_is_pinged(engines):
    always = engines()
    check_after_idle(always, 0)
    pid = backend(always)
    for _ in range(2):
        with always.connect() as conn:
            assert last_statement(pid) == ";"
            conn.execute(sa.text("SELECT 2"))
