"""Reconcile: make local history agree with Alibaba after crashes, timeouts and drift.

Two directions. Every locally active binding is checked upstream (gone → unbound,
expired → expired, changed → repaired). Every binding left `pending` by a crash or
a timeout is looked for upstream: Alibaba can only list the SubsIds on one X, so
reconcile asks each X this pool has recently used and adopts a binding whose A, B
and expiry match. Whatever it cannot find becomes `unknown`, still searchable.
Every upstream call and every repair is recorded as an event.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, select, update

from app.errors import GatewayError
from app.extensions import db
from app.providers.aliyun import AliyunProvider
from app.providers.attempt import Attempt
from app.providers.types import SubscriptionDetail, SubscriptionRef, UpstreamCall
from app.services import bindings as binding_service
from app.services import history
from app.services import queries as q
from app.services.clients import Client
from app.services.connections import DATABASE_FAILURES, reading
from app.services.history import Actor

KNOWN_X_WINDOW = timedelta(days=7)
SAME_EXPIRY = timedelta(seconds=1)

live_rows = (
    select(*q.BINDING_COLUMNS)
    .select_from(q.bindings.join(q.clients, q.clients.c.id == q.bindings.c.client_id))
    .where(q.bindings.c.status == "active", q.bindings.c.subs_id.is_not(None))
)


def _actor(row: Row, task: str) -> Actor:
    """Repairs are the gateway's own, recorded under the binding's owner."""
    owner = Client(row.client_id, row.client, frozenset(), None)
    return Actor(client=owner, request_id=f"{task}-{uuid.uuid4().hex[:12]}")


def _provider() -> AliyunProvider:
    return current_app.extensions["dypls"]


def reconcile_all(pending_after: timedelta) -> Counter[str]:
    summary: Counter[str] = Counter()
    now = datetime.now(UTC)
    with reading() as conn:
        active = conn.execute(live_rows, {"now": now}).all()
    for row in active:
        summary["checked"] += 1
        try:
            after = binding_service.reconcile(_actor(row, "reconcile"), row)
        except (GatewayError, *DATABASE_FAILURES):
            summary["failed"] += 1
            continue
        summary["repaired"] += after is not row
    _resolve_pending(now - pending_after, summary)
    return summary


def _resolve_pending(cutoff: datetime, summary: Counter[str]) -> None:
    stale = (
        select(*q.BINDING_COLUMNS)
        .select_from(q.bindings.join(q.clients, q.clients.c.id == q.bindings.c.client_id))
        .where(
            q.bindings.c.status.in_(("pending", "unknown")),
            q.bindings.c.subs_id.is_(None),
            q.bindings.c.created_at < cutoff,
        )
        .order_by(q.bindings.c.created_at)
    )
    with reading() as conn:
        rows = conn.execute(stale, {"now": datetime.now(UTC)}).all()
    by_pool: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_pool[row.pool_key].append(row)
    for pool_key, waiting in by_pool.items():
        _search_pool(pool_key, waiting, summary)


def _known_xs(pool_key: str, waiting: list[Row]) -> list[str]:
    since = datetime.now(UTC) - KNOWN_X_WINDOW
    query = (
        select(q.bindings.c.phone_x)
        .where(
            q.bindings.c.pool_key == pool_key,
            q.bindings.c.phone_x.is_not(None),
            q.bindings.c.created_at >= since,
        )
        .distinct()
    )
    with reading() as conn:
        xs = {x for (x,) in conn.execute(query)}
    return sorted(xs | {row.phone_x for row in waiting if row.phone_x})


def _known_subs(pool_key: str) -> set[str]:
    query = select(q.bindings.c.subs_id).where(
        q.bindings.c.pool_key == pool_key, q.bindings.c.subs_id.is_not(None)
    )
    with reading() as conn:
        return {s for (s,) in conn.execute(query)}


def _matches(row: Row, detail: SubscriptionDetail) -> bool:
    close = detail.expires_at is not None and abs(detail.expires_at - row.expires_at) <= SAME_EXPIRY
    return detail.phone_a == row.phone_a and detail.phone_b == row.phone_b and close


def _search_pool(pool_key: str, waiting: list[Row], summary: Counter[str]) -> None:
    provider = _provider()
    anchor = waiting[0]
    known = _known_subs(pool_key)
    searched: tuple[UpstreamCall, ...] = ()
    for phone_x in _known_xs(pool_key, waiting):
        if not waiting:
            break
        found = provider.query_subs_ids(pool_key, phone_x)
        searched += found.calls
        for subs_id in found.value or []:
            if subs_id in known:
                continue
            detail = provider.query_detail(SubscriptionRef(pool_key, subs_id, phone_x))
            match = next((r for r in waiting if detail.value and _matches(r, detail.value)), None)
            if match is None:
                searched += detail.calls
                summary["orphans"] += detail.error is None
                continue
            _adopt(match, detail)
            waiting.remove(match)
            known.add(subs_id)
            summary["adopted"] += 1
    _record_search(anchor, searched)
    for row in waiting:
        if row.status == "pending":
            _mark_unknown(row)
            summary["unknown"] += 1


def _adopt(row: Row, detail: Attempt[SubscriptionDetail]) -> None:
    """The bind happened upstream though its outcome was never recorded: record it now."""
    found = detail.value
    actor = _actor(row, "reconcile")
    now = datetime.now(UTC)
    statement = (
        update(q.bindings)
        .where(q.bindings.c.id == row.id, q.bindings.c.subs_id.is_(None))
        .values(
            subs_id=found.subs_id,
            phone_x=found.phone_x,
            status="active" if found.active else "expired",
            updated_at=now,
        )
    )
    with db.engine.begin() as conn:
        conn.execute(statement)
        history.record_calls(conn, actor, row.id, row.client_id, detail.calls, None)
        history.record_change(
            conn,
            actor,
            row.id,
            row.client_id,
            "Adopted",
            {"subs_id": found.subs_id, "phone_x": found.phone_x},
        )


def _record_search(anchor: Row, calls: tuple[UpstreamCall, ...]) -> None:
    with db.engine.begin() as conn:
        history.record_calls(
            conn, _actor(anchor, "reconcile"), anchor.id, anchor.client_id, calls, None
        )


def _mark_unknown(row: Row) -> None:
    """Its outcome was lost and Alibaba does not show it: say so, keep it searchable."""
    statement = (
        update(q.bindings)
        .where(q.bindings.c.id == row.id, q.bindings.c.status == "pending")
        .values(status="unknown", updated_at=datetime.now(UTC))
    )
    with db.engine.begin() as conn:
        if conn.execute(statement).rowcount:
            history.record_change(
                conn, _actor(row, "reconcile"), row.id, row.client_id, "MarkedUnknown", {}
            )
