"""The SQL of the binding use cases, as SQLAlchemy Core statements compiled once.

Every read of a binding joins its client's name and derives expiry in SQL, so a
binding past `expires_at` reads as `expired` whether or not a sweeper has run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, bindparam, case, insert, literal, select, update

from app.models import ApiClient, Binding, BindingEvent

bindings = Binding.__table__
events = BindingEvent.__table__
clients = ApiClient.__table__

NOW = bindparam("now")

derived_status = case(
    (and_(bindings.c.status == "active", bindings.c.expires_at <= NOW), literal("expired")),
    else_=bindings.c.status,
).label("status")

BINDING_COLUMNS = (
    bindings.c.id,
    bindings.c.type,
    bindings.c.pool_key,
    bindings.c.subs_id,
    bindings.c.phone_x,
    bindings.c.extension,
    bindings.c.phone_a,
    bindings.c.phone_b,
    bindings.c.expect_city,
    bindings.c.record_calls,
    bindings.c.out_id,
    bindings.c.call_restrict,
    derived_status,
    bindings.c.expires_at,
    bindings.c.created_at,
    bindings.c.updated_at,
    bindings.c.unbound_at,
    clients.c.name.label("client"),
    bindings.c.client_id,
)

binding_by_id = (
    select(*BINDING_COLUMNS)
    .select_from(bindings.join(clients, clients.c.id == bindings.c.client_id))
    .where(bindings.c.id == bindparam("binding_id"))
)

insert_binding = insert(bindings)
INSERTED = (
    "id",
    "client_id",
    "type",
    "pool_key",
    "phone_x",
    "phone_a",
    "phone_b",
    "expect_city",
    "out_id",
    "record_calls",
    "call_restrict",
    "status",
    "expires_at",
    "created_at",
    "updated_at",
)


def now() -> datetime:
    return datetime.now(UTC)


insert_event = insert(events)


def update_binding(owner: str, **values: object):
    """UPDATE one binding, answering with the row as the API shows it.

    The owner's name comes from the caller: SQLite's RETURNING cannot reach a joined table.
    """
    return (
        update(bindings)
        .where(bindings.c.id == bindparam("binding_id"))
        .values(**values)
        .returning(*BINDING_COLUMNS[:-2], literal(owner).label("client"), bindings.c.client_id)
    )


events_of_binding = (
    select(
        events.c.id,
        events.c.binding_id,
        clients.c.name.label("client"),
        events.c.action,
        events.c.outcome,
        events.c.upstream_code,
        events.c.upstream_request_id,
        events.c.http_status,
        events.c.latency_ms,
        events.c.request_id,
        events.c.idempotency_key,
        events.c.occurred_at,
        events.c.params,
    )
    .select_from(events.join(clients, clients.c.id == events.c.client_id))
    .where(events.c.binding_id == bindparam("binding_id"))
    .order_by(events.c.occurred_at, events.c.id)
)
