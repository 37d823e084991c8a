"""Busy hours: the write path's statements stay prepared on their pooled connection.

psycopg prepares a statement on a connection after its fifth run there, and forgets all of
them when that connection rolls back. The writes have a pool of their own whose connections
stay in autocommit, so token checks and readiness probes, which read through SQLAlchemy's
pool, leave them prepared.
"""

import pytest
from flask import Flask

from tests.conftest import Caller


@pytest.fixture
def one_connection(another_worker) -> Flask:
    """A second gateway on the same database whose writes share one connection, with no
    token cache, so every request checks its token too."""
    return another_worker(db_statement_pool_size=1, token_cache_s=0)


def prepared_statements(gateway: Flask) -> list[str]:
    with gateway.extensions["statements"].cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_token_checks_and_readiness_probes_leave_the_writes_prepared(one_connection, rides):
    backend = Caller(one_connection.test_client(), rides.token)
    probe = one_connection.test_client()

    for trip in range(8):
        backend.bind(phone_b=f"1390000{trip:04d}")
        assert probe.get("/readyz").status_code == 200

    prepared = prepared_statements(one_connection)
    assert any("INSERT INTO bindings" in statement for statement in prepared), prepared
