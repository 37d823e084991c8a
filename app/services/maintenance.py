"""Cron-safe maintenance: store derived expiry, purge stale keys, run reconcile alone.

Expiry is one conditional UPDATE, safe on several hosts at once; reconcile takes a
PostgreSQL advisory lock so that concurrent runs from several hosts do not
double the upstream queries (the second one reports and leaves).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update

from app.extensions import db
from app.services import history, idempotency, reconcile
from app.services import queries as q
from app.services.clients import Client
from app.services.history import Actor

RECONCILE_LOCK = 0x5049_4C53  # "PILS": one reconcile at a time, cluster-wide


def expire_due() -> int:
    """Mark active bindings past `expires_at` as expired; returns how many."""
    now = datetime.now(UTC)
    statement = (
        update(q.bindings)
        .where(q.bindings.c.status == "active", q.bindings.c.expires_at <= now)
        .values(status="expired", updated_at=now)
        .returning(q.bindings.c.id, q.bindings.c.client_id)
    )
    actor = Actor(Client(0, "system", frozenset(), None), f"expire-{uuid.uuid4().hex[:12]}")
    with db.engine.begin() as conn:
        expired = conn.execute(statement).all()
        for binding_id, client_id in expired:
            history.record_change(
                conn, actor, binding_id, client_id, "Expired", {"at": now.isoformat()}
            )
    return len(expired)


def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


@contextmanager
def _exclusive() -> Iterator[bool]:
    with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield True
            return
        held = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RECONCILE_LOCK}).scalar()
        try:
            yield bool(held)
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RECONCILE_LOCK})
            conn.commit()


def reconcile_all(pending_after: timedelta) -> Counter[str] | None:
    """None when another host is reconciling right now."""
    with _exclusive() as alone:
        if not alone:
            return None
        return reconcile.reconcile_all(pending_after)
