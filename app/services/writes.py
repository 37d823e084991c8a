"""The two writes around every bind and unbind: write-ahead, and outcome.

On PostgreSQL each is one statement (data-modifying CTEs), sent on an autocommitted
connection of the statement pool (app/statement_pool.py): one round trip instead of
BEGIN, two statements and COMMIT through SQLAlchemy, which was the largest cost the
gateway added around the SDK call. One statement is one transaction, so each write stays
atomic. Elsewhere (SQLite, for `make run`) the same writes run as Core statements in a
transaction.
"""

from __future__ import annotations

import uuid
from collections import namedtuple
from functools import cache
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, insert
from sqlalchemy import exc as sa_exc

from app import context
from app.extensions import db
from app.providers.types import UNBIND_FIELDS, unbind_params
from app.services import history
from app.services import queries as q
from app.services.connections import reading
from app.statement_pool import StatementPool

FIELDS = tuple(c.name for c in q.BINDING_COLUMNS if c.name not in ("status", "client", "client_id"))
UPDATABLE = frozenset(
    {"status", "subs_id", "phone_x", "extension", "phone_a", "phone_b", "expires_at"}
    | {"call_restrict", "record_calls", "updated_at", "unbound_at"}
)
EVENT_COLUMNS = (
    "occurred_at",
    "binding_id",
    "client_id",
    "action",
    "outcome",
    "upstream_code",
    "upstream_request_id",
    "http_status",
    "latency_ms",
    "request_id",
    "idempotency_key",
    "params",
)
EVENT_TYPES = (
    "occurred_at timestamptz, client_id bigint, action text, outcome text, upstream_code text, "
    "upstream_request_id text, http_status smallint, latency_ms float8, request_id text, "
    "idempotency_key text, params json"
)
INSERT_EVENT = insert(q.events).values({c: bindparam(c) for c in EVENT_COLUMNS})
DERIVED_STATUS = (
    "CASE WHEN u.status = 'active' AND u.expires_at <= now() THEN 'expired' ELSE u.status END"
)
SHOWN = ", ".join(
    [
        *(f"u.{name}" for name in FIELDS),
        f"{DERIVED_STATUS} AS status",
        "%(owner)s::text AS client",
        "u.client_id",
    ]
)
WRITE_AHEAD = f"""
WITH b AS (
    INSERT INTO bindings ({", ".join(q.INSERTED)})
    VALUES ({", ".join(f"%({c})s" for c in q.INSERTED)})
    RETURNING id, phone_a, phone_b, phone_x
)
INSERT INTO binding_events ({", ".join(EVENT_COLUMNS)}, phone_a, phone_b, phone_x)
SELECT {", ".join("b.id" if c == "binding_id" else f"%(event_{c})s" for c in EVENT_COLUMNS)},
       b.phone_a, b.phone_b, b.phone_x
FROM b
"""


@cache
def _outcome_sql(changed: tuple[str, ...]) -> str:
    """UPDATE the binding, INSERT its call events, answer the row: one statement."""
    assignments = ", ".join(f"{name} = %({name})s" for name in changed)
    copied = ", ".join("u.id" if c == "binding_id" else f"e.{c}" for c in EVENT_COLUMNS)
    return f"""
WITH u AS (
    UPDATE bindings SET {assignments} WHERE id = %(binding_id)s RETURNING *
), e AS (
    INSERT INTO binding_events ({", ".join(EVENT_COLUMNS)}, phone_a, phone_b, phone_x)
    SELECT {copied}, u.phone_a, u.phone_b, u.phone_x
    FROM u CROSS JOIN jsonb_to_recordset(%(events)s) AS e({EVENT_TYPES})
)
SELECT {SHOWN} FROM u
"""


_ROW_TYPES: dict[str, type] = {}


def _run(pool: StatementPool, sql: str, params: dict[str, Any]) -> Any:
    """Run one statement on an autocommitted connection of the statement pool, on the cursor
    kept for it; its one row as a named tuple, or None when it answers none. The tuple's type
    is made once per statement: psycopg's namedtuple_row looks it up by every column's name
    on every execute, 38k instructions for a binding's row. Whether there is a row to fetch is
    asked of the result's field count: `cursor.description` builds a `Column` per field, and
    looks up its type, on every read. Driver errors leave as SQLAlchemy's, so callers handle
    one family of database errors."""
    try:
        with pool.cursor(sql) as cursor:
            cursor.execute(sql, params)
            values = cursor.fetchone() if cursor.pgresult.nfields else None
            if values is None:
                return None
            row_type = _ROW_TYPES.get(sql)
            if row_type is None:
                names = [column.name for column in cursor.description]
                row_type = _ROW_TYPES.setdefault(sql, namedtuple("Row", names))
    except psycopg.Error as exc:
        raise sa_exc.DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    return row_type._make(values)


def _statements() -> StatementPool | None:
    """PostgreSQL's statement pool; SQLite, for `make run`, has none."""
    return context.current_app().extensions.get("statements")


@cache
def _compiled(statement: Any) -> tuple[str, dict[str, Any]]:
    """A Core statement as PostgreSQL SQL with %(name)s parameters, compiled once,
    with the values of the literals it binds."""
    compiled = statement.compile(dialect=db.engine.dialect)
    return str(compiled), dict(compiled.params)


def load(binding_id: uuid.UUID) -> Any:
    """A binding as the API shows it, or None."""
    params = {"binding_id": binding_id, "now": q.now()}
    if pool := _statements():
        sql, literals = _compiled(q.binding_by_id)
        return _run(pool, sql, {**literals, **params})
    with reading() as conn:
        return conn.execute(q.binding_by_id, params).first()


@cache
def _unbind_sql() -> str:
    """The binding as `load` reads it and, when the caller may unbind it now, the
    UnbindSubscription request event with its parameters taken from the row."""
    binding, _ = _compiled(q.binding_by_id)
    params = ", ".join(f"'{param}', b.{column}" for param, column in UNBIND_FIELDS.items())
    computed = {"binding_id": "b.id", "params": f"json_build_object({params})"}
    event = ", ".join(computed.get(c, f"%(event_{c})s") for c in EVENT_COLUMNS)
    return f"""
WITH b AS ({binding}), e AS (
    INSERT INTO binding_events ({", ".join(EVENT_COLUMNS)}, phone_a, phone_b, phone_x)
    SELECT {event}, b.phone_a, b.phone_b, b.phone_x
    FROM b
    WHERE %(proceed)s AND b.client_id = %(event_client_id)s AND b.status = ANY(%(live)s)
)
SELECT * FROM b
"""


def load_for_unbind(
    binding_id: uuid.UUID, event: dict[str, Any], live: tuple[str, ...], proceed: bool
) -> Any:
    """A binding as the API shows it, or None; and, in the same statement, the write-ahead
    event of its unbinding when `proceed` holds, the event's client owns it and its status
    is one of `live`. One round trip where a load and an insert took two."""
    if pool := _statements():
        params = {"binding_id": binding_id, "now": q.now(), "proceed": proceed, "live": list(live)}
        params.update({f"event_{k}": v for k, v in event.items()})
        _, literals = _compiled(q.binding_by_id)
        return _run(pool, _unbind_sql(), {**literals, **params})
    row = load(binding_id)
    if proceed and row is not None and row.client_id == event["client_id"] and row.status in live:
        record_request({**event, "binding_id": row.id, "params": unbind_params(row)})
    return row


def record_request(event: dict[str, Any]) -> None:
    """The write-ahead event of a change to an existing binding."""
    if pool := _statements():
        sql, literals = _compiled(INSERT_EVENT)
        _run(pool, sql, {**literals, **event, "params": Jsonb(event["params"])})
        return
    with db.engine.begin() as conn:
        conn.execute(q.insert_event, event)


def write_ahead(binding: dict[str, Any], event: dict[str, Any]) -> None:
    """The pending binding and its `requested` event, committed together."""
    if pool := _statements():
        params = {**binding, **{f"event_{k}": v for k, v in event.items()}}
        params["event_params"] = Jsonb(event["params"])
        _run(pool, WRITE_AHEAD, params)
        return
    with db.engine.begin() as conn:
        conn.execute(q.insert_binding, binding)
        conn.execute(q.insert_event, event)


def record_outcome(
    binding_id: uuid.UUID, owner: str, changes: dict[str, Any], events: list[dict[str, Any]]
) -> Any:
    """The binding's new state and the events that explain it, committed together;
    returns the binding as the API shows it."""
    changed = tuple(sorted(changes))
    if not UPDATABLE.issuperset(changed):
        raise ValueError(f"not updatable: {set(changed) - UPDATABLE}")
    if pool := _statements():
        # Each event's binding_id is left in its JSON: the record type of `_outcome_sql`
        # does not name it, so PostgreSQL takes the binding's id from the UPDATE instead.
        params = {**changes, "binding_id": binding_id, "owner": owner}
        params["events"] = Jsonb(events, dumps=history.encode_json)
        return _run(pool, _outcome_sql(changed), params)
    with db.engine.begin() as conn:
        row = conn.execute(
            q.update_binding(owner, **changes), {"binding_id": binding_id, "now": q.now()}
        ).one()
        if events:
            conn.execute(q.insert_event, events)
    return row
