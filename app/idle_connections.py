"""SQLAlchemy's pooled connections, checked before use after a long idle spell.

A server's `idle_session_timeout`, a firewall or a NAT table may close a connection that sat
idle in the pool; the request that took it next would answer 503. SQLAlchemy's pre-ping
would catch it, at the cost of a round trip on every check-out of the hot path. Here only a
connection idle for longer than `DB_POOL_IDLE_CHECK_SECONDS` is pinged, and a dead one is
replaced before the request sees it: the pool retries the check-out on a new connection.
The statement pool does the same for its own connections (app/statement_pool.py).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

IDLE_SINCE = "idle_since"


def check_after_idle(engine: Engine, idle_check_s: float) -> None:
    """Ping a connection of `engine`'s pool that comes out after `idle_check_s` or more idle."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from_now(dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_after_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < idle_check_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise sa_exc.DisconnectionError(f"idle connection lost: {error}") from error
