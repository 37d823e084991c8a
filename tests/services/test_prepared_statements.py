"""Busy hours: the write path's statements stay prepared on a pooled connection.

psycopg prepares a statement on a connection after its fifth run there, and forgets all of
them when that connection rolls back. Reads that leave a transaction open for the pool to
roll back (a token check, a readiness probe) used to make PostgreSQL parse and plan the
write path again and again.
"""

import pytest
from flask import Flask

from app.extensions import db
from tests.conftest import Caller


@pytest.fixture
def one_connection(another_worker) -> Flask:
    """A second gateway on the same database with a pool of one connection and no token
    cache, so every request checks its token on the connection the writes use."""
    return another_worker(db_pool_size=1, token_cache_s=0)


def prepared_statements(gateway: Flask) -> list[str]:
    with gateway.app_context():
        pooled = db.engine.raw_connection()
        connection = pooled.driver_connection
        connection.autocommit = True  # a query of ours must not roll anything back either
        try:
            return [
                row[0] for row in connection.execute("SELECT statement FROM pg_prepared_statements")
            ]
        finally:
            connection.autocommit = False
            pooled.close()


def test_token_checks_and_readiness_probes_leave_the_writes_prepared(one_connection, rides):
    backend = Caller(one_connection.test_client(), rides.token)
    probe = one_connection.test_client()

    for trip in range(8):
        backend.bind(phone_b=f"1390000{trip:04d}")
        assert probe.get("/readyz").status_code == 200

    prepared = prepared_statements(one_connection)
    assert any("INSERT INTO bindings" in statement for statement in prepared), prepared
