"""Autocommitted connections for the request path's one-statement writes.

Each write around an upstream call is a single statement (app/services/writes.py): it needs
no transaction, only a connection in autocommit and a cursor. Taken from SQLAlchemy's pool,
those cost more than the statement itself. Counted under callgrind, a `select 1` on a kept
cursor is 70k instructions; SQLAlchemy's check-out and check-in with its reset add 72k,
switching the connection into autocommit and back 12k, and a new cursor 22k.

Here a connection stays in autocommit and keeps a cursor for each statement it runs, and
the pool holds `size` slots, each a connection or an empty place for one. The idle slots are
a stack: the connection returned last is taken first, so a worker keeps using the few
connections its concurrent statements need and the rest of its slots stay empty. Taken in
turn (first in, first out), every request rotated through all of them, with a PostgreSQL
backend each to keep warm: 5–16 % more of PostgreSQL's CPU per request (docs/performance.md,
fifteenth round). A `queue.SimpleQueue` of tokens, one per idle slot, does the waiting: a
thread holding a token is owed a slot, as each token is put after its slot. Both are C;
taking and returning a slot costs almost nothing. psycopg keeps a cursor's adapters only
while the same query runs on it again: one cursor shared by the write path's
statements looked up its dumpers and loaders afresh on every execute, 100k instructions per
request. psycopg_pool was measured too, at 28k, but it opens connections in background
threads: through an outage a request would wait the whole pool timeout for a connection
that cannot come. Here, as in SQLAlchemy's pool, the requesting thread connects itself, so
an outage is an immediate error. A connection found broken empties the idle slots, since
the others died with the same server.

The stack's bottom slots may sit idle for long, and a server's `idle_session_timeout`, a
firewall or a NAT table may close a connection meanwhile: the request that took it would
fail. A slot idle for longer than `idle_check_s` is asked an empty query before use and
opened afresh if it does not answer. A connection in steady use is never asked, so the
busy path pays nothing (SQLAlchemy's pool does the same, app/idle_connections.py).

SQLAlchemy's pool stays for everything that runs a transaction or reads
(docs/performance.md, ninth round).
"""

from __future__ import annotations

import collections
import os
import queue
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

_POOLS: weakref.WeakSet[StatementPool] = weakref.WeakSet()


class _Slot:
    """A pooled connection with its kept cursors, its age and when it last came back."""

    __slots__ = ("connection", "cursors", "expires_at", "idle_since")

    def __init__(self, connection: psycopg.Connection, expires_at: float) -> None:
        self.connection = connection
        self.cursors: dict[str, psycopg.Cursor] = {}
        self.expires_at = expires_at
        self.idle_since = time.monotonic()

    def cursor(self, statement: str) -> psycopg.Cursor:
        """The cursor kept for `statement`. The request path's statements are few and each
        made once (app/services/writes.py), so a connection keeps a handful."""
        cursor = self.cursors.get(statement)
        if cursor is None:
            cursor = self.cursors[statement] = self.connection.cursor()
        return cursor


class StatementPool:
    """Up to `size` autocommitted connections per process, opened as first needed."""

    def __init__(
        self,
        url: URL,
        size: int,
        timeout_s: float,
        recycle_s: float,
        connect_args: Mapping[str, Any],
        idle_check_s: float,
    ) -> None:
        self.size = size
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connect_args = {**connect_args, "autocommit": True}
        self._timeout_s = timeout_s
        self._recycle_s = recycle_s
        self._idle_check_s = idle_check_s
        self._idle: collections.deque[_Slot | None]
        self._tokens: queue.SimpleQueue[None]
        self._forget()
        _POOLS.add(self)

    def _forget(self) -> None:
        """Every slot empty, without closing what they held (a forked child's parent uses it)."""
        self._idle = collections.deque([None] * self.size)
        self._tokens = queue.SimpleQueue()
        for _ in range(self.size):
            self._tokens.put(None)

    @property
    def checked_out(self) -> int:
        return self.size - self._tokens.qsize()

    def _take(self, timeout_s: float | None) -> _Slot | None:
        """The slot returned last, once a token says one is idle; queue.Empty past the timeout
        (None: do not wait)."""
        self._tokens.get(block=timeout_s is not None, timeout=timeout_s)
        return self._idle.pop()

    def _give_back(self, slot: _Slot | None) -> None:
        if slot is not None:
            slot.idle_since = time.monotonic()
        self._idle.append(slot)
        self._tokens.put(None)

    @contextmanager
    def cursor(self, statement: str = "") -> Iterator[psycopg.Cursor]:
        """A pooled connection's cursor kept for `statement`, to run it once. Waits up to the pool
        timeout for a slot (SQLAlchemy's TimeoutError, as its own pool raises); a connection
        that cannot be opened raises psycopg's error at once."""
        try:
            slot = self._take(self._timeout_s)
        except queue.Empty:
            raise sa_exc.TimeoutError(
                f"no statement connection came free in {self._timeout_s} s"
            ) from None
        try:
            if slot is not None and not self._usable(slot):
                slot.connection.close()
                slot = None
            if slot is None:
                connection = psycopg.connect(self._conninfo, **self._connect_args)
                slot = _Slot(connection, time.monotonic() + self._recycle_s)
            yield slot.cursor(statement)
        except psycopg.Error:
            if slot is not None and slot.connection.broken:
                self.close()
            raise
        finally:
            self._give_back(_sound(slot))

    def _usable(self, slot: _Slot) -> bool:
        """Young enough, and, after a long idle spell, still answering."""
        now = time.monotonic()
        if slot.expires_at <= now:
            return False
        if now - slot.idle_since < self._idle_check_s:
            return True
        try:
            slot.connection.execute("")
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        """Close the idle connections: at shutdown, or when one turned out broken (the
        others died with the same server). Connections in use close as they come back."""
        idle = []
        for _ in range(self._tokens.qsize()):
            try:
                idle.append(self._take(None))
            except queue.Empty:
                break
        # Each empty slot goes back only once all are taken: the stack would hand it out again.
        for slot in idle:
            if slot is not None:
                slot.connection.close()
            self._give_back(None)


def _sound(slot: _Slot | None) -> _Slot | None:
    """The slot as it goes back: emptied unless its connection is idle and sound. Asked of
    libpq's connection directly: `connection.info` builds a `ConnectionInfo` on every read,
    and its answer an enum."""
    if slot is not None and slot.connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        slot.connection.close()
        return None
    return slot


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)
