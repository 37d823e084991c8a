"""Cron-safe maintenance: store derived expiry, and reconcile local state with Alibaba.

Both may run on several hosts at once: expiry is one conditional UPDATE, and
reconcile re-reads each row and records every repair as an event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy import exc as sa_exc

from app.errors import GatewayError
from app.extensions import db
from app.services import bindings as binding_service
from app.services import history
from app.services import queries as q
from app.services.clients import Client
from app.services.history import Actor

PENDING_GRACE = timedelta(minutes=2)


def _system_actor(task: str, client_id: int, client_name: str) -> Actor:
    client = Client(client_id, client_name, frozenset(), None)
    return Actor(client=client, request_id=f"{task}-{uuid.uuid4().hex[:12]}")


def expire_due() -> int:
    """Mark active bindings past `expires_at` as expired; returns how many."""
    now = datetime.now(UTC)
    statement = (
        update(q.bindings)
        .where(q.bindings.c.status == "active", q.bindings.c.expires_at <= now)
        .values(status="expired", updated_at=now)
        .returning(q.bindings.c.id, q.bindings.c.client_id)
    )
    actor = _system_actor("expire", 0, "system")
    with db.engine.begin() as conn:
        expired = conn.execute(statement).all()
        for binding_id, client_id in expired:
            history.record_change(
                conn, actor, binding_id, client_id, "Expired", {"at": now.isoformat()}
            )
    return len(expired)


def reconcile_all() -> dict[str, int]:
    """Ask Alibaba about every locally active binding and settle stale pending ones."""
    now = datetime.now(UTC)
    summary = {"checked": 0, "repaired": 0, "failed": 0, "unknown": _settle_pending(now)}
    live = (
        select(*q.BINDING_COLUMNS)
        .select_from(q.bindings.join(q.clients, q.clients.c.id == q.bindings.c.client_id))
        .where(q.bindings.c.status == "active", q.bindings.c.subs_id.is_not(None))
    )
    with db.engine.connect() as conn:
        rows = conn.execute(live, {"now": now}).all()
    for row in rows:
        summary["checked"] += 1
        actor = _system_actor("reconcile", row.client_id, row.client)
        try:
            after = binding_service.reconcile(actor, row)
        except (GatewayError, sa_exc.DBAPIError):  # one bad binding must not stop the sweep
            summary["failed"] += 1
            continue
        summary["repaired"] += after is not row
    return summary


def _settle_pending(now: datetime) -> int:
    """A pending row older than any upstream timeout lost its outcome in a crash: say so."""
    cutoff = now - PENDING_GRACE
    statement = (
        update(q.bindings)
        .where(and_(q.bindings.c.status == "pending", q.bindings.c.created_at < cutoff))
        .values(status="unknown", updated_at=now)
        .returning(q.bindings.c.id, q.bindings.c.client_id)
    )
    actor = _system_actor("reconcile", 0, "system")
    with db.engine.begin() as conn:
        settled = conn.execute(statement).all()
        for binding_id, client_id in settled:
            history.record_change(conn, actor, binding_id, client_id, "MarkedUnknown", {})
    return len(settled)
