"""Connections for reads that are one statement, or a few that need no snapshot together.

Out of a transaction (autocommit) nothing is left to roll back when the connection goes
back to the pool. That matters: on a ROLLBACK psycopg forgets every statement it prepared on
the connection (DEALLOCATE ALL), and PostgreSQL then parses and plans the write path's
statements afresh on it until they are prepared again. One token-cache miss or one
readiness probe through a plain `connect()` did that to a pooled connection, and an audit
search planned afresh costs more than it takes to run (it spans every monthly partition).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from app.extensions import db

# What a database call raises when it did not happen: the driver's errors, or no pooled
# connection free within DB_POOL_TIMEOUT_SECONDS (the pool has no overflow to open one).
DATABASE_FAILURES = (sa_exc.DBAPIError, sa_exc.TimeoutError)


def reading(engine: Engine | None = None) -> Connection:
    """A connection in autocommit on `engine` (the main database unless told)."""
    return (engine or db.engine).connect().execution_options(isolation_level="AUTOCOMMIT")
